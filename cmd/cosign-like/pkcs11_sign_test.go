package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// TestHSMKeySignsBlobAndImage signs a blob and an image with a key that stays on a SoftHSM2
// token and verifies both with the public key exported at creation.
func TestHSMKeySignsBlobAndImage(t *testing.T) {
	newCLISoftHSM(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	uri := "pkcs11:token=signing;object=release?module-path=" + cliSoftHSMModule + "&pin-value=1234"
	if _, _, err := runKeysCmd(t, "generate-key-pair", "--kms", uri, "--output-key-prefix", prefix); err != nil {
		t.Fatal(err)
	}
	signAndVerifyBlobAndImage(t, dir, uri, prefix+".pub")
}

// TestPluginKeySignsBlobAndImage does the same through the KMS plugin protocol, with the
// sigstore-kms-filekey plugin built from this repository and put on PATH.
func TestPluginKeySignsBlobAndImage(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("COSIGN_LIKE_REQUIRE_ALL") != "" {
			t.Fatal("the go tool is needed to build the plugin: ", err)
		}
		t.Skip("go tool not on PATH")
	}
	binDir := t.TempDir()
	build := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "sigstore-kms-filekey"), "github.com/cosign-like/cosign-like/cmd/sigstore-kms-filekey")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(passwordEnv, "")
	if err := os.Unsetenv(passwordEnv); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ref := "filekey://" + filepath.Join(dir, "kms-key.pem")
	prefix := filepath.Join(dir, "kms")
	if _, _, err := runKeysCmd(t, "generate-key-pair", "--kms", ref, "--output-key-prefix", prefix); err != nil {
		t.Fatal(err)
	}
	out, _, err := runKeysCmd(t, "public-key", "--key", ref)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(prefix + ".pub"); out != string(want) {
		t.Fatalf("public-key through the plugin printed %q, want %q", out, want)
	}
	signAndVerifyBlobAndImage(t, dir, ref, prefix+".pub")
}

func signAndVerifyBlobAndImage(t *testing.T, dir, keyRef, pubPath string) {
	t.Helper()
	blob := filepath.Join(dir, "app.tar.gz")
	if err := os.WriteFile(blob, []byte("release artifact"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "app.sigstore.json")
	if _, stderr, err := runKeysCmd(t, "sign-blob", "--key", keyRef, "--tlog-upload=false", "--bundle", bundle, blob); err != nil {
		t.Fatalf("sign-blob: %v\n%s", err, stderr)
	}
	if _, stderr, err := runKeysCmd(t, "verify-blob", "--key", pubPath, "--insecure-ignore-tlog", "--bundle", bundle, blob); err != nil {
		t.Fatalf("verify-blob: %v\n%s", err, stderr)
	}
	// A changed blob does not verify.
	if err := os.WriteFile(blob, []byte("tampered artifact"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runKeysCmd(t, "verify-blob", "--key", pubPath, "--insecure-ignore-tlog", "--bundle", bundle, blob); err == nil {
		t.Fatal("verify-blob accepted a tampered blob")
	}

	host, _ := testutil.NewRegistry(t)
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host+"/hsm/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/hsm/app@" + digest.String()
	if _, stderr, err := runKeysCmd(t, "sign", "--key", keyRef, "--tlog-upload=false", "--allow-http-registry", ref); err != nil {
		t.Fatalf("sign: %v\n%s", err, stderr)
	}
	out, stderr, err := runKeysCmd(t, "verify", "--key", pubPath, "--insecure-ignore-tlog", "--allow-http-registry", ref)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, digest.String()) {
		t.Fatalf("verify printed %q, want the digest", out)
	}
}

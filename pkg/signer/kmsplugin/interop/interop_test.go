package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

// buildOnPath builds the package into dir as the named executable and puts dir first on PATH.
func buildOnPath(t *testing.T, dir, exe, pkg string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go tool not on PATH: ", err)
	}
	if out, err := exec.Command(goTool, "build", "-o", filepath.Join(dir, exe), pkg).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestSigstoreClientDrivesOurPlugin runs sigstore's own plugin client against sigstore-kms-filekey.
func TestSigstoreClientDrivesOurPlugin(t *testing.T) {
	dir := t.TempDir()
	buildOnPath(t, dir, "sigstore-kms-filekey", "github.com/cosign-like/cosign-like/cmd/sigstore-kms-filekey")
	t.Setenv("COSIGN_PASSWORD", "")
	os.Unsetenv("COSIGN_PASSWORD")
	ctx := context.Background()
	sv, err := cliplugin.LoadSignerVerifier(ctx, "filekey://"+filepath.Join(dir, "key.pem"), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got := sv.DefaultAlgorithm(); got != "ecdsa-p256" {
		t.Fatalf("DefaultAlgorithm = %q", got)
	}
	created, err := sv.CreateKey(ctx, "ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if !created.(*ecdsa.PublicKey).Equal(pub) {
		t.Fatal("PublicKey differs from the created key")
	}
	msg := []byte("artifact")
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("signature over the message (stdin) does not verify")
	}
	if err := sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Fatalf("plugin VerifySignature: %v", err)
	}
	// The digest path, which is how cosign signs through plugins.
	sig, err = sv.SignMessage(bytes.NewReader(nil), options.WithDigest(digest[:]), options.WithCryptoSignerOpts(crypto.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("signature over the digest does not verify")
	}
	if err := sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("other"))); err == nil {
		t.Fatal("plugin verified a signature over another message")
	}
}

// TestOurClientDrivesSigstorePlugin runs cosign-like's plugin client against a plugin built on
// sigstore's handler package.
func TestOurClientDrivesSigstorePlugin(t *testing.T) {
	dir := t.TempDir()
	buildOnPath(t, dir, "sigstore-kms-sigref", "github.com/cosign-like/cosign-like/pkg/signer/kmsplugin/interop/sigstoreplugin")
	ctx := context.Background()
	ref := "sigref://" + filepath.Join(dir, "key.pem")
	created, err := signer.CreateKey(ctx, ref, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.LoadSigner(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !created.(*ecdsa.PublicKey).Equal(s.Public()) {
		t.Fatal("loaded key differs from the created key")
	}
	digest := sha256.Sum256([]byte("image manifest"))
	sig, err := s.SignDigest(ctx, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.VerifyDigest(created, digest[:], sig); err != nil {
		t.Fatal(err)
	}
}

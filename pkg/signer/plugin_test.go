package signer

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// pluginDir builds sigstore-kms-filekey into a temporary directory put first on PATH, and
// returns that directory (tests add script plugins to it too).
func pluginDir(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if testutil.RequireAll() {
			t.Fatal("the go tool is needed to build the plugin: ", err)
		}
		t.Skip("go tool not on PATH: ", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, "sigstore-kms-filekey"), "github.com/cosign-like/cosign-like/cmd/sigstore-kms-filekey")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// writeScriptPlugin installs a shell script as sigstore-kms-<name> in dir.
func writeScriptPlugin(t *testing.T, dir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "sigstore-kms-"+name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestPluginFileKeyEndToEnd(t *testing.T) {
	dir := pluginDir(t)
	ctx := context.Background()
	tests := []struct {
		alg, password string
	}{
		{"", ""},
		{"ed25519", ""},
		{"rsa-2048", ""},
		{"ecdsa-p384", "plugin-pw"},
	}
	for _, tc := range tests {
		t.Run("alg="+tc.alg+",pw="+tc.password, func(t *testing.T) {
			if tc.password != "" {
				t.Setenv("COSIGN_PASSWORD", tc.password)
			} else {
				t.Setenv("COSIGN_PASSWORD", "")
				os.Unsetenv("COSIGN_PASSWORD")
			}
			keyPath := filepath.Join(dir, "key-"+tc.alg+".pem")
			ref := "filekey://" + keyPath
			pub, err := CreateKey(ctx, ref, tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, %v", fi, err)
			}
			s, err := LoadSigner(ctx, ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("plugin signer's key differs from the created key")
			}
			digest := digestOf(s.HashFunc(), []byte("blob"))
			sig, err := s.SignDigest(ctx, digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyDigest(pub, digest, sig); err != nil {
				t.Fatal(err)
			}
			got, err := LoadPublicKey(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("LoadPublicKey differs")
			}
			// The plugin never replaces an existing key file.
			if _, err := CreateKey(ctx, ref, tc.alg); !errors.Is(err, ErrPlugin) || !strings.Contains(err.Error(), "file exists") {
				t.Fatalf("second CreateKey: err = %v", err)
			}
		})
	}

	// A certificate signed through the plugin (AsCryptoSigner on a digest-only signer).
	s, err := LoadSigner(ctx, "filekey://"+filepath.Join(dir, "key-.pem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "plugin CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), AsCryptoSigner(s))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Fatal(err)
	}
	// The plugin's own errors reach the caller.
	_, err = LoadSigner(ctx, "filekey://"+filepath.Join(dir, "missing.pem"), nil)
	if !errors.Is(err, ErrPlugin) || !strings.Contains(err.Error(), "missing.pem: no such file or directory") {
		t.Fatalf("missing key file: err = %v", err)
	}
}

func TestPluginMisbehaviour(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx := context.Background()

	// A plugin answering publicKey correctly but signing with garbage.
	other, err := GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := MarshalPublicKeyPEM(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemB64 := base64.StdEncoding.EncodeToString(pubPEM)
	writeScriptPlugin(t, dir, "badsig", `[ "$1" = v1 ] || { echo '{"errorMessage":"bad protocol version"}'; exit 1; }
case "$2" in
*'"methodName":"publicKey"'*) printf '{"publicKey":{"publicKeyPEM":"%s"}}' "`+pemB64+`" ;;
*) printf '{"signMessage":{"signature":"MEUCIQ=="}}' ;;
esac
`)
	writeScriptPlugin(t, dir, "exit3", "echo boom >&2\nexit 3\n")
	writeScriptPlugin(t, dir, "garbage", "echo 'this is not json'\n")
	writeScriptPlugin(t, dir, "hang", "exec sleep 30\n")
	writeScriptPlugin(t, dir, "errmsg", `echo '{"errorMessage":"key vault sealed"}'; exit 1`+"\n")
	writeScriptPlugin(t, dir, "flood", "head -c 2000000 /dev/zero\n")
	writeScriptPlugin(t, dir, "nokey", "echo '{}'\n")

	tests := []struct {
		name, ref string
		opts      []Option
		want      string
	}{
		{"not on PATH", "nosuch://key", nil, "no provider for nosuch:// keys: sigstore-kms-nosuch not found on PATH"},
		{"exits non-zero", "exit3://key", nil, "exited with status 3 (stderr: boom)"},
		{"prints garbage", "garbage://key", nil, "printed a response that is not JSON"},
		{"hangs", "hang://key", []Option{WithPluginTimeout(300 * time.Millisecond)}, "did not answer within 300ms"},
		{"error message", "errmsg://key", nil, "(publicKey errmsg://key): key vault sealed"},
		{"floods stdout", "flood://key", nil, "printed more than 1048576 bytes"},
		{"answers nothing", "nokey://key", nil, "answered publicKey without a public key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := LoadSigner(ctx, tc.ref, nil, tc.opts...)
			if !errors.Is(err, ErrPlugin) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("failure took %s", d)
			}
		})
	}

	s, err := LoadSigner(ctx, "badsig://key", nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := digestOf(s.HashFunc(), []byte("x"))
	_, err = s.SignDigest(ctx, digest)
	if !errors.Is(err, ErrPlugin) || !strings.Contains(err.Error(), "returned a signature that does not verify with its public key") {
		t.Fatalf("bad signature: err = %v", err)
	}
	// The caller's own deadline also stops a plugin.
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := LoadSigner(cctx, "hang://key", nil); !errors.Is(err, ErrPlugin) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("caller deadline: err = %v", err)
	}
}

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

const cliSoftHSMModule = testutil.SoftHSMModule

// newCLISoftHSM initialises a SoftHSM2 store in a temporary directory with a token "signing"
// (PIN 1234) and points SOFTHSM2_CONF at it. It fails instead of skipping when CI or
// COSIGN_LIKE_REQUIRE_ALL is set.
func newCLISoftHSM(t *testing.T) {
	t.Helper()
	testutil.NewSoftHSMToken(t, "signing", "1234", signer.ClosePKCS11)
	t.Setenv(signer.EnvPKCS11PIN, "")
	t.Setenv(signer.EnvPKCS11ModulePath, "")
}

func TestPKCS11CLI(t *testing.T) {
	newCLISoftHSM(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	uri := "pkcs11:token=signing;object=release?module-path=" + cliSoftHSMModule + "&pin-value=1234"

	_, stderr, err := runKeysCmd(t, "generate-key-pair", "--kms", uri, "--output-key-prefix", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "Key created: pkcs11:token=signing;object=release?module-path=") || strings.Contains(stderr, "1234") {
		t.Fatalf("stderr = %q (must name the key, never the PIN)", stderr)
	}
	if _, err := os.Stat(prefix + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a private key file was written for a token key")
	}
	pubPEM, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}

	// public-key on the token key prints the PEM written at creation; --pin replaces pin-value.
	noPIN := "pkcs11:token=signing;object=release?module-path=" + cliSoftHSMModule
	out, _, err := runKeysCmd(t, "public-key", "--key", noPIN, "--pin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(pubPEM) {
		t.Fatalf("public-key printed %q, want %q", out, pubPEM)
	}

	// A signature made on the token verifies with the exported public key.
	s, err := signer.LoadSigner(context.Background(), uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signer.ParsePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	sig, err := s.SignDigest(context.Background(), digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.VerifyDigest(pub, digest, sig); err != nil {
		t.Fatal(err)
	}

	out, _, err = runKeysCmd(t, "pkcs11-tool", "list-tokens", "--module-path", cliSoftHSMModule)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Listing tokens of PKCS11 module '"+cliSoftHSMModule+"'") || !strings.Contains(out, "\tLabel: signing\n") {
		t.Fatalf("list-tokens printed %q", out)
	}
	out, _, err = runKeysCmd(t, "pkcs11-tool", "list-keys-uris", "--module-path", cliSoftHSMModule, "--token-label", "signing", "--pin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\tLabel: release\n") || !strings.Contains(out, "\tURI: pkcs11:token=signing;id=%") || strings.Contains(out, "pin-value") {
		t.Fatalf("list-keys-uris printed %q", out)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"again", []string{"generate-key-pair", "--kms", uri, "--output-key-prefix", filepath.Join(dir, "other")}, `key "release" already exists on token "signing"`},
		{"wrong PIN", []string{"public-key", "--key", noPIN, "--pin", "0000"}, `token "signing": PIN incorrect`},
		{"missing object", []string{"public-key", "--key", strings.Replace(uri, "object=release", "object=nope", 1)}, `no key "nope" on token "signing"`},
		{"missing token", []string{"public-key", "--key", strings.Replace(uri, "token=signing", "token=gone", 1)}, `no token "gone" in PKCS#11 module`},
		{"no module", []string{"pkcs11-tool", "list-tokens"}, "--module-path is required"},
		{"no token", []string{"pkcs11-tool", "list-keys-uris", "--module-path", cliSoftHSMModule}, "--slot-id or --token-label is required"},
		{"pub exists", []string{"generate-key-pair", "--kms", uri, "--output-key-prefix", prefix}, "release.pub already exists: pass --yes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runKeysCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

// runKeysCmd executes the root command in-process with args and returns stdout, stderr and the error.
func runKeysCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader("")) // not a terminal
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

// unsetCosignPassword removes COSIGN_PASSWORD for the test (restored afterwards).
func unsetCosignPassword(t *testing.T) {
	t.Helper()
	t.Setenv(passwordEnv, "")
	if err := os.Unsetenv(passwordEnv); err != nil {
		t.Fatal(err)
	}
}

func keyFileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestGenerateKeyPairCLI(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	t.Setenv(passwordEnv, "s3cret")
	_, stderr, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "Private key written to "+prefix+".key") || !strings.Contains(stderr, "Public key written to "+prefix+".pub") {
		t.Fatalf("stderr = %q", stderr)
	}
	if m := keyFileMode(t, prefix+".key"); m != 0o600 {
		t.Fatalf("key mode %o, want 600", m)
	}
	if m := keyFileMode(t, prefix+".pub"); m != 0o644 {
		t.Fatalf("pub mode %o, want 644", m)
	}
	keyPEM, err := os.ReadFile(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(keyPEM), "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") {
		t.Fatalf("key file starts %q", keyPEM[:40])
	}
	s, err := signer.LoadEncryptedPrivateKey(keyPEM, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signer.LoadPublicKey(context.Background(), prefix+".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Public().(*ecdsa.PublicKey).Equal(pub) {
		t.Fatal("cosign.pub does not hold the key's public key")
	}

	// public-key prints the same PEM, from the private key (with password) and from the .pub.
	wantPEM, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{prefix + ".key", prefix + ".pub"} {
		out, _, err := runKeysCmd(t, "public-key", "--key", ref)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(wantPEM) {
			t.Fatalf("public-key --key %s printed %q, want %q", ref, out, wantPEM)
		}
	}
	outFile := filepath.Join(dir, "out.pub")
	if _, _, err := runKeysCmd(t, "public-key", "--key", prefix+".key", "--outfile", outFile); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(outFile); !bytes.Equal(got, wantPEM) {
		t.Fatalf("--outfile wrote %q", got)
	}

	// Existing files are not replaced unless --yes is given.
	_, _, err = runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix)
	if err == nil || !strings.Contains(err.Error(), prefix+".key already exists: pass --yes to overwrite it") {
		t.Fatalf("overwrite without --yes: err = %v", err)
	}
	if after, _ := os.ReadFile(prefix + ".key"); !bytes.Equal(after, keyPEM) {
		t.Fatal("key file changed although overwriting was refused")
	}
	if _, _, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix, "-y"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(prefix + ".key"); bytes.Equal(after, keyPEM) {
		t.Fatal("key file not replaced with --yes")
	}

	// A wrong password is reported as such.
	t.Setenv(passwordEnv, "wrong")
	_, _, err = runKeysCmd(t, "public-key", "--key", prefix+".key")
	if !errors.Is(err, signer.ErrWrongPassword) || !strings.Contains(err.Error(), "decrypting private key: wrong password?") {
		t.Fatalf("wrong password: err = %v", err)
	}
}

func TestGenerateKeyPairAlgorithms(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(passwordEnv, "") // set but empty: the empty password, as in cosign
	tests := []struct {
		alg  string
		want string // error substring, empty for success
	}{
		{"ed25519", ""},
		{"ecdsa-sha2-384-nistp384", ""},
		{"rsa-2048", ""},
		{"dsa", `key algorithm "dsa"`},
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			prefix := filepath.Join(dir, tc.alg)
			_, _, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix, "--signing-algorithm", tc.alg)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if _, statErr := os.Stat(prefix + ".key"); !errors.Is(statErr, os.ErrNotExist) {
					t.Fatal("key file written although generation failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := signer.LoadSigner(context.Background(), prefix+".key", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := signer.AlgorithmFor(s.Public()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGenerateKeyPairNeedsPassword(t *testing.T) {
	dir := t.TempDir()
	unsetCosignPassword(t)
	prefix := filepath.Join(dir, "cosign")
	_, _, err := runKeysCmd(t, "generate-key-pair", "--output-key-prefix", prefix)
	if err == nil || !strings.Contains(err.Error(), "no password: set COSIGN_PASSWORD or run in a terminal") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(prefix + ".key"); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("key file written without a password")
	}
}

func TestImportKeyPairCLI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(passwordEnv, "imp")
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pemType string
		der     []byte
		pub     crypto.PublicKey
		want    string
	}{
		{"sec1", "EC PRIVATE KEY", sec1, ec.Public(), ""},
		{"pkcs1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), rsaKey.Public(), ""},
		{"ed25519", "PRIVATE KEY", edDER, edKey.Public(), ""},
		{"rsa1024", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), nil, "RSA key of 1024 bits is too small: at least 2048 required"},
		{"garbage", "PRIVATE KEY", []byte("garbage"), nil, "parsing PRIVATE KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, tc.name+".pem")
			if err := os.WriteFile(in, pem.EncodeToMemory(&pem.Block{Type: tc.pemType, Bytes: tc.der}), 0o600); err != nil {
				t.Fatal(err)
			}
			prefix := filepath.Join(dir, "import-"+tc.name)
			_, _, err := runKeysCmd(t, "import-key-pair", "--key", in, "--output-key-prefix", prefix)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), in) {
					t.Fatalf("err = %v, want %q naming the file", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := signer.LoadSigner(context.Background(), prefix+".key", func(bool) ([]byte, error) { return []byte("imp"), nil })
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.pub) {
				t.Fatal("imported key differs")
			}
			pub, err := signer.LoadPublicKey(context.Background(), prefix+".pub")
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal(".pub differs from the imported key")
			}
		})
	}
	if _, _, err := runKeysCmd(t, "import-key-pair"); err == nil || !strings.Contains(err.Error(), "--key is required") {
		t.Fatalf("missing --key: err = %v", err)
	}
	if _, _, err := runKeysCmd(t, "import-key-pair", "--key", filepath.Join(dir, "absent.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("absent file: err = %v", err)
	}
}

func TestPublicKeyCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pub")
	if err := os.WriteFile(bad, []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"public-key"}, "--key is required"},
		{"malformed", []string{"public-key", "--key", bad}, "no PEM block found"},
		{"missing", []string{"public-key", "--key", filepath.Join(dir, "none.pub")}, "no such file"},
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

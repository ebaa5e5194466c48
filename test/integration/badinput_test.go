package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInput(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	c := newCLI(t)
	img := testutil.PushRandomImage(t, host, "it/bad").String()
	c.ok("generate-key-pair")

	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, c.dir, "rsa1024.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsa1024)})))
	writeFile(t, c.dir, "garbage.sigstore.json", `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": `)
	writeFile(t, c.dir, "unknown.sigstore.json", `{"mediaType": "application/vnd.dev.sigstore.bundle.v9.9+json"}`)
	writeFile(t, c.dir, "blob.txt", "x")

	cases := []struct {
		name string
		want string
		args []string
	}{
		{"malformed reference", "image reference", []string{"sign", "--key", "cosign.key", "--tlog-upload=false", "not a/valid ref!"}},
		{"keyless without a timestamp authority", "keyless signing needs a timestamp authority", []string{"sign", "--tlog-upload=false", img}},
		{"keyless without a token", "identity token", []string{"sign", "--tlog-upload=false", "--timestamp-server-url", "http://127.0.0.1:1/api/v1/timestamp", "--fulcio-url", "http://127.0.0.1:1", img}},
		{"missing key file", "no such file", []string{"sign", "--key", "missing.key", "--tlog-upload=false", img}},
		{"no log configured", "no transparency log configured", []string{"sign", "--key", "cosign.key", img}},
		{"bad annotation", "want key=value", []string{"sign", "--key", "cosign.key", "--tlog-upload=false", "-a", "novalue", img}},
		{"bad referrers mode", "registry-referrers-mode", []string{"sign", "--key", "cosign.key", "--tlog-upload=false", "--registry-referrers-mode", "sideways", img}},
		{"rsa 1024 import", "too small", []string{"import-key-pair", "--key", "rsa1024.pem"}},
		{"truncated bundle", "bundle", []string{"verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog", "--bundle", "garbage.sigstore.json", "blob.txt"}},
		{"unknown bundle media type", "media type", []string{"verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog", "--bundle", "unknown.sigstore.json", "blob.txt"}},
		{"bad output format", "--output", []string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "-o", "yaml", img}},
		{"bad clean type", "--type", []string{"clean", "-f", "--type", "everything", img}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.with(t).fails(tc.want, tc.args...)
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		w := &cli{t: t, dir: c.dir, env: []string{"COSIGN_PASSWORD=not-the-password"}}
		w.fails("password", "sign", "--key", "cosign.key", "--tlog-upload=false", img)
	})
	t.Run("failed sign leaves nothing attached", func(t *testing.T) {
		tree := c.with(t).ok("tree", img).stdout
		if want := "(nothing attached)"; !strings.Contains(tree, want) {
			t.Fatalf("after failed signs, tree shows:\n%s", tree)
		}
	})
}

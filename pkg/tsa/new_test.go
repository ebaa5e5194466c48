package tsa

import (
	"context"
	"crypto"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
)

// New makes a TSA of a key and chain handed to it, and refuses a key its certificate does not
// name.
func TestNewOnInjectedKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := Init(ctx, dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	key, err := pki.ReadPrivateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := pki.GenerateP256()
	if _, err := New(ctx, Config{Key: other, Chain: chain}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("New with another key: %v", err)
	}
	if _, err := New(ctx, Config{Key: key}); err == nil {
		t.Fatal("New without a chain succeeded")
	}
	a, err := New(ctx, Config{Key: key, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	sum := sha256.Sum256([]byte("signature"))
	der, err := a.Respond(mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:]}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := timestamp.ParseResponse(der); err != nil {
		t.Fatalf("response: %v", err)
	}
}

package tsa

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TestSigningKeyOnPKCS11Token: a TSA whose key was created in, and signs from, a SoftHSM token.
func TestSigningKeyOnPKCS11Token(t *testing.T) {
	// PKCS#11 modules stay open per process: start from, and leave, none open, since this test
	// points SoftHSM at a token store of its own.
	module := testutil.NewSoftHSMToken(t, "tsa-test", "1234", signer.ClosePKCS11)
	ctx := context.Background()
	dir := t.TempDir()
	uri := "pkcs11:token=tsa-test;object=tsa-signing?module-path=" + module
	if err := Init(ctx, dir, InitOptions{KMS: uri, SignerOptions: []signer.Option{signer.WithPKCS11PIN("1234")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written for a token-held TSA key: %v", err)
	}
	if err := Init(ctx, dir, InitOptions{}); !errors.Is(err, ErrStateExists) {
		t.Fatalf("second Init: err = %v, want ErrStateExists", err)
	}

	if _, err := Open(ctx, dir, Options{SignerOptions: []signer.Option{signer.WithPKCS11PIN("4321")}}); err == nil || !strings.Contains(err.Error(), "PIN incorrect") {
		t.Fatalf("wrong PIN: err = %v", err)
	}
	a, err := Open(ctx, dir, Options{SignerOptions: []signer.Option{signer.WithPKCS11PIN("1234")}})
	if err != nil {
		t.Fatal(err)
	}
	base := testutil.StartServer(t, func(string) (*Server, error) { return a, nil }).URL
	sig := []byte("a signature to timestamp")
	der, err := Timestamp(ctx, base+TimestampPath, sig)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(der)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(sig)
	if string(ts.HashedMessage) != string(want[:]) {
		t.Fatal("timestamp covers another digest")
	}
	// ParseResponse checked the signature under the embedded certificate: it must be the TSA's.
	if len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(a.Chain()[0]) {
		t.Fatal("the timestamp is not signed with the TSA's certificate")
	}
}

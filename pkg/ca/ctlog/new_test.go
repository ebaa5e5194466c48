package ctlog

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/tessera/storage/posix"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
)

// New runs a log on a key and storage it is handed, with no state directory.
func TestNewOnInjectedKeyAndStorage(t *testing.T) {
	ctx := context.Background()
	storeDir := t.TempDir()
	driver, err := posix.New(ctx, posix.Config{Path: storeDir})
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := New(ctx, Config{Key: p384, Origin: "ct.test", Storage: driver, Tiles: http.Dir(storeDir)}); err == nil || !strings.Contains(err.Error(), "P-256 required") {
		t.Fatalf("New with a P-384 key: %v", err)
	}
	key, _ := pki.GenerateP256()
	if _, err := New(ctx, Config{Key: key, Origin: "ct.test"}); err == nil {
		t.Fatal("New without storage succeeded")
	}
	l, err := New(ctx, Config{Key: key, Origin: "ct.test", Storage: driver, Tiles: http.Dir(storeDir)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(l.Handler())
	defer ts.Close()
	pk := newPKI(t)
	if _, err := Submit(ctx, http.DefaultClient, ts.URL, [][]byte{pk.leaf(t, false, time.Now().Add(-time.Minute)), pk.inter.Raw, pk.root.Raw}, false); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(ts.URL + "/checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.HasPrefix(string(body), "ct.test\n1\n") {
			if size, _, err := VerifyCheckpoint(body, "ct.test", key.Public()); err != nil || size != 1 {
				t.Fatalf("checkpoint: size %d, %v", size, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size 1: %d %q", resp.StatusCode, body)
		}
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

package ctlog

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// TestAWSStorage runs a CT log on MariaDB and an S3-compatible object store: its SCTs verify,
// and the checkpoint and tiles it serves from the bucket hold exactly the entries it signed.
func TestAWSStorage(t *testing.T) {
	m := testutil.StartMariaDB(t)
	o := testutil.StartObjectStore(t)
	o.SetEnv(t)
	spec := storage.AWSSpec{DSN: m.CreateDatabase(t, "ct"), Bucket: o.Bucket, Endpoint: o.Endpoint,
		Region: o.Region, PathStyle: true}.String()
	p := newPKI(t)
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://ct.test", RootsPEM: pki.EncodeCertificates([]*x509.Certificate{p.root})}); err != nil {
		t.Fatal(err)
	}
	served := testutil.StartServer(t, func(string) (*Server, error) {
		return Open(context.Background(), dir, Options{Storage: spec})
	})
	l, base := served.Server, served.URL
	v, _ := ct.NewSignatureVerifier(l.PublicKey())
	now := time.Now().Add(-time.Minute)

	// Each submission's SCT verifies; its leaf, with the leaf index the SCT carries, is what
	// the tiles must hold.
	var leafHashes [][]byte
	for i, precert := range []bool{true, false, true} {
		der := p.leaf(t, precert, now)
		sct, err := Submit(context.Background(), http.DefaultClient, base, [][]byte{der, p.inter.Raw, p.root.Raw}, precert)
		if err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
		leaf := p.merkleLeaf(t, der, precert, sct.Timestamp)
		if err := v.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *leaf}); err != nil {
			t.Fatalf("SCT %d does not verify: %v", i, err)
		}
		leaf.TimestampedEntry.Extensions = sct.Extensions
		raw, err := cttls.Marshal(*leaf)
		if err != nil {
			t.Fatal(err)
		}
		leafHashes = append(leafHashes, rfc6962.DefaultHasher.HashLeaf(raw))
	}

	// The served checkpoint reaches size 3 and its root is the tree of the served tile.
	var root [32]byte
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, status := get(t, base+"/checkpoint")
		if status == http.StatusOK {
			size, r, err := VerifyCheckpoint(cp, "ct.test", l.PublicKey())
			if err != nil {
				t.Fatalf("served checkpoint %q: %v", cp, err)
			}
			if size == 3 {
				root = r
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size 3 served: %d %q", status, cp)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tile, status := get(t, base+"/tile/0/000.p/3")
	if status != http.StatusOK || len(tile) != 3*32 {
		t.Fatalf("GET /tile/0/000.p/3: %d, %d bytes", status, len(tile))
	}
	for i, h := range leafHashes {
		if !bytes.Equal(tile[32*i:32*(i+1)], h) {
			t.Fatalf("tile hash %d is %x, the signed leaf's is %x", i, tile[32*i:32*(i+1)], h)
		}
	}
	h := rfc6962.DefaultHasher
	want := h.HashChildren(h.HashChildren(leafHashes[0], leafHashes[1]), leafHashes[2])
	if !bytes.Equal(root[:], want) {
		t.Fatalf("checkpoint root %x, tile's tree %x", root, want)
	}
	if b, status := get(t, base+"/tile/data/000.p/3"); status != http.StatusOK || len(b) == 0 {
		t.Fatalf("GET /tile/data/000.p/3: %d, %d bytes", status, len(b))
	}
	if b, status := get(t, base+"/tile/0/001"); status != http.StatusNotFound {
		t.Fatalf("GET of a tile not written: %d %q, want 404", status, b)
	}
}

// TestStorageSpecErrors: Open refuses a malformed storage, naming what is wrong, before anything
// is dialled.
func TestStorageSpecErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://ct.test"}); err != nil {
		t.Fatal(err)
	}
	const db = "db=root%40tcp%28127.0.0.1%3A3306%29%2Fct"
	for _, tc := range []struct{ spec, want string }{
		{"s3://bucket", `unknown storage "s3://bucket"`},
		{"aws://bucket", "want aws://?db=...&bucket=..."},
		{"aws://?bucket=b", "db= (a MySQL DSN) and bucket= are required"},
		{"aws://?db=not-a-dsn&bucket=b", "db=:"},
		{"aws://?" + db + "&bucket=b&endpoint=ftp://x", "endpoint= must be an http(s) URL"},
		{"aws://?" + db + "&bucket=b&path-style=maybe", "path-style=:"},
		{"aws://?" + db + "&bucket=b&colour=blue", `unknown parameter "colour"`},
	} {
		if l, err := Open(context.Background(), dir, Options{Storage: tc.spec}); err == nil || !strings.Contains(err.Error(), tc.want) {
			if l != nil {
				_ = l.Close(context.Background())
			}
			t.Errorf("Open with %s: got %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}

// get fetches url, returning its body and status.
func get(t *testing.T, url string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(fmt.Errorf("GET %s: %w", url, err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp.StatusCode
}

package ctlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	"github.com/transparency-dev/tessera/ctonly"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
)

// A chain submitted again is answered with the first entry's SCT (its timestamp and leaf
// index), which verifies against the leaf in the tree, and nothing is logged again: the next
// new certificate gets the next index.
func TestResubmissionGetsTheFirstSCT(t *testing.T) {
	p := newPKI(t)
	l, base, _ := startLog(t, InitOptions{URL: "http://ct.test", RootsPEM: pki.EncodeCertificates([]*x509.Certificate{p.root})})
	v, err := ct.NewSignatureVerifier(l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Now().Add(-time.Minute)
	ctx := context.Background()
	for i, precert := range []bool{true, false} {
		der := p.leaf(t, precert, notBefore)
		chain := [][]byte{der, p.inter.Raw, p.root.Raw}
		first, err := Submit(ctx, http.DefaultClient, base, chain, precert)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // a new entry would have a later timestamp
		again, err := Submit(ctx, http.DefaultClient, base, chain[:2], precert)
		if err != nil {
			t.Fatalf("resubmission: %v", err)
		}
		if again.Timestamp != first.Timestamp || !bytes.Equal(again.Extensions, first.Extensions) {
			t.Fatalf("resubmission: SCT at %d with extensions %x; the first is at %d with %x", again.Timestamp, again.Extensions, first.Timestamp, first.Extensions)
		}
		if want := []byte{0, 0, 5, 0, 0, 0, 0, byte(i)}; len(first.Extensions) != 8 || !bytes.Equal(first.Extensions[:3], want[:3]) || first.Extensions[7] != byte(i) {
			t.Fatalf("entry %d: SCT extensions %x, want leaf_index %d", i, first.Extensions, i)
		}
		if err := v.VerifySCTSignature(*again, ct.LogEntry{Leaf: *p.merkleLeaf(t, der, precert, first.Timestamp)}); err != nil {
			t.Fatalf("the resubmission's SCT does not verify for the logged leaf: %v", err)
		}
	}
	next, err := Submit(ctx, http.DefaultClient, base, [][]byte{p.leaf(t, false, notBefore), p.inter.Raw}, false)
	if err != nil {
		t.Fatal(err)
	}
	if next.Extensions[7] != 2 {
		t.Fatalf("a new certificate after two resubmissions got extensions %x, want leaf_index 2", next.Extensions)
	}
}

// parseDataTile reads what ctonly writes, and names what is wrong with a tile cut short.
func TestParseDataTile(t *testing.T) {
	x509Entry := ctonly.Entry{Timestamp: 1700000000001, Certificate: []byte("a certificate"), FingerprintsChain: [][32]byte{{1}, {2}}}
	precert := ctonly.Entry{Timestamp: 1700000000002, IsPrecert: true, Certificate: []byte("a TBS"), Precertificate: []byte("a precertificate"),
		IssuerKeyHash: make([]byte, 32), FingerprintsChain: [][32]byte{{3}}}
	first := x509Entry.LeafData(7)
	tile := append(append([]byte(nil), first...), precert.LeafData(8)...)
	got, err := parseDataTile(tile)
	if err != nil {
		t.Fatal(err)
	}
	want := []loggedEntry{
		{timestamp: 1700000000001, identity: sha256.Sum256([]byte("a certificate"))},
		{timestamp: 1700000000002, identity: sha256.Sum256([]byte("a precertificate"))},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("parsed %+v, want %+v", got, want)
	}
	for cut := 1; cut < len(tile); cut++ {
		entries, err := parseDataTile(tile[:cut])
		switch {
		case cut == len(first):
			if err != nil || len(entries) != 1 {
				t.Fatalf("a tile of the first entry: %v, %v", entries, err)
			}
		case !errors.Is(err, errDataTile):
			t.Fatalf("a tile cut at %d of %d: %v, %v; want errDataTile", cut, len(tile), entries, err)
		}
	}
	if _, err := parseDataTile(append([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 9}, first[10:]...)); !errors.Is(err, errDataTile) {
		t.Fatalf("entry type 9: %v", err)
	}
}

// parseDataTile never panics, and what it accepts is at most one bundle of entries.
func FuzzParseDataTile(f *testing.F) {
	e := ctonly.Entry{Timestamp: 1, IsPrecert: true, Certificate: []byte("tbs"), Precertificate: []byte("pre"), IssuerKeyHash: make([]byte, 32)}
	f.Add(e.LeafData(0))
	f.Add((&ctonly.Entry{Timestamp: 2, Certificate: []byte("cert")}).LeafData(1))
	f.Fuzz(func(t *testing.T, tile []byte) {
		entries, err := parseDataTile(tile)
		if err == nil && len(entries) > 256 {
			t.Fatalf("%d entries accepted", len(entries))
		}
	})
}

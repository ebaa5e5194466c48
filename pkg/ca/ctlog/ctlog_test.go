package ctlog

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/root"
)

type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey *ecdsa.PrivateKey
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{}
	var err error
	p.rootKey, _ = pki.GenerateP256()
	p.root, err = pki.NewCA(pki.CAOptions{Subject: pkix.Name{CommonName: "root"}, Validity: time.Hour, MaxPathLen: 1}, p.rootKey.Public(), nil, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	p.interKey, _ = pki.GenerateP256()
	p.inter, err = pki.NewCA(pki.CAOptions{Subject: pkix.Name{CommonName: "inter"}, Validity: time.Hour, MaxPathLen: 0}, p.interKey.Public(), p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// leaf issues a leaf (with the poison extension when precert) valid from notBefore.
func (p *testPKI) leaf(t testing.TB, precert bool, notBefore time.Time) []byte {
	t.Helper()
	key, _ := pki.GenerateP256()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: notBefore, NotAfter: notBefore.Add(10 * time.Minute),
		EmailAddresses: []string{"a@example.com"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	if precert {
		tmpl.ExtraExtensions = []pkix.Extension{PoisonExtension()}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.inter, key.Public(), p.interKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// merkleLeaf is the RFC 6962 Merkle tree leaf of der, issued by p's intermediate, logged at
// timestamp.
func (p *testPKI) merkleLeaf(t testing.TB, der []byte, precert bool, timestamp uint64) *ct.MerkleTreeLeaf {
	t.Helper()
	c, _ := ctx509.ParseCertificate(der)
	inter, _ := ctx509.ParseCertificate(p.inter.Raw)
	typ := ct.X509LogEntryType
	if precert {
		typ = ct.PrecertLogEntryType
	}
	leaf, err := ct.MerkleTreeLeafFromChain([]*ctx509.Certificate{c, inter}, typ, timestamp)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// startLog initialises a CT log with opts in a temporary directory and serves it; it returns
// the log, its URL and its directory.
func startLog(t testing.TB, opts InitOptions) (*Server, string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := Init(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	served := testutil.StartServer(t, func(string) (*Server, error) { return Open(context.Background(), dir, Options{}) })
	return served.Server, served.URL, dir
}

func TestAddChainAndPreChain(t *testing.T) {
	p := newPKI(t)
	l, base, dir := startLog(t, InitOptions{URL: "http://ct.test", RootsPEM: pki.EncodeCertificates([]*x509.Certificate{p.root})})
	now := time.Now().Add(-time.Minute)

	pre := p.leaf(t, true, now)
	sct, err := Submit(context.Background(), http.DefaultClient, base, [][]byte{pre, p.inter.Raw, p.root.Raw}, true)
	if err != nil {
		t.Fatal(err)
	}
	if sct.LogID.KeyID != l.LogID() || len(sct.Extensions) == 0 {
		t.Fatalf("SCT log ID %x extensions %x", sct.LogID.KeyID, sct.Extensions)
	}
	preCT, _ := ctx509.ParseCertificate(pre)
	interCT, _ := ctx509.ParseCertificate(p.inter.Raw)
	leaf, err := ct.MerkleTreeLeafFromChain([]*ctx509.Certificate{preCT, interCT}, ct.PrecertLogEntryType, sct.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ct.NewSignatureVerifier(l.PublicKey())
	if err := v.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *leaf}); err != nil {
		t.Fatalf("precertificate SCT does not verify: %v", err)
	}

	final := p.leaf(t, false, now)
	sct2, err := Submit(context.Background(), http.DefaultClient, base, [][]byte{final, p.inter.Raw}, false)
	if err != nil {
		t.Fatal(err)
	}
	finalCT, _ := ctx509.ParseCertificate(final)
	if err := v.VerifySCTSignature(*sct2, ct.LogEntry{Leaf: *ct.CreateX509MerkleTreeLeaf(ct.ASN1Cert{Data: finalCT.Raw}, sct2.Timestamp)}); err != nil {
		t.Fatalf("certificate SCT does not verify: %v", err)
	}

	// The entries reach the Tessera tree: a checkpoint with size 2 is published.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cp, err := os.ReadFile(filepath.Join(dir, LogDir, "checkpoint"))
		if err == nil && strings.Split(string(cp), "\n")[1] == "2" {
			size, _, err := VerifyCheckpoint(cp, "ct.test", l.PublicKey())
			if err != nil || size != 2 {
				t.Fatalf("checkpoint %q: size %d, %v", cp, size, err)
			}
			other, _ := pki.GenerateP256()
			if _, _, err := VerifyCheckpoint(cp, "ct.test", other.Public()); err == nil || !strings.Contains(err.Error(), "no signature by the log key") {
				t.Fatalf("checkpoint verified under another key: %v", err)
			}
			tampered := strings.Replace(string(cp), "\n2\n", "\n3\n", 1)
			if _, _, err := VerifyCheckpoint([]byte(tampered), "ct.test", l.PublicKey()); err == nil {
				t.Fatal("tampered checkpoint verified")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size 2: %q %v", cp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(base + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "ct.test\n") {
		t.Fatalf("GET /checkpoint: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(base + GetRootsPath)
	if err != nil {
		t.Fatal(err)
	}
	var roots struct{ Certificates [][]byte }
	_ = json.NewDecoder(resp.Body).Decode(&roots)
	resp.Body.Close()
	if len(roots.Certificates) != 1 || !bytes.Equal(roots.Certificates[0], p.root.Raw) {
		t.Fatalf("get-roots: %d certificates", len(roots.Certificates))
	}
	tr, err := root.ReadTrustedRoot(filepath.Join(dir, TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	id := l.LogID()
	if len(tr.Ctlogs) != 1 || tr.Ctlogs[0].BaseUrl != "http://ct.test" || !bytes.Equal(tr.Ctlogs[0].LogId.KeyId, id[:]) {
		t.Fatalf("trusted root ctlogs = %v", tr.Ctlogs)
	}
}

func TestSubmissionRefusals(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	_, base, _ := startLog(t, InitOptions{RootsPEM: pki.EncodeCertificates([]*x509.Certificate{p.root})})
	now := time.Now().Add(-time.Minute)
	body := func(certs ...[]byte) string {
		b, _ := json.Marshal(ct.AddChainRequest{Chain: certs})
		return string(b)
	}
	pre := p.leaf(t, true, now)
	final := p.leaf(t, false, now)
	tests := []struct {
		name, path, body, want string
	}{
		{"precert without issuer", AddPreChainPath, body(pre), "a precertificate needs its issuer in the chain"},
		{"precert on add-chain", AddChainPath, body(pre, p.inter.Raw), "precertificate submitted to add-chain"},
		{"certificate on add-pre-chain", AddPreChainPath, body(final, p.inter.Raw), "precertificate lacks the critical poison extension"},
		{"wrong issuer", AddPreChainPath, body(pre, other.inter.Raw, other.root.Raw), "certificate 0 is not signed by certificate 1"},
		{"foreign root", AddPreChainPath, body(other.leaf(t, true, now), other.inter.Raw, other.root.Raw), "chain does not lead to a root this log accepts"},
		{"expired", AddChainPath, body(p.leaf(t, false, time.Now().Add(-time.Hour)), p.inter.Raw), "is not valid now"},
		{"garbage certificate", AddChainPath, body([]byte("garbage")), "certificate 0"},
		{"empty chain", AddChainPath, `{"chain":[]}`, "empty chain"},
		{"not JSON", AddChainPath, `chain`, "bad add-chain request"},
		{"too long", AddChainPath, body(final, final, final, final, final, final, final, final, final), "chain of 9 certificates exceeds 8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(base+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), tc.want) {
				t.Fatalf("HTTP %d %q, want 400 containing %q", resp.StatusCode, b, tc.want)
			}
		})
	}
	_, err := Submit(context.Background(), http.DefaultClient, base, [][]byte{pre}, true)
	if !errors.Is(err, ErrLogUnavailable) || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("Submit of a refused chain = %v", err)
	}
}

func TestVerifyEmbeddedSCTRefusesOtherKey(t *testing.T) {
	p := newPKI(t)
	l, base, _ := startLog(t, InitOptions{})
	now := time.Now().Add(-time.Minute)
	key, _ := pki.GenerateP256()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: now, NotAfter: now.Add(10 * time.Minute),
		EmailAddresses: []string{"a@example.com"}, ExtraExtensions: []pkix.Extension{PoisonExtension()}}
	pre, _ := x509.CreateCertificate(rand.Reader, tmpl, p.inter, key.Public(), p.interKey)
	sct, err := Submit(context.Background(), http.DefaultClient, base, [][]byte{pre, p.inter.Raw, p.root.Raw}, true)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := SCTListExtension(sct)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExtraExtensions = []pkix.Extension{ext}
	final, _ := x509.CreateCertificate(rand.Reader, tmpl, p.inter, key.Public(), p.interKey)
	if err := VerifyEmbeddedSCT(final, p.inter.Raw, l.PublicKey()); err != nil {
		t.Fatalf("embedded SCT: %v", err)
	}
	otherKey, _ := pki.GenerateP256()
	if err := VerifyEmbeddedSCT(final, p.inter.Raw, crypto.PublicKey(otherKey.Public())); err == nil {
		t.Fatal("SCT verified under another key")
	}
	// A certificate whose TBS differs from the logged precertificate fails.
	tmpl.SerialNumber = big.NewInt(8)
	changed, _ := x509.CreateCertificate(rand.Reader, tmpl, p.inter, key.Public(), p.interKey)
	if err := VerifyEmbeddedSCT(changed, p.inter.Raw, l.PublicKey()); err == nil {
		t.Fatal("SCT verified for a changed certificate")
	}
}

func FuzzParseAddChainRequest(f *testing.F) {
	p := newPKI(f)
	b, _ := json.Marshal(ct.AddChainRequest{Chain: [][]byte{p.inter.Raw, p.root.Raw}})
	f.Add(b)
	f.Add([]byte(`{"chain":["AAAA"]}`))
	f.Add([]byte(`{"chain":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		chain, err := ParseAddChainRequest(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if len(chain) == 0 || len(chain) > MaxChainLength {
			t.Fatalf("accepted a chain of %d", len(chain))
		}
		for _, c := range chain {
			if c == nil {
				t.Fatal("nil certificate accepted")
			}
		}
	})
}

func FuzzVerifyCheckpoint(f *testing.F) {
	key, _ := pki.GenerateP256()
	s, err := newTreeHeadSigner("ct.test", key, time.Now)
	if err != nil {
		f.Fatal(err)
	}
	body := "ct.test\n5\n" + "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" + "\n"
	sig, err := s.Sign([]byte(body))
	if err != nil {
		f.Fatal(err)
	}
	hash := make([]byte, 4)
	hash[0], hash[1], hash[2], hash[3] = byte(s.KeyHash()>>24), byte(s.KeyHash()>>16), byte(s.KeyHash()>>8), byte(s.KeyHash())
	good := body + "\n— ct.test " + base64.StdEncoding.EncodeToString(append(hash, sig...)) + "\n"
	if size, _, err := VerifyCheckpoint([]byte(good), "ct.test", key.Public()); err != nil || size != 5 {
		f.Fatalf("seed does not verify: %d %v", size, err)
	}
	f.Add([]byte(good))
	f.Add([]byte("ct.test\n1\nAAAA\n\n— ct.test AAAA\n"))
	f.Fuzz(func(t *testing.T, cp []byte) {
		size, _, err := VerifyCheckpoint(cp, "ct.test", key.Public())
		if err == nil && !bytes.HasPrefix(cp, []byte("ct.test\n")) {
			t.Fatalf("accepted a checkpoint of another origin (size %d)", size)
		}
	})
}

package logserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// fulcioSigner is a key in a certificate naming email, with the Fulcio issuer extension (.8).
func fulcioSigner(t *testing.T, email, issuer string) *testSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	val, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
		EmailAddresses: []string{email}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: val}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{priv: k, hash: crypto.SHA256, der: der, cert: true}
}

// TestMonitor finds identities' and keys' entries in a log on each backend.
func TestMonitor(t *testing.T) {
	forEachBackend(t, testMonitor)
}

func testMonitor(t *testing.T, storage string) {
	tl := newTestLog(t, withStorage(storage))
	ctx := context.Background()
	alice := fulcioSigner(t, "alice@example.com", "https://issuer.example")
	mallory := fulcioSigner(t, "alice@example.com", "https://evil.example")
	bob := fulcioSigner(t, "bob@example.com", "https://issuer.example")
	key := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	plan := []*testSigner{bob, alice, key, mallory, bob, alice, key}
	for i, s := range plan {
		if _, err := tl.client.Submit(ctx, s.request(t, []byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	run := func(q logclient.MonitorQuery, from uint64) []uint64 {
		t.Helper()
		var got []uint64
		_, err := logclient.Monitor(ctx, logclient.MonitorOptions{BaseURL: tl.url, Key: tl.key, StateDir: t.TempDir(), From: from}, q,
			func(m logclient.MonitorMatch) error { got = append(got, m.Index); return nil })
		if err != nil {
			t.Fatalf("Monitor: %v", err)
		}
		return got
	}
	tests := []struct {
		name string
		q    logclient.MonitorQuery
		from uint64
		want []uint64
	}{
		{"identity and issuer", logclient.MonitorQuery{Identity: "alice@example.com", Issuer: "https://issuer.example"}, 0, []uint64{1, 5}},
		{"identity, any issuer", logclient.MonitorQuery{Identity: "alice@example.com"}, 0, []uint64{1, 3, 5}},
		{"impostor issuer", logclient.MonitorQuery{Identity: "alice@example.com", Issuer: "https://evil.example"}, 0, []uint64{3}},
		{"from index", logclient.MonitorQuery{Identity: "alice@example.com", Issuer: "https://issuer.example"}, 2, []uint64{5}},
		{"public key", logclient.MonitorQuery{PublicKey: key.der}, 0, []uint64{2, 6}},
		{"nobody", logclient.MonitorQuery{Identity: "carol@example.com"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.q, tc.from); !slices.Equal(got, tc.want) {
				t.Fatalf("matched %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := logclient.Monitor(ctx, logclient.MonitorOptions{BaseURL: tl.url, Key: tl.key, StateDir: t.TempDir(), From: 99},
		logclient.MonitorQuery{Identity: "x"}, func(logclient.MonitorMatch) error { return nil }); err == nil {
		t.Fatal("start beyond the tree accepted")
	}
}

func TestMonitorDetectsFork(t *testing.T) {
	a, b := twinLogs(t)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	appendN(t, a, s, "a", 2)
	appendN(t, b, s, "b", 3)
	state := t.TempDir()
	q := logclient.MonitorQuery{PublicKey: s.der}
	if _, err := logclient.Monitor(ctx, logclient.MonitorOptions{BaseURL: a.url, Key: a.key, StateDir: state}, q, func(logclient.MonitorMatch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := logclient.Monitor(ctx, logclient.MonitorOptions{BaseURL: b.url, Key: b.key, StateDir: state}, q, func(logclient.MonitorMatch) error { return nil })
	if !errors.Is(err, logclient.ErrLogInconsistent) {
		t.Fatalf("monitor of a forked view: %v", err)
	}
}

// messageBundle builds a Sigstore bundle for a message signature logged as tle.
func messageBundle(t *testing.T, s *testSigner, artifact []byte, sig []byte, tle *rekorv1.TransparencyLogEntry) []byte {
	t.Helper()
	d := sha256.Sum256(artifact)
	b := &bundlev1.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &bundlev1.VerificationMaterial{
			Content:     &bundlev1.VerificationMaterial_Certificate{Certificate: &commonv1.X509Certificate{RawBytes: s.der}},
			TlogEntries: []*rekorv1.TransparencyLogEntry{tle},
		},
		Content: &bundlev1.Bundle_MessageSignature{MessageSignature: &commonv1.MessageSignature{
			MessageDigest: &commonv1.HashOutput{Algorithm: commonv1.HashAlgorithm_SHA2_256, Digest: d[:]},
			Signature:     sig,
		}},
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyBundleInLog(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	s := fulcioSigner(t, "alice@example.com", "https://issuer.example")
	artifact := []byte("release.tar.gz")
	req := s.request(t, artifact)
	tle, err := tl.client.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, tl, newECDSASigner(t, elliptic.P256(), crypto.SHA256), "later", 5)
	good := messageBundle(t, s, artifact, req.Signature, tle)
	res, err := logclient.VerifyBundleInLog(ctx, good, tl.url, []tlog.LogKey{tl.key}, t.TempDir())
	if err != nil {
		t.Fatalf("VerifyBundleInLog: %v", err)
	}
	if len(res) != 1 || res[0].LogCheckpoint.Size != 6 || res[0].EntryCheckpoint.Size > 6 {
		t.Fatalf("unexpected result %+v", res)
	}

	other := s.request(t, []byte("something else"))
	wrongSig := messageBundle(t, s, artifact, other.Signature, tle)
	if _, err := logclient.VerifyBundleInLog(ctx, wrongSig, tl.url, []tlog.LogKey{tl.key}, t.TempDir()); !errors.Is(err, logclient.ErrEntryMismatch) {
		t.Fatalf("bundle with another signature: %v", err)
	}
	if _, err := logclient.VerifyBundleInLog(ctx, good, tl.url, []tlog.LogKey{newTestLog(t, nil).key}, t.TempDir()); !errors.Is(err, tlog.ErrUnknownKey) {
		t.Fatalf("untrusted log: %v", err)
	}
	if _, err := logclient.VerifyBundleInLog(ctx, []byte(`{"mediaType": 3}`), tl.url, []tlog.LogKey{tl.key}, t.TempDir()); err == nil {
		t.Fatal("malformed bundle accepted")
	}
}

// TestServerFetchesNoClientURL submits a certificate full of URLs (issuer, CRL, OCSP) pointing at
// a local server, and checks that the log never calls it.
func TestServerFetchesNoClientURL(t *testing.T) {
	var hits atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer trap.Close()
	tl := newTestLog(t, nil)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		EmailAddresses: []string{"x@example.com"}, IssuingCertificateURL: []string{trap.URL + "/ca.crt"},
		CRLDistributionPoints: []string{trap.URL + "/crl"}, OCSPServer: []string{trap.URL + "/ocsp"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSigner{priv: k, hash: crypto.SHA256, der: der, cert: true}
	if _, err := tl.client.Submit(context.Background(), s.request(t, []byte("urls"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := hits.Load(); n != 0 {
		t.Fatalf("the log fetched %d client-supplied URLs", n)
	}
}

func TestMonitorFollow(t *testing.T) {
	tl := newTestLog(t, nil)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	appendN(t, tl, s, "before", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	found := make(chan uint64, 10)
	done := make(chan error, 1)
	go func() {
		_, err := logclient.Monitor(ctx, logclient.MonitorOptions{BaseURL: tl.url, Key: tl.key, StateDir: t.TempDir(), Follow: true, Interval: 50 * time.Millisecond},
			logclient.MonitorQuery{PublicKey: s.der}, func(m logclient.MonitorMatch) error { found <- m.Index; return nil })
		done <- err
	}()
	var got []uint64
	for len(got) < 2 {
		got = append(got, <-found)
	}
	appendN(t, tl, s, "after", 2)
	for len(got) < 4 {
		select {
		case i := <-found:
			got = append(got, i)
		case <-ctx.Done():
			t.Fatalf("follow saw only %v", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Monitor: %v", err)
	}
	if !slices.Equal(got, []uint64{0, 1, 2, 3}) {
		t.Fatalf("matched %v", got)
	}
}

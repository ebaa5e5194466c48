package ctlog_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// submission is a chain (leaf first) submitted to add-chain, or to add-pre-chain when precert.
type submission struct {
	chain   [][]byte
	precert bool
}

// ctLedger is what the CT log acknowledged: the leaf hash of each SCT's entry, by the leaf
// index the SCT names.
type ctLedger struct {
	mu      sync.Mutex
	acked   map[uint64][]byte
	retries int
	latency []time.Duration
}

// submit posts s to url until it is acknowledged (for up to a minute, 100 ms apart), checks
// the SCT under the log's key and records its entry; it returns the leaf index, or false when
// it failed the test. It may run on any goroutine.
func (l *ctLedger) submit(t *testing.T, f *testservers.CTFrontEnds, url string, s submission) (uint64, bool) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	var sct *ct.SignedCertificateTimestamp
	var err error
	start := time.Now()
	for deadline := start.Add(time.Minute); ; {
		attempt := time.Now()
		if sct, err = ctlog.Submit(context.Background(), client, url, s.chain, s.precert); err == nil {
			l.mu.Lock()
			l.latency = append(l.latency, time.Since(attempt))
			l.mu.Unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("submission not acknowledged in a minute: %v", err)
			return 0, false
		}
		l.mu.Lock()
		l.retries++
		l.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	leaf, err := entryLeaf(s, sct)
	if err != nil {
		t.Error(err)
		return 0, false
	}
	v, err := ct.NewSignatureVerifier(f.PublicKey)
	if err != nil {
		t.Error(err)
		return 0, false
	}
	if err := v.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *leaf}); err != nil {
		t.Errorf("an SCT does not verify under the CT log's key: %v", err)
		return 0, false
	}
	idx, err := testservers.CTLeafIndex(sct)
	if err != nil {
		t.Error(err)
		return 0, false
	}
	h, err := testservers.CTLeafHash(leaf, sct)
	if err != nil {
		t.Error(err)
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.acked[idx]; ok {
		t.Errorf("two SCTs name CT log entry %d", idx)
		return 0, false
	}
	l.acked[idx] = h
	return idx, true
}

// entryLeaf is the Merkle tree leaf the log signs for s at the SCT's time.
func entryLeaf(s submission, sct *ct.SignedCertificateTimestamp) (*ct.MerkleTreeLeaf, error) {
	var chain []*ctx509.Certificate
	for _, der := range s.chain {
		c, err := ctx509.ParseCertificate(der)
		if err != nil && ctx509.IsFatal(err) {
			return nil, err
		}
		chain = append(chain, c)
	}
	typ := ct.X509LogEntryType
	if s.precert {
		typ = ct.PrecertLogEntryType
	}
	return ct.MerkleTreeLeafFromChain(chain, typ, sct.Timestamp)
}

// TestCTFrontEndsShareOneTree runs the CT log as three `ct serve` processes on one MariaDB
// database and one versitygw bucket behind haproxy, and submits 3,200 chains from 16 clients
// (add-pre-chain and add-chain alternately): every SCT verifies under the log's key and names
// a leaf index given once; the tree read back through the read endpoints holds each
// acknowledged entry at its index, with an inclusion proof, no gap and no entry beyond them.
// A chain submitted again, to the same front-end or (once the shared antispam index has followed
// it) to another, is answered with the first entry's SCT and not logged again.
func TestCTFrontEndsShareOneTree(t *testing.T) {
	p := ctlog.NewPKI(t)
	f := testservers.StartCTFrontEnds(t, testutil.Binary(t), 3, pki.EncodeCertificates([]*x509.Certificate{p.Root()}))
	const clients, each = 16, 200
	notBefore := time.Now().Add(-time.Minute)
	l, elapsed := ctLoad(t, f, p, clients, each, 0, nil)

	// One chain submitted to front-end 1, to it again, and to front-end 2.
	again := submission{chain: [][]byte{p.Leaf(t, true, notBefore), p.Inter().Raw, p.Root().Raw}, precert: true}
	first, ok := l.submit(t, f, f.Procs[0].URL, again)
	if !ok {
		t.FailNow()
	}
	l.resubmit(t, f, f.Procs[0].URL, again, first)
	dsn, err := storage.ParseAWS(f.Storage)
	if err != nil {
		t.Fatal(err)
	}
	testutil.AwaitAntispam(t, dsn.DSN, first+1)
	l.resubmit(t, f, f.Procs[1].URL, again, first)

	tree := l.check(t, f, uint64(clients*each+1))
	p50, p99 := l.quantiles()
	t.Logf("%d chains from %d clients through 3 front-ends in %s (%.0f/s), SCT p50 %s, p99 %s; %d retried; tree of %d; a chain resubmitted to two front-ends answered with entry %d's SCT",
		clients*each, clients, elapsed.Round(time.Millisecond), float64(clients*each)/elapsed.Seconds(), p50, p99, l.retries, tree.Size, first)
}

// resubmit posts s, acknowledged before as entry idx, to url: the answer must be that entry's
// SCT (its leaf index, and its timestamp: the leaf hash is the one recorded), verifying under the
// log's key.
func (l *ctLedger) resubmit(t *testing.T, f *testservers.CTFrontEnds, url string, s submission, idx uint64) {
	t.Helper()
	sct, err := ctlog.Submit(context.Background(), &http.Client{Timeout: 30 * time.Second}, url, s.chain, s.precert)
	if err != nil {
		t.Fatalf("resubmission: %v", err)
	}
	leaf, err := entryLeaf(s, sct)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ct.NewSignatureVerifier(f.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *leaf}); err != nil {
		t.Fatalf("the resubmission's SCT does not verify: %v", err)
	}
	got, err := testservers.CTLeafIndex(sct)
	if err != nil {
		t.Fatal(err)
	}
	h, err := testservers.CTLeafHash(leaf, sct)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if got != idx || !bytes.Equal(h, l.acked[idx]) {
		t.Fatalf("resubmission to %s answered entry %d (leaf %x); want the first, entry %d (leaf %x)", url, got, h, idx, l.acked[idx])
	}
}

// TestCTFrontEndKilledUnderLoad SIGKILLs one of three `ct serve` front-ends while 16 clients
// submit 3,200 chains through haproxy, retrying what fails: every chain gets an SCT whose entry
// is in the tree at the index it names, with an inclusion proof; the tree has no gap.
func TestCTFrontEndKilledUnderLoad(t *testing.T) {
	p := ctlog.NewPKI(t)
	f := testservers.StartCTFrontEnds(t, testutil.Binary(t), 3, pki.EncodeCertificates([]*x509.Certificate{p.Root()}))
	const clients, each = 16, 200
	l, elapsed := ctLoad(t, f, p, clients, each, 1000, func() { f.Procs[1].Kill() })
	tree := l.check(t, f, clients*each)
	p50, p99 := l.quantiles()
	t.Logf("%d chains in %s, front-end 2 SIGKILLed after 1000; SCT p50 %s, p99 %s; %d retried; tree of %d",
		clients*each, elapsed.Round(time.Millisecond), p50, p99, l.retries, tree.Size)
}

// ctLoad submits each chains from each of clients clients through the balancer, add-pre-chain
// and add-chain alternately; after, when not nil, is called once when at chains have been
// acknowledged. It fails the test now if a submission failed.
func ctLoad(t *testing.T, f *testservers.CTFrontEnds, p ctlog.PKI, clients, each, at int, after func()) (*ctLedger, time.Duration) {
	t.Helper()
	l := &ctLedger{acked: map[uint64][]byte{}}
	notBefore := time.Now().Add(-time.Minute)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for range each {
				precert := next.Add(1)%2 == 0
				chain := [][]byte{p.Leaf(t, precert, notBefore), p.Inter().Raw, p.Root().Raw}
				if _, ok := l.submit(t, f, f.URL, submission{chain: chain, precert: precert}); !ok {
					return
				}
				if done.Add(1) == int64(at) && after != nil {
					after()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return l, time.Since(start)
}

// check reads the tree back through the read endpoints: it must hold want acknowledged entries,
// each at the index its SCT names with an inclusion proof, and beyond them at most one entry per
// retried submission (whose answer a client did not get).
func (l *ctLedger) check(t *testing.T, f *testservers.CTFrontEnds, want uint64) *testservers.CTTree {
	t.Helper()
	if uint64(len(l.acked)) != want {
		t.Fatalf("%d entries acknowledged, want %d", len(l.acked), want)
	}
	tree := f.ReadTree(t, want)
	for idx, h := range l.acked {
		tree.CheckIncluded(t, idx, h)
	}
	if tree.Size > want+uint64(l.retries) {
		t.Errorf("the tree holds %d entries: more than the %d acknowledged and %d retried", tree.Size, want, l.retries)
	}
	return tree
}

// quantiles are the p50 and p99 of the acknowledged submissions' latency.
func (l *ctLedger) quantiles() (time.Duration, time.Duration) {
	slices.Sort(l.latency)
	q := func(x float64) time.Duration {
		return l.latency[int(x*float64(len(l.latency)-1))].Round(time.Millisecond)
	}
	return q(0.5), q(0.99)
}

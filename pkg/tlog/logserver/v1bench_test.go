package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// BenchmarkV1Append appends hashedrekord entries through POST /api/v1/log/entries of a real
// server (POSIX storage in a temp dir) from parallel clients, each waiting for its 201 (SET and
// inclusion proof). Requests are signed before the timer starts.
func BenchmarkV1Append(b *testing.B) {
	for _, par := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", par), func(b *testing.B) {
			f := newV1Fixture(b, nil)
			s := newECDSASigner(b, elliptic.P256(), crypto.SHA256)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = s.hashedRekord(b, fmt.Appendf(nil, "v1 bench %d %d", par, i))
			}
			postParallel(b, f.url+"/api/v1/log/entries", bodies, par)
		})
	}
}

// BenchmarkV1Search measures POST /api/v1/index/retrieve on a v1 tree of V1_BENCH_ENTRIES
// entries (default 10^5; 2*10^4 on MariaDB, whose driver integrates about once a second), built
// by bulk appends (entries signed by 100 certificates, each with an email of its own): by
// artifact hash (one match), by email (about 1% of the log), and both with "and"; with the index
// in bbolt (POSIX) and in the database (MariaDB).
func BenchmarkV1Search(b *testing.B) {
	for _, c := range []struct {
		name    string
		entries int
		storage func(testing.TB) string
	}{
		{"posix", 100_000, nil},
		{"mariadb", 20_000, startMariaDB},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := c.entries
			if v, err := strconv.Atoi(os.Getenv("V1_BENCH_ENTRIES")); err == nil && v > 0 {
				n = v
			}
			var mutate func(*Options)
			if c.storage != nil {
				mutate = withStorage(c.storage(b))
			}
			benchV1Search(b, newV1Fixture(b, mutate), n)
		})
	}
}

func benchV1Search(b *testing.B, f *v1Fixture, n int) {
	start := time.Now()
	bulkV1(b, f.srv.v1, n)
	b.Logf("built a v1 tree of %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	target := sha256.Sum256(fmt.Appendf(nil, "bulk %d", n/2))
	for _, c := range []struct {
		name string
		q    tlog.V1SearchIndex
	}{
		{"hash", tlog.V1SearchIndex{Hash: "sha256:" + hex.EncodeToString(target[:])}},
		{"email", tlog.V1SearchIndex{Email: "signer7@example.com"}},
		{"hash-and-email", tlog.V1SearchIndex{Hash: hex.EncodeToString(target[:]), Email: fmt.Sprintf("signer%d@example.com", (n/2)%100), Operator: "and"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, _ := json.Marshal(c.q)
			var hits int
			for b.Loop() {
				resp, err := http.Post(f.url+"/api/v1/index/retrieve", "application/json", bytes.NewReader(q))
				if err != nil {
					b.Fatal(err)
				}
				var uuids []string
				err = json.NewDecoder(resp.Body).Decode(&uuids)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("search: %d %v", resp.StatusCode, err)
				}
				hits = len(uuids)
			}
			if hits == 0 {
				b.Fatalf("search %s found nothing", c.name)
			}
			b.ReportMetric(float64(hits), "matches")
		})
	}
}

// bulkV1 appends n signed hashedrekord entries to l as POST /api/v1/log/entries would, without
// HTTP, from many goroutines at once (artifact i is "bulk i", signed by certificate i%100).
func bulkV1(tb testing.TB, l *v1Log, n int) {
	tb.Helper()
	signers := make([]*testSigner, 100)
	for i := range signers {
		signers[i] = certSigner(tb, fmt.Sprintf("signer%d@example.com", i))
	}
	ctx := context.Background()
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 512 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				e, err := rekortypes.Canonicalize(signers[i%100].hashedRekord(tb, fmt.Appendf(nil, "bulk %d", i)), rekortypes.Limits{})
				if err == nil {
					var idx tessera.Index
					if idx, err = l.add(ctx, tessera.NewEntry(e.Body))(); err == nil {
						err = l.index.record(context.Background(), idx.Index, tlog.LeafHash(e.Body), time.Now().Unix(), e.IndexKeys)
					}
				}
				if err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatalf("bulk append: %v", err)
	}
}

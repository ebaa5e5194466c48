package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// frontEnds is a set of log server processes on one aws:// storage (a MariaDB database and a
// versitygw bucket) behind haproxy.
type frontEnds struct {
	dir, storage string
	key          tlog.LogKey
	db           *testutil.MariaDB
	dsn          string
	objects      *testutil.ObjectStore
	procs        []*testutil.ServerProcess
	url          string // the balancer
}

func startFrontEnds(t testing.TB, n int) *frontEnds {
	t.Helper()
	f := &frontEnds{db: testutil.StartMariaDB(t), objects: testutil.StartObjectStore(t)}
	f.objects.SetEnv(t)
	f.dsn = createLogDatabases(t, f.db)
	f.storage = awsStorage(f.dsn, f.objects)
	f.start(t, n)
	return f
}

// startPOSIXFrontEnd is the same harness with one front-end on POSIX files (which one process
// alone may write), for comparison.
func startPOSIXFrontEnd(t testing.TB) *frontEnds {
	t.Helper()
	f := &frontEnds{}
	f.start(t, 1)
	return f
}

func (f *frontEnds) start(t testing.TB, n int) {
	t.Helper()
	f.dir = testutil.StorageDir(t)
	if err := Init(context.Background(), f.dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.key, err = LoadLogKey(f.dir); err != nil {
		t.Fatal(err)
	}
	set := testutil.StartBalanced(t, n, func(i int) *testutil.ServerProcess {
		// Each front-end has its own copy of the log directory (keys and config), as each
		// machine would.
		dir := f.dir
		if n > 1 {
			dir = testutil.ReplicaDir(t, f.dir)
		}
		return testutil.StartServerProcess(t, "log", serveEnv+"="+dir, "TLOG_TEST_STORAGE="+f.storage)
	})
	f.procs, f.url = set.Procs, set.URL
}

// loadLedger is what a load run saw: every acknowledged entry at its index, the bodies that
// needed more than one attempt, and the errors clients retried after.
type loadLedger struct {
	mu      sync.Mutex
	acked   map[uint64][]byte
	retried map[string]bool
	errors  map[string]int
	latency []time.Duration
}

// appendLoad appends total entries through url from clients concurrent clients; each retries an
// entry (the same request) until it is acknowledged, for up to two minutes. after is called
// once with the ledger when the given count of entries has been acknowledged.
func appendLoad(t testing.TB, url string, key tlog.LogKey, clients, total int, at int, after func()) *loadLedger {
	t.Helper()
	c, err := logclient.NewClient(url, logclient.WithHTTPClient(&http.Client{Timeout: 70 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	signer := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	l := &loadLedger{acked: map[uint64][]byte{}, retried: map[string]bool{}, errors: map[string]int{}}
	var next, done atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > int64(total) {
					return
				}
				req := signer.request(t, fmt.Appendf(nil, "load artifact %d", n))
				want, _ := req.CanonicalBody()
				deadline := time.Now().Add(2 * time.Minute)
				for attempt := 0; ; attempt++ {
					start := time.Now()
					tle, err := c.Submit(context.Background(), req)
					if err == nil {
						if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{key}, want); err != nil {
							t.Errorf("acknowledged entry does not verify: %v", err)
							return
						}
						l.mu.Lock()
						if prev, ok := l.acked[uint64(tle.LogIndex)]; ok && !bytes.Equal(prev, want) {
							t.Errorf("index %d acknowledged for two different entries", tle.LogIndex)
						}
						l.acked[uint64(tle.LogIndex)] = want
						if attempt > 0 {
							l.retried[string(want)] = true
						}
						l.latency = append(l.latency, time.Since(start))
						l.mu.Unlock()
						break
					}
					l.mu.Lock()
					l.errors[errorClass(err)]++
					l.mu.Unlock()
					if time.Now().After(deadline) {
						t.Errorf("entry %d not acknowledged after two minutes: %v", n, err)
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				if done.Add(1) == int64(at) && after != nil {
					once.Do(func() { wg.Go(after) })
				}
			}
		})
	}
	wg.Wait()
	return l
}

// errorClass shortens an error to what tells failures apart (the status and message, without
// addresses and indices).
func errorClass(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i > 0 && strings.HasPrefix(s, "submitting to ") {
		s = "connection: " + s[strings.LastIndex(s, ": ")+2:]
	}
	if i := strings.Index(s, "/entries: "); i > 0 {
		s = s[i+len("/entries: "):]
	}
	if i := strings.Index(s, ": <html>"); i > 0 {
		s = s[:i] // haproxy's error page
	}
	for _, d := range "0123456789" {
		s = strings.ReplaceAll(s, string(d), "")
	}
	return s
}

// checkTree checks the tree at url after a load: it is dense, every acknowledged entry is at
// its index, an entry present twice is one a client had to retry (its first attempt may have
// been sequenced before its front-end failed), and the storage passes fsck at the final size.
func (f *frontEnds) checkTree(t *testing.T, l *loadLedger) *tlog.Checkpoint {
	t.Helper()
	ctx := context.Background()
	c, err := logclient.NewClient(f.url)
	if err != nil {
		t.Fatal(err)
	}
	final := stableCheckpoint(t, c, f.key)
	seen := map[uint64][]byte{}
	count := map[string]int{}
	for i := uint64(0); i < final.Size; i += layout.EntryBundleWidth {
		b, err := client.GetEntryBundle(ctx, c.ReadEntryBundle, i/layout.EntryBundleWidth, final.Size)
		if err != nil {
			t.Fatalf("reading entries at %d: %v", i, err)
		}
		if want := min(layout.EntryBundleWidth, final.Size-i); uint64(len(b.Entries)) != want {
			t.Fatalf("bundle at %d holds %d entries, want %d: the tree has a gap", i, len(b.Entries), want)
		}
		for j, e := range b.Entries {
			seen[i+uint64(j)] = e
			count[string(e)]++
		}
	}
	for idx, body := range l.acked {
		if !bytes.Equal(seen[idx], body) {
			t.Errorf("acknowledged entry %d is not at its index (tree size %d)", idx, final.Size)
		}
	}
	dups := 0
	for body, n := range count {
		if n > 1 {
			dups += n - 1
			if !l.retried[body] {
				t.Errorf("an entry no client retried is in the log %d times", n)
			}
		}
	}
	slices.Sort(l.latency)
	p := func(q float64) time.Duration {
		return l.latency[int(q*float64(len(l.latency)-1))].Round(time.Millisecond)
	}
	t.Logf("tree of %d entries for %d acknowledged (append p50 %s, p99 %s); %d retried, %d logged twice; client errors retried: %v",
		final.Size, len(l.acked), p(0.5), p(0.99), len(l.retried), dups, l.errors)
	if res := awaitFsck(t, f.dir, f.storage, final.Size); res.Checkpoint.Size != final.Size {
		t.Errorf("fsck checked size %d, final checkpoint %d", res.Checkpoint.Size, final.Size)
	}
	return final
}

// TestFrontEndsShareOneTree appends through three front-ends behind haproxy to one tree, and
// checks that an entry appended through one front-end is recognised by another.
func TestFrontEndsShareOneTree(t *testing.T) {
	f := startFrontEnds(t, 3)
	l := appendLoad(t, f.url, f.key, 64, 2000, 0, nil)
	if len(l.acked) != 2000 {
		t.Fatalf("%d entries acknowledged, want 2000", len(l.acked))
	}
	f.checkTree(t, l)

	// Dedup across front-ends, once the shared antispam index has followed the entry.
	ctx := context.Background()
	signer := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	req := signer.request(t, []byte("submitted to two front-ends"))
	c0, _ := logclient.NewClient(f.procs[0].URL)
	c1, _ := logclient.NewClient(f.procs[1].URL)
	first, err := c0.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	testutil.AwaitAntispam(t, f.dsn, uint64(first.LogIndex)+1)
	again, err := c1.Submit(ctx, req)
	if err != nil {
		t.Fatalf("resubmission to another front-end: %v", err)
	}
	if again.LogIndex != first.LogIndex {
		t.Fatalf("resubmission to another front-end got index %d, first submission %d", again.LogIndex, first.LogIndex)
	}
}

// TestFrontEndKilledUnderLoad SIGKILLs one of three front-ends while 64 clients append 10,000
// entries through haproxy: no acknowledged entry is lost, the tree has no gap, and clients
// finish through the other two.
func TestFrontEndKilledUnderLoad(t *testing.T) {
	f := startFrontEnds(t, 3)
	start := time.Now()
	var killedAt time.Duration
	l := appendLoad(t, f.url, f.key, 64, 10000, 3000, func() {
		f.procs[1].Kill()
		killedAt = time.Since(start)
	})
	t.Logf("10000 entries in %s; front-end 2 killed at %s", time.Since(start).Round(time.Millisecond), killedAt.Round(time.Millisecond))
	if len(l.acked) != 10000 {
		t.Fatalf("%d entries acknowledged, want 10000", len(l.acked))
	}
	f.checkTree(t, l)
}

// TestMariaDBRestartUnderLoad restarts the database under two front-ends while 32 clients
// append: appends fail or wait while it is away, none acknowledged is lost, and the tree is
// whole after.
func TestMariaDBRestartUnderLoad(t *testing.T) {
	f := startFrontEnds(t, 2)
	var down time.Duration
	l := appendLoad(t, f.url, f.key, 32, 2000, 500, func() {
		start := time.Now()
		f.db.Stop()
		if err := f.db.Start(); err != nil {
			t.Error(err)
		}
		down = time.Since(start)
	})
	t.Logf("MariaDB away for %s; longest append %s", down.Round(time.Millisecond), slices.Max(l.latency).Round(time.Millisecond))
	if len(l.acked) != 2000 {
		t.Fatalf("%d entries acknowledged, want 2000", len(l.acked))
	}
	f.checkTree(t, l)
}

// TestObjectStoreOutageUnderLoad takes the object store away for 10 s under two front-ends while
// 32 clients append: appends wait (or fail and are retried), then resume; none acknowledged is
// lost, and the tree passes fsck.
func TestObjectStoreOutageUnderLoad(t *testing.T) {
	f := startFrontEnds(t, 2)
	l := appendLoad(t, f.url, f.key, 32, 2000, 500, func() {
		f.objects.Stop()
		time.Sleep(10 * time.Second)
		if err := f.objects.Start(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("object store away for 10 s; longest append %s", slices.Max(l.latency).Round(time.Millisecond))
	if len(l.acked) != 2000 {
		t.Fatalf("%d entries acknowledged, want 2000", len(l.acked))
	}
	f.checkTree(t, l)
}

// BenchmarkFrontEnds appends 2,000 entries from 64 clients through haproxy to one POSIX
// front-end and to 1, 2 and 3 front-ends on MariaDB + S3, reporting appends/s and the p50 and
// p99 append latency (make bench runs it once: -benchtime 1x).
func BenchmarkFrontEnds(b *testing.B) {
	cases := []struct {
		name  string
		start func(testing.TB) *frontEnds
	}{
		{"posix", startPOSIXFrontEnd},
		{"mariadb+s3/1", func(tb testing.TB) *frontEnds { return startFrontEnds(tb, 1) }},
		{"mariadb+s3/2", func(tb testing.TB) *frontEnds { return startFrontEnds(tb, 2) }},
		{"mariadb+s3/3", func(tb testing.TB) *frontEnds { return startFrontEnds(tb, 3) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := c.start(b)
			const total = 2000
			for b.Loop() {
				start := time.Now()
				l := appendLoad(b, f.url, f.key, 64, total, 0, nil)
				elapsed := time.Since(start)
				slices.Sort(l.latency)
				b.ReportMetric(float64(total)/elapsed.Seconds(), "appends/s")
				b.ReportMetric(float64(l.latency[len(l.latency)/2].Milliseconds()), "p50-ms")
				b.ReportMetric(float64(l.latency[len(l.latency)*99/100].Milliseconds()), "p99-ms")
			}
		})
	}
}

package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// backend is a storage a test log can live on.
type backend struct {
	name string
	// open returns the Options.Storage of a fresh, empty storage on this backend, starting the
	// servers it needs (skipping the test when they are not installed, failing it under
	// COSIGN_LIKE_REQUIRE_ALL); a POSIX log lives in its directory, so "".
	open func(t testing.TB) string
	// crashRounds is how many SIGKILLs TestCrashSafety deals this backend, each at least
	// crashUptime plus up to 400 ms after the server started.
	crashRounds int
	crashUptime time.Duration
}

// backends are the storages every test of the log's durability runs on.
var backends = []backend{
	{name: "posix", open: func(testing.TB) string { return "" }, crashRounds: 22, crashUptime: 50 * time.Millisecond},
	{name: "mariadb", open: startMariaDB, crashRounds: 20, crashUptime: 50 * time.Millisecond},
	// Tessera's AWS driver integrates once a second: a server killed sooner has acknowledged nothing.
	{name: "mariadb+s3", open: startMariaDBS3, crashRounds: 12, crashUptime: 1500 * time.Millisecond},
}

// forEachBackend runs f as a subtest on each backend.
func forEachBackend(t *testing.T, f func(t *testing.T, storage string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

// withStorage sets Options.Storage.
func withStorage(storage string) func(*Options) {
	return func(o *Options) { o.Storage = storage }
}

// startMariaDB starts a MariaDB server and returns the mysql:// storage of a new empty database.
func startMariaDB(t testing.TB) string {
	t.Helper()
	return "mysql://" + createLogDatabases(t, testutil.StartMariaDB(t))
}

// createLogDatabases creates the databases tlog and, for the v1 tree's derived storage,
// tlog_v1, and returns the DSN of tlog.
func createLogDatabases(t testing.TB, m *testutil.MariaDB) string {
	t.Helper()
	m.CreateDatabase(t, "tlog_v1")
	return m.CreateDatabase(t, "tlog")
}

// startMariaDBS3 starts a MariaDB server and an S3-compatible object store, sets the AWS SDK's
// environment to the store's credentials, and returns the aws:// storage on both.
func startMariaDBS3(t testing.TB) string {
	t.Helper()
	m := testutil.StartMariaDB(t)
	o := testutil.StartObjectStore(t)
	o.SetEnv(t)
	return awsStorage(createLogDatabases(t, m), o)
}

// awsStorage is the aws:// storage spec of database dsn and o's bucket.
func awsStorage(dsn string, o *testutil.ObjectStore) string {
	return storage.AWSSpec{DSN: dsn, Bucket: o.Bucket, Endpoint: o.Endpoint, Region: o.Region, PathStyle: true}.String()
}

// TestStorageBackends appends, proves, restarts, de-duplicates and fscks a log on each backend.
func TestStorageBackends(t *testing.T) {
	forEachBackend(t, testStorage)
}

func testStorage(t *testing.T, storage string) {
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tl := startTestLog(t, dir, withStorage(storage))
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	first := s.request(t, []byte("first"))
	tle, err := tl.client.Submit(ctx, first)
	if err != nil {
		t.Fatalf("Submit: %v\n%s", err, tl.logs.String())
	}
	if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, nil); err != nil {
		t.Fatal(err)
	}
	appendConcurrently(t, tl, s, "more", 300)
	// The v1 tree lives in the derived storage.
	v1 := v1FixtureOf(t, tl)
	v1entry := v1.upload(t, s.hashedRekord(t, []byte("v1 on "+storage)))
	state := t.TempDir()
	cp, err := logclient.CheckConsistency(ctx, tl.url, tl.key, state)
	if err != nil || cp.Size != 301 {
		t.Fatalf("checkpoint: %v (size %d)", err, cpSize(cp))
	}
	// Partial tiles and bundles are served at their exact width.
	for _, path := range []string{"tile/0/001.p/45", "tile/entries/001.p/45", "tile/0/000"} {
		b, err := testutil.Get(ctx, tl.url+"/api/v2/"+path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if path == "tile/0/001.p/45" && len(b) != 45*32 {
			t.Fatalf("%s holds %d bytes", path, len(b))
		}
	}
	if err := tl.stop(); err != nil {
		t.Fatal(err)
	}
	// A restarted server on the same database sees the same log, and recognises resubmissions.
	tl2 := startTestLog(t, dir, withStorage(storage))
	again, err := tl2.client.Submit(ctx, first)
	if err != nil || again.LogIndex != tle.LogIndex {
		t.Fatalf("resubmission after restart: %v index %d want %d", err, again.GetLogIndex(), tle.LogIndex)
	}
	appendConcurrently(t, tl2, s, "after restart", 5)
	if got, err := v1FixtureOf(t, tl2).v1.GetByUUID(ctx, v1entry.UUID); err != nil || got.Entry.IntegratedTime != v1entry.Entry.IntegratedTime {
		t.Fatalf("v1 entry after restart: %v, %v", got, err)
	}
	cp2, err := logclient.CheckConsistency(ctx, tl2.url, tl2.key, state)
	if err != nil || cp2.Size != 306 {
		t.Fatalf("after restart: %v (size %d)", err, cpSize(cp2))
	}
	for i := uint64(0); i < cp2.Size; i += 61 {
		e, err := tl2.client.Entry(ctx, i, cp2)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if _, err := tlog.VerifyEntry(e, []tlog.LogKey{tl2.key}, nil); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	// fsck over the database, once the storage has stored its checkpoint at the final size.
	if err := tl2.stop(); err != nil {
		t.Fatal(err)
	}
	res, err := Fsck(ctx, dir, storage)
	if err != nil || res.Checkpoint.Size != cp2.Size {
		t.Fatalf("fsck: %v (%+v)", err, res)
	}
}

// appendConcurrently appends n entries from 32 clients at once (Tessera's AWS driver integrates
// about once a second, so one client appending in turn would take n seconds).
func appendConcurrently(t *testing.T, tl *testLog, s *testSigner, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if _, err := tl.client.Submit(context.Background(), s.request(t, []byte(fmt.Sprint(prefix, i)))); err != nil {
					errs <- fmt.Errorf("appending %s%d: %w", prefix, i, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// openDB opens the database at dsn for the test.
func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forgetV1Entry deletes the index's record of the entry at idx, as a front-end that died between
// integrating the entry and recording it leaves the index.
func forgetV1Entry(t testing.TB, db *sql.DB, idx int64) {
	t.Helper()
	for _, q := range []string{"DELETE FROM V1Entries WHERE idx = ?", "DELETE FROM V1Leaves WHERE idx = ?", "DELETE FROM V1Search WHERE idx = ?"} {
		if _, err := db.Exec(q, idx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestV1IndexSharedByFrontEnds appends v1 entries through one of three front-ends on one
// database and bucket and reads them through the others: by index and UUID with the same
// integrated time, by search, and as duplicates; an entry its front-end left unrecorded is
// recorded by the first front-end asked for it, with one integrated time from then on.
func TestV1IndexSharedByFrontEnds(t *testing.T) {
	f := startFrontEnds(t, 3)
	key, _, err := LoadV1LogKey(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var clients []*logclient.V1Client
	for _, p := range f.procs {
		c, err := logclient.NewV1Client(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	s := certSigner(t, "shared-index@example.com")
	var entries []*logclient.V1Entry
	var proposed [][]byte
	for i := range 12 {
		p := s.hashedRekord(t, fmt.Appendf(nil, "shared index %d", i))
		e, err := clients[0].Upload(ctx, p)
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		entries, proposed = append(entries, e), append(proposed, p)
	}
	for i, c := range clients[1:] {
		for _, e := range entries {
			byUUID, err := c.GetByUUID(ctx, e.UUID)
			if err != nil {
				t.Fatalf("front-end %d: entry %s by UUID: %v", i+1, e.UUID, err)
			}
			byIndex, err := c.GetByIndex(ctx, e.Entry.LogIndex)
			if err != nil {
				t.Fatalf("front-end %d: entry %d by index: %v", i+1, e.Entry.LogIndex, err)
			}
			for _, got := range []*logclient.V1Entry{byUUID, byIndex} {
				if got.UUID != e.UUID || got.Entry.IntegratedTime != e.Entry.IntegratedTime {
					t.Fatalf("front-end %d answers %s integrated at %d; the appending one answered %s at %d", i+1, got.UUID, got.Entry.IntegratedTime, e.UUID, e.Entry.IntegratedTime)
				}
				if _, err := logclient.VerifyV1Entry(got, []tlog.LogKey{key}); err != nil {
					t.Fatal(err)
				}
			}
		}
		found, err := c.SearchIndex(ctx, tlog.V1SearchIndex{Email: "shared-index@example.com"})
		if err != nil || len(found) != len(entries) {
			t.Fatalf("front-end %d: search: %v, %v; want %d entries", i+1, found, err, len(entries))
		}
		// A resubmission to another front-end is a conflict at once: the index is shared.
		_, err = c.Upload(ctx, proposed[i])
		var ce *logclient.V1ConflictError
		if !errors.As(err, &ce) || ce.UUID != entries[i].UUID {
			t.Fatalf("front-end %d: resubmission: %v; want a conflict naming %s", i+1, err, entries[i].UUID)
		}
	}

	db := openDB(t, v1IndexDSN(t, f.storage))
	orphan := entries[3]
	forgetV1Entry(t, db, orphan.Entry.LogIndex)
	if _, err := clients[1].GetByUUID(ctx, orphan.UUID); err == nil {
		t.Fatal("an unrecorded entry was found by UUID")
	}
	byIndex, err := clients[1].GetByIndex(ctx, orphan.Entry.LogIndex)
	if err != nil {
		t.Fatalf("an unrecorded entry by index: %v", err)
	}
	if _, err := logclient.VerifyV1Entry(byIndex, []tlog.LogKey{key}); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		got, err := c.GetByUUID(ctx, orphan.UUID)
		if err != nil || got.Entry.IntegratedTime != byIndex.Entry.IntegratedTime {
			t.Fatalf("recorded entry by UUID: %v, %v; want integrated time %d", got, err, byIndex.Entry.IntegratedTime)
		}
	}
	// An unrecorded entry resubmitted is recorded too, so that its UUID resolves.
	forgetV1Entry(t, db, entries[5].Entry.LogIndex)
	testutil.AwaitAntispam(t, v1IndexDSN(t, f.storage), uint64(entries[len(entries)-1].Entry.LogIndex)+1)
	if _, err := clients[2].Upload(ctx, proposed[5]); !errors.Is(err, logclient.ErrV1Conflict) {
		t.Fatalf("resubmission of an unrecorded entry: %v; want a conflict", err)
	}
	if _, err := clients[0].GetByUUID(ctx, entries[5].UUID); err != nil {
		t.Fatalf("resubmitted entry by UUID: %v", err)
	}
}

// An entry its front-end left unrecorded is recorded by a front-end's sweep (here the only
// one's) within a few orphan periods, without anyone asking for it.
func TestV1IndexRecordsOrphans(t *testing.T) {
	defer func(d time.Duration) { orphanAge = d }(orphanAge)
	orphanAge = 500 * time.Millisecond
	storage := startMariaDB(t)
	f := newV1Fixture(t, withStorage(storage))
	s := certSigner(t, "orphan@example.com")
	e := f.upload(t, s.hashedRekord(t, []byte("orphan")))
	db := openDB(t, v1IndexDSN(t, storage))
	forgetV1Entry(t, db, e.Entry.LogIndex)
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := f.v1.GetByUUID(ctx, e.UUID)
		if err == nil {
			if _, err := logclient.VerifyV1Entry(got, []tlog.LogKey{f.key}); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an unrecorded entry is still not found by UUID after 10 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// v1IndexDSN is the DSN of the database of the v1 tree (and its index) of a mysql:// or aws://
// storage, derived as the server derives it.
func v1IndexDSN(t testing.TB, storage string) string {
	t.Helper()
	spec, err := v1StorageSpec(&Options{Storage: storage})
	if err != nil {
		t.Fatal(err)
	}
	dsn, ok, err := sqlV1IndexDSN(spec)
	if err != nil || !ok {
		t.Fatalf("v1 storage %s has no database: %v", spec, err)
	}
	return dsn
}

// Front-ends on a database whose v1 index an earlier version kept in each front-end's own
// v1index.db (the entries it appended, with the times it answered, and those it reconciled at
// its start, with later times) each import their file on their first start, and rename it:
// every entry keeps the earliest time, whichever front-end starts first, even one with no file.
func TestV1IndexImportsBoltFiles(t *testing.T) {
	storage := startMariaDB(t)
	dir, entries := v1EntriesThenStop(t, storage, "import@example.com", 3)
	ctx := context.Background()
	earlier := func(e *logclient.V1Entry) int64 { return e.Entry.IntegratedTime - 86400 }
	// Front-end A appended entries 0 and 1 and reconciled 2; front-end B appended 2 and
	// reconciled 0. Front-end C has no file.
	fronts := map[string]map[int]int64{
		"a": {0: earlier(entries[0]), 1: earlier(entries[1]), 2: earlier(entries[2]) + 600},
		"b": {2: earlier(entries[2]), 0: earlier(entries[0]) + 600},
		"c": nil,
	}
	dirs := map[string]string{}
	for name, times := range fronts {
		dirs[name] = testutil.ReplicaDir(t, dir)
		if times == nil {
			continue
		}
		b, err := openBoltV1Index(filepath.Join(dirs[name], V1IndexFile))
		if err != nil {
			t.Fatal(err)
		}
		for i, at := range times {
			e := entries[i]
			if err := b.record(ctx, uint64(e.Entry.LogIndex), mustLeaf(t, e.UUID), at, []string{"import@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.close(); err != nil {
			t.Fatal(err)
		}
	}
	db := openDB(t, v1IndexDSN(t, storage))
	for _, q := range []string{"DROP TABLE V1Entries", "DROP TABLE V1Leaves", "DROP TABLE V1Search", "DROP TABLE V1IndexMeta"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// The front-end with no file first: it records every entry at its start's time, which the
	// files' earlier times then replace.
	for _, name := range []string{"c", "a", "b"} {
		f := v1FixtureOf(t, startTestLog(t, dirs[name], withStorage(storage)))
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
		if fronts[name] == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dirs[name], V1IndexFile+".imported")); err != nil {
			t.Fatalf("front-end %s's file after its import: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(dirs[name], V1IndexFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("front-end %s's file is still in place after its import: %v", name, err)
		}
	}
	f := v1FixtureOf(t, startTestLog(t, dirs["a"], withStorage(storage)))
	for _, e := range entries {
		got, err := f.v1.GetByUUID(ctx, e.UUID)
		if err != nil || got.Entry.IntegratedTime != earlier(e) {
			t.Fatalf("after import: %v, %v; want the appending front-end's integrated time %d", got, err, earlier(e))
		}
		if _, err := logclient.VerifyV1Entry(got, []tlog.LogKey{f.key}); err != nil {
			t.Fatal(err)
		}
	}
	found, err := f.v1.SearchIndex(ctx, tlog.V1SearchIndex{Email: "import@example.com"})
	if err != nil || len(found) != 3 {
		t.Fatalf("search after import: %v, %v; want 3 entries", found, err)
	}
}

// mustLeaf is the leaf hash of an entry UUID.
func mustLeaf(t testing.TB, uuid string) []byte {
	t.Helper()
	_, leaf, err := tlog.ParseV1EntryUUID(uuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf) != 32 {
		t.Fatalf("UUID %s: leaf hash %s", uuid, hex.EncodeToString(leaf))
	}
	return leaf
}

// log reindex rebuilds an index in the database from the tree, keeping integrated times.
func TestV1ReindexInDatabase(t *testing.T) {
	storage := startMariaDB(t)
	dir, entries := v1EntriesThenStop(t, storage, "reindex-db@example.com", 3)
	db := openDB(t, v1IndexDSN(t, storage))
	// A lost search key and a wrong leaf hash are both mended from the tree.
	if _, err := db.Exec("DELETE FROM V1Search"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE V1Entries SET leaf = ? WHERE idx = ?", make([]byte, 32), entries[1].Entry.LogIndex); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := Reindex(ctx, dir, Options{Storage: storage}); err != nil || n != 3 {
		t.Fatalf("Reindex: %d, %v; want 3 entries", n, err)
	}
	f := v1FixtureOf(t, startTestLog(t, dir, withStorage(storage)))
	found, err := f.v1.SearchIndex(ctx, tlog.V1SearchIndex{Email: "reindex-db@example.com"})
	if err != nil || len(found) != 3 {
		t.Fatalf("search after reindex: %v, %v; want 3 entries", found, err)
	}
	for _, e := range entries {
		got, err := f.v1.GetByUUID(ctx, e.UUID)
		if err != nil || got.Entry.IntegratedTime != e.Entry.IntegratedTime {
			t.Fatalf("after reindex: %v, %v; want %s with its integrated time %d", got, err, e.UUID, e.Entry.IntegratedTime)
		}
	}
}

// One of three front-ends is SIGKILLed while 32 clients upload 1,500 v1 entries through the
// balancer, retrying what fails: every acknowledged entry is then found through each surviving
// front-end by UUID (its first copy, if a retry logged it twice), by index with the integrated
// time it was acknowledged with, and by search; its SET and proof verify.
func TestV1FrontEndKilledUnderLoad(t *testing.T) {
	f := startFrontEnds(t, 3)
	key, _, err := LoadV1LogKey(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := []tlog.LogKey{key}
	c, err := logclient.NewV1Client(f.url, logclient.WithHTTPClient(&http.Client{Timeout: 70 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	const clients, total, killAt = 32, 1500, 500
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	var mu sync.Mutex
	acked := map[int64]*logclient.V1Entry{}
	artifacts := map[int64][32]byte{}
	retries := 0
	var next, done atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for n := next.Add(1); n <= total; n = next.Add(1) {
				artifact := fmt.Appendf(nil, "v1 load %d", n)
				p := s.hashedRekord(t, artifact)
				deadline := time.Now().Add(2 * time.Minute)
				var e *logclient.V1Entry
				var err error
				for {
					e, err = c.Upload(ctx, p)
					var ce *logclient.V1ConflictError
					if errors.As(err, &ce) {
						// A retry of an upload its front-end logged before it died.
						e, err = c.GetByUUID(ctx, ce.UUID)
					}
					if err == nil {
						break
					}
					mu.Lock()
					retries++
					mu.Unlock()
					if time.Now().After(deadline) {
						t.Errorf("v1 entry %d not acknowledged after two minutes: %v", n, err)
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				if _, err := logclient.VerifyV1Entry(e, keys); err != nil {
					t.Errorf("acknowledged v1 entry does not verify: %v", err)
					return
				}
				mu.Lock()
				acked[e.Entry.LogIndex], artifacts[e.Entry.LogIndex] = e, sha256.Sum256(artifact)
				mu.Unlock()
				if done.Add(1) == killAt {
					f.procs[1].Kill()
				}
			}
		})
	}
	wg.Wait()
	if len(acked) != total {
		t.Fatalf("%d v1 entries acknowledged at distinct indexes, want %d", len(acked), total)
	}
	t.Logf("%d v1 entries acknowledged in %s, %d failed requests retried; front-end 2 killed at %d", len(acked), time.Since(start).Round(time.Millisecond), retries, killAt)
	for _, i := range []int{0, 2} {
		fc, err := logclient.NewV1Client(f.procs[i].URL)
		if err != nil {
			t.Fatal(err)
		}
		for idx, want := range acked {
			got, err := fc.GetByIndex(ctx, idx)
			if err != nil || got.UUID != want.UUID || got.Entry.IntegratedTime != want.Entry.IntegratedTime {
				t.Fatalf("front-end %d: entry %d: %v, %v; acknowledged %s at %d", i, idx, got, err, want.UUID, want.Entry.IntegratedTime)
			}
			if _, err := logclient.VerifyV1Entry(got, keys); err != nil {
				t.Fatal(err)
			}
			byUUID, err := fc.GetByUUID(ctx, want.UUID)
			if err != nil || byUUID.Entry.LogIndex != idx || byUUID.Entry.IntegratedTime != want.Entry.IntegratedTime {
				t.Fatalf("front-end %d: entry %s by UUID: %v, %v", i, want.UUID, byUUID, err)
			}
			a := artifacts[idx]
			found, err := fc.SearchIndex(ctx, tlog.V1SearchIndex{Hash: "sha256:" + hex.EncodeToString(a[:])})
			if err != nil || !slices.Contains(found, want.UUID) {
				t.Fatalf("front-end %d: search for the artifact of %s: %v, %v", i, want.UUID, found, err)
			}
		}
	}
}

// A real InnoDB deadlock is what insert retries; other errors are not retried.
func TestRetryableSQL(t *testing.T) {
	db := openDB(t, strings.TrimPrefix(startMariaDB(t), "mysql://"))
	ctx := context.Background()
	if _, err := db.Exec("CREATE TABLE locks (id INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO locks VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO locks VALUES (1, 0)"); err == nil || retryableSQL(err) {
		t.Fatalf("a duplicate key: %v; want an error not retried", err)
	}
	a, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback()
	b, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	for _, step := range []struct {
		tx *sql.Tx
		id int
	}{{a, 1}, {b, 2}} {
		if _, err := step.tx.Exec("UPDATE locks SET v = v + 1 WHERE id = ?", step.id); err != nil {
			t.Fatal(err)
		}
	}
	// a waits for b's row while b asks for a's: InnoDB rolls one of them back.
	errs := make(chan error, 2)
	go func() { _, err := a.Exec("UPDATE locks SET v = v + 1 WHERE id = 2"); errs <- err }()
	time.Sleep(200 * time.Millisecond)
	go func() { _, err := b.Exec("UPDATE locks SET v = v + 1 WHERE id = 1"); errs <- err }()
	var deadlock error
	for range 2 {
		if err := <-errs; err != nil && deadlock == nil {
			deadlock = err
			_ = a.Rollback()
			_ = b.Rollback()
		}
	}
	if !retryableSQL(deadlock) {
		t.Fatalf("deadlock: %v; want it retried", deadlock)
	}
}

// An entry the tree holds twice (a retry through another front-end before the antispam index
// followed the first copy) keeps the UUID answer of the copy first recorded, the one a client
// was given, in either index, when the other copy is recorded later (by a sweep or a read).
func TestV1IndexLeafNamesFirstRecordedCopy(t *testing.T) {
	ctx := context.Background()
	indexes := map[string]func(t *testing.T) v1Index{
		"bbolt": func(t *testing.T) v1Index {
			x, err := openBoltV1Index(filepath.Join(t.TempDir(), V1IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			return x
		},
		"database": func(t *testing.T) v1Index {
			x, err := openSQLV1Index(ctx, v1IndexDSN(t, startMariaDB(t)))
			if err != nil {
				t.Fatal(err)
			}
			return x
		},
	}
	for name, open := range indexes {
		t.Run(name, func(t *testing.T) {
			x := open(t)
			defer x.close()
			leaf := tlog.LeafHash([]byte("logged twice"))
			if err := x.record(ctx, 7, leaf, 1000, []string{"k"}); err != nil {
				t.Fatal(err)
			}
			if err := x.record(ctx, 3, leaf, 2000, []string{"k"}); err != nil {
				t.Fatal(err)
			}
			if idx, ok, err := x.lookupLeaf(ctx, leaf); err != nil || !ok || idx != 7 {
				t.Fatalf("lookupLeaf: %d, %v, %v; want 7, the copy first recorded", idx, ok, err)
			}
			if _, at, ok, err := x.entry(ctx, 3); err != nil || !ok || at != 2000 {
				t.Fatalf("entry 3: %d, %v, %v", at, ok, err)
			}
			if err := x.record(ctx, 7, leaf, 3000, nil); err != nil {
				t.Fatal(err)
			}
			if _, at, _, err := x.entry(ctx, 7); err != nil || at != 1000 {
				t.Fatalf("entry 7 recorded again: integrated time %d, %v; want the first, 1000", at, err)
			}
			if got, err := x.search(ctx, "k"); err != nil || !slices.Equal(got, []uint64{3, 7}) {
				t.Fatalf("search: %v, %v; want [3 7]", got, err)
			}
		})
	}
}

// log reindex keeps the search keys of an in-toto statement's subjects, which only the
// submitted entry carried and the tree cannot give back, on files and in the database.
func TestV1ReindexKeepsSubjectKeys(t *testing.T) {
	for _, b := range backends[:2] {
		t.Run(b.name, func(t *testing.T) {
			storage := b.open(t)
			dir := testutil.StorageDir(t)
			if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003"}); err != nil {
				t.Fatal(err)
			}
			f := v1FixtureOf(t, startTestLog(t, dir, withStorage(storage)))
			s := certSigner(t, "subjects@example.com")
			subject := sha256.Sum256([]byte("the attested artifact"))
			statement := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"artifact","digest":{"sha256":"%x"}}],"predicateType":"https://example.com/p","predicate":{}}`, subject)
			env, err := protojson.Marshal(s.signEnvelope(t, statement))
			if err != nil {
				t.Fatal(err)
			}
			proposed, err := rekortypes.ProposeIntoto(env, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.der}))
			if err != nil {
				t.Fatal(err)
			}
			e := f.upload(t, proposed)
			ctx := context.Background()
			q := tlog.V1SearchIndex{Hash: fmt.Sprintf("sha256:%x", subject)}
			if found, err := f.v1.SearchIndex(ctx, q); err != nil || !slices.Equal(found, []string{e.UUID}) {
				t.Fatalf("search by the subject's digest: %v, %v; want %s", found, err, e.UUID)
			}
			if err := f.stop(); err != nil {
				t.Fatal(err)
			}
			if n, err := Reindex(ctx, dir, Options{Storage: storage}); err != nil || n != 1 {
				t.Fatalf("Reindex: %d, %v", n, err)
			}
			f = v1FixtureOf(t, startTestLog(t, dir, withStorage(storage)))
			if found, err := f.v1.SearchIndex(ctx, q); err != nil || !slices.Equal(found, []string{e.UUID}) {
				t.Fatalf("search by the subject's digest after reindex: %v, %v; want %s", found, err, e.UUID)
			}
		})
	}
}

// /healthz answers 503, naming the v1 tree, while the database of the v1 tree and its index is
// away, and 200 again once it is back.
func TestHealthNamesTheV1Database(t *testing.T) {
	v1db := testutil.StartMariaDB(t)
	v1 := "mysql://" + v1db.CreateDatabase(t, "tlog_v1")
	f := newV1Fixture(t, func(o *Options) { o.V1Storage = v1 })
	health := func() (int, string) {
		resp, err := http.Get(f.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	v1db.Stop()
	if code, body := health(); code != http.StatusServiceUnavailable || !strings.Contains(body, "v1") {
		t.Fatalf("/healthz with the v1 database away: %d %q; want 503 naming the v1 tree", code, body)
	}
	if err := v1db.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code, body := health(); code != http.StatusOK; code, body = health() {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz 10 s after the v1 database is back: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

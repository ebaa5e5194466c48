package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"k8s.io/klog/v2"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// serveEnv makes the test binary act as the log server (the code path of `log serve`:
// NewServer, then Serve until SIGTERM) on the directory it names, so that crash tests run the
// server as a separate process they can SIGKILL.
const serveEnv = "TLOG_TEST_SERVE_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		os.Exit(serveForTest(dir))
	}
	// Tessera's informational klog lines would drown test output.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

func serveForTest(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv, err := Open(ctx, dir, Options{Storage: os.Getenv("TLOG_TEST_STORAGE"), Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	// The parent reads the address from the runner's "log listening on http://<addr>" line.
	err = httpserver.Run(ctx, []httpserver.Service{{Name: "log", Addr: "127.0.0.1:0", Server: srv, Timeouts: httpserver.TransparencyLogTimeouts()}},
		httpserver.RunOptions{Logger: logger, Announce: os.Stdout, ShutdownGrace: 30 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	return 0
}

// crashLedger records what the server acknowledged and every checkpoint it showed.
type crashLedger struct {
	mu          sync.Mutex
	acked       map[uint64][]byte
	checkpoints [][]byte
}

func (l *crashLedger) ack(t testing.TB, idx uint64, body []byte, cp []byte) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.acked[idx]; ok && !bytes.Equal(prev, body) {
		t.Errorf("index %d acknowledged for two different entries", idx)
	}
	l.acked[idx] = body
	l.checkpoints = append(l.checkpoints, cp)
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs server processes; skipped with -short")
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { crashRounds(t, b.open(t), b.crashRounds, b.crashUptime) })
	}
}

// crashRounds appends under concurrent load to a server process on storage (empty: POSIX),
// SIGKILLs it rounds times at random points at least uptime after it started, then checks what it acknowledged.
func crashRounds(t *testing.T, storage string, rounds int, uptime time.Duration) {
	t.Helper()
	env := "TLOG_TEST_STORAGE=" + storage
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	key, err := LoadLogKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	signer := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	ledger := &crashLedger{acked: map[uint64][]byte{}}
	const writers = 12
	var seq int
	var seqMu sync.Mutex
	nextArtifact := func() []byte {
		seqMu.Lock()
		defer seqMu.Unlock()
		seq++
		return fmt.Appendf(nil, "crash artifact %d", seq)
	}
	start := time.Now()
	for round := range rounds {
		p := testutil.StartServerProcess(t, "log", serveEnv+"="+dir, env)
		c, err := logclient.NewClient(p.URL, logclient.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req := signer.request(t, nextArtifact())
					tle, err := c.Submit(ctx, req)
					if err != nil {
						continue // not acknowledged: the server may have died
					}
					want, _ := req.CanonicalBody()
					cp, err := tlog.VerifyEntry(tle, []tlog.LogKey{key}, want)
					if err != nil {
						t.Errorf("acknowledged entry does not verify: %v", err)
						return
					}
					ledger.ack(t, uint64(tle.LogIndex), want, cp.Raw)
				}
			}()
		}
		// Readers see checkpoints too.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if raw, err := c.ReadCheckpoint(ctx); err == nil {
					if _, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key}); err == nil {
						ledger.mu.Lock()
						ledger.checkpoints = append(ledger.checkpoints, raw)
						ledger.mu.Unlock()
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		time.Sleep(uptime + time.Duration(rand.IntN(400))*time.Millisecond)
		p.Kill()
		cancel()
		wg.Wait()
		if strings.Contains(p.Stderr.String(), "panic") {
			t.Fatalf("round %d: server log mentions a panic:\n%s", round, p.Stderr.String())
		}
	}
	t.Logf("%d rounds with SIGKILL in %s; %d entries acknowledged, %d checkpoints seen", rounds, time.Since(start).Round(time.Millisecond), len(ledger.acked), len(ledger.checkpoints))
	if len(ledger.acked) < rounds {
		t.Fatalf("only %d entries acknowledged in %d rounds", len(ledger.acked), rounds)
	}

	// Final state: every acknowledged entry is at its index, the tree is dense, and every
	// checkpoint ever shown is consistent with the final one.
	p := testutil.StartServerProcess(t, "log", serveEnv+"="+dir, env)
	ctx := context.Background()
	c, err := logclient.NewClient(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	final := stableCheckpoint(t, c, key)
	seen := map[uint64][]byte{}
	for i := uint64(0); i < final.Size; i += layout.EntryBundleWidth {
		b, err := client.GetEntryBundle(ctx, c.ReadEntryBundle, i/layout.EntryBundleWidth, final.Size)
		if err != nil {
			t.Fatalf("reading entries at %d: %v", i, err)
		}
		want := min(layout.EntryBundleWidth, final.Size-i)
		if uint64(len(b.Entries)) != want {
			t.Fatalf("bundle at %d holds %d entries, want %d: indices are not contiguous", i, len(b.Entries), want)
		}
		for j, e := range b.Entries {
			seen[i+uint64(j)] = e
		}
	}
	for idx, body := range ledger.acked {
		if idx >= final.Size {
			t.Errorf("acknowledged index %d is beyond the final tree size %d", idx, final.Size)
			continue
		}
		if !bytes.Equal(seen[idx], body) {
			t.Errorf("acknowledged entry %d is not at its index", idx)
		}
	}
	for _, raw := range ledger.checkpoints {
		cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
		if err != nil {
			t.Fatalf("seen checkpoint: %v", err)
		}
		if cp.Size > final.Size {
			t.Fatalf("seen checkpoint %s is larger than the final %s: rollback", cp, final)
		}
		proof, err := c.ConsistencyProof(ctx, cp.Size, final.Size)
		if err == nil {
			err = tlog.VerifyConsistency(cp.Size, final.Size, proof, cp.Hash, final.Hash)
		}
		if err != nil {
			t.Fatalf("seen checkpoint %s is not consistent with the final %s: %v", cp, final, err)
		}
	}
	res := awaitFsck(t, dir, storage, final.Size)
	p.Stop(t)
	if strings.Contains(p.Stderr.String(), "panic") {
		t.Fatalf("server log mentions a panic:\n%s", p.Stderr.String())
	}
	if res.Checkpoint.Size != final.Size {
		t.Errorf("fsck checked size %d, final checkpoint %d", res.Checkpoint.Size, final.Size)
	}
}

// stableCheckpoint returns the log's checkpoint once its size has not changed for 2.5 s (up to
// 30 s): Tessera's AWS driver goes on integrating, after a restart, what the killed server had
// sequenced.
func stableCheckpoint(t *testing.T, c *logclient.Client, key tlog.LogKey) *tlog.Checkpoint {
	t.Helper()
	ctx := context.Background()
	var last *tlog.Checkpoint
	since := time.Now()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		cp, err := c.Checkpoint(ctx, []tlog.LogKey{key})
		if err != nil {
			t.Fatal(err)
		}
		if last == nil || cp.Size != last.Size {
			last, since = cp, time.Now()
		}
		if time.Since(since) >= 2500*time.Millisecond {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tree is still growing after 30 s (size %d)", cp.Size)
		}
	}
}

// awaitFsck runs Fsck until the storage's published checkpoint has reached size (a server
// publishes it once per checkpoint interval, after integrating), for up to 15 s, failing the
// test on a damaged storage; it returns the last result.
func awaitFsck(t *testing.T, dir, storage string, size uint64) *FsckResult {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := Fsck(context.Background(), dir, storage)
		if err != nil {
			t.Fatalf("fsck: %v", err)
		}
		if res.Checkpoint.Size >= size || time.Now().After(deadline) {
			return res
		}
		time.Sleep(200 * time.Millisecond)
	}
}

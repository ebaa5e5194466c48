package witness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// serveEnv makes the test binary act as the witness server on the directory it names (the code
// path of `witness serve`: the directory's config, key and store, served by httpserver.Run until
// SIGTERM), so that the crash test runs the witness as a process it can SIGKILL. saveDelayEnv
// holds the answer back that long after each state is stored, widening the window between
// storing a state and answering for it.
const (
	serveEnv     = "WITNESS_TEST_SERVE_DIR"
	saveDelayEnv = "WITNESS_TEST_SAVE_DELAY"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		os.Exit(serveForTest(dir))
	}
	// Tessera's informational klog lines (the real log of logserver_test.go) would drown output.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// slowStore answers a Save only a while after it is done.
type slowStore struct {
	Store
	delay time.Duration
}

func (s slowStore) Save(ctx context.Context, origin string, note []byte) error {
	err := s.Store.Save(ctx, origin, note)
	time.Sleep(s.delay)
	return err
}

func serveForTest(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := loadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		return 1
	}
	delay, _ := time.ParseDuration(os.Getenv(saveDelayEnv))
	cfg.Store = slowStore{cfg.Store, delay}
	cfg.Logger = logger
	srv, err := New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		return 1
	}
	// The parent reads the address from the runner's "witness listening on http://<addr>" line.
	err = httpserver.Run(ctx, []httpserver.Service{{Name: "witness", Addr: "127.0.0.1:0", Server: srv}},
		httpserver.RunOptions{Logger: logger, Announce: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		return 1
	}
	return 0
}

// crashLedger records every cosignature the witness answered: the branch of the log it was for,
// and its size.
type crashLedger struct {
	mu     sync.Mutex
	acked  map[string][]uint64 // branch name -> sizes
	maxAck uint64
	total  int
}

func (l *crashLedger) ack(branch string, size uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[branch] = append(l.acked[branch], size)
	l.maxAck = max(l.maxAck, size)
	l.total++
}

// TestCrashNeverCosignsAFork SIGKILLs the witness at random points while clients feed it the
// checkpoints of a log and of a fork of that log (the same key, the same first entries, then
// others), each client from the size it last heard of. A witness that answered for a state it
// had not stored would come back from the kill at an older size, and could then cosign the fork.
// After every kill the restarted witness must stand at a size no smaller than any it answered
// for, and over the whole run the cosignatures it answered must all be of one branch beyond the
// fork point.
func TestCrashNeverCosignsAFork(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs witness processes; skipped with -short")
	}
	const forkAt, entries, rounds, clients = 20, 6000, 14, 6
	main := newMemLog(t, "log.example.com", 1).grow(entries, "main")
	fork := main.fork(t, forkAt).grow(entries-forkAt, "fork")
	branches := map[string]*memLog{"main": main, "fork": fork}
	dir := initDir(t, main)
	verifier, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	ledger := &crashLedger{acked: map[string][]uint64{}}
	httpClient := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	for round := range rounds {
		p := testutil.StartServerProcess(t, "witness", serveEnv+"="+dir, saveDelayEnv+"=2ms")
		if round > 0 {
			// The restarted witness stands where its answers said it was, or further.
			size := witnessSize(t, httpClient, p.URL, main.key.Origin)
			ledger.mu.Lock()
			maxAck := ledger.maxAck
			ledger.mu.Unlock()
			if size < maxAck {
				t.Fatalf("round %d: restarted at size %d, but it had answered for size %d", round, size, maxAck)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				var old uint64
				for ctx.Err() == nil {
					name := "main"
					if rng.IntN(3) == 0 {
						name = "fork"
					}
					lg := branches[name]
					size := min(old+uint64(1+rng.IntN(4)), entries)
					body := (&tlog.AddCheckpointRequest{OldSize: old, Proof: lg.proof(t, old, size), Checkpoint: lg.checkpoint(t, size)}).Marshal()
					status, answer, err := post(ctx, httpClient, p.URL, body)
					if err != nil {
						continue // not answered: the witness may have died
					}
					switch status {
					case http.StatusOK:
						cp, _ := tlog.UnverifiedCheckpoint(lg.checkpoint(t, size))
						if _, err := verifier.Verifier().Verify(cp.Body(), answer); err != nil {
							t.Errorf("answered cosignature does not verify: %v", err)
							return
						}
						ledger.ack(name, size)
						old = size
					case http.StatusConflict:
						n, err := strconv.ParseUint(strings.TrimSuffix(string(answer), "\n"), 10, 64)
						if err != nil {
							t.Errorf("409 body %q", answer)
							return
						}
						old = n
					case http.StatusUnprocessableEntity:
						// The other branch, refused.
					default:
						t.Errorf("status %d: %s", status, answer)
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		p.Kill()
		cancel()
		wg.Wait()
		if strings.Contains(p.Stderr.String(), "panic") {
			t.Fatalf("round %d: witness log mentions a panic:\n%s", round, p.Stderr.String())
		}
	}
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	t.Logf("%d rounds with SIGKILL in %s; %d cosignatures answered (main %d, fork %d), up to size %d",
		rounds, time.Since(start).Round(time.Millisecond), ledger.total, len(ledger.acked["main"]), len(ledger.acked["fork"]), ledger.maxAck)
	if ledger.total < rounds {
		t.Fatalf("only %d cosignatures answered in %d rounds", ledger.total, rounds)
	}
	beyond := map[string]int{}
	for name, sizes := range ledger.acked {
		for _, s := range sizes {
			if s > forkAt {
				beyond[name]++
			}
		}
	}
	if beyond["main"] > 0 && beyond["fork"] > 0 {
		t.Fatalf("cosigned both branches beyond the fork point: %d of the log, %d of the fork", beyond["main"], beyond["fork"])
	}
}

func post(ctx context.Context, c *http.Client, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/add-checkpoint", strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// witnessSize is the size of the witness's latest cosigned checkpoint of origin (0 for none).
func witnessSize(t *testing.T, c *http.Client, url, origin string) uint64 {
	t.Helper()
	resp, err := c.Get(url + "/" + OriginID(origin) + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0
	}
	b, _ := io.ReadAll(resp.Body)
	cp, err := tlog.UnverifiedCheckpoint(b)
	if err != nil {
		t.Fatalf("served checkpoint: %v", err)
	}
	return cp.Size
}

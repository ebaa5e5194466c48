package logserver

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// flakyWitness is our witness, answering 503 while down is set.
type flakyWitness struct {
	*witness.Server
	down atomic.Bool
}

func (w *flakyWitness) Handler() http.Handler {
	h := w.Server.Handler()
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.down.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// startWitness serves our witness, following the log in dir, and returns a policy requiring it
// with the witness's URL (Tessera's form).
func startWitness(t *testing.T, dir string) (*flakyWitness, *tlog.WitnessPolicy, []byte) {
	t.Helper()
	logKey, err := LoadLogKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, wpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tlog.NewCosignatureSigner("witness.test/w1", wpriv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := witness.NewDirStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	w := testutil.StartServer(t, func(string) (*flakyWitness, error) {
		s, err := witness.New(context.Background(), witness.Config{
			Signer: signer, Logs: []tlog.LogKey{logKey}, Store: store,
			Options: witness.Options{Logger: slog.New(slog.DiscardHandler)},
		})
		return &flakyWitness{Server: s}, err
	})
	text := []byte(fmt.Sprintf("witness w1 %s %s\nquorum w1\n", signer.Verifier().VerifierKey(), w.URL))
	policy, err := tlog.ParseWitnessPolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return w.Server, policy, text
}

// newWitnessedLog serves a new log whose checkpoints our witness cosigns, under a policy
// requiring it, with the witness timeout and fail-open setting given.
func newWitnessedLog(t *testing.T, timeout time.Duration, failOpen bool) (*testLog, *flakyWitness, *tlog.WitnessPolicy) {
	t.Helper()
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w, policy, text := startWitness(t, dir)
	tl := startTestLog(t, dir, func(o *Options) {
		o.WitnessPolicy = text
		o.WitnessFailOpen = failOpen
		o.CheckpointInterval = 100 * time.Millisecond
		o.WitnessTimeout = timeout
	})
	// The log's Close waits for a checkpoint covering every entry: the witness is back by then.
	t.Cleanup(func() { w.down.Store(false) })
	return tl, w, policy
}

func TestWitnessedCheckpoints(t *testing.T) {
	tl, _, policy := newWitnessedLog(t, 5*time.Second, false)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	var last *tlog.Checkpoint
	for i := range 3 {
		req := s.request(t, fmt.Appendf(nil, "witnessed artifact %d", i))
		tle, err := tl.client.Submit(ctx, req)
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		want, _ := req.CanonicalBody()
		cp, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, want)
		if err != nil {
			t.Fatalf("VerifyEntry: %v", err)
		}
		note := []byte(tle.GetInclusionProof().GetCheckpoint().GetEnvelope())
		if err := policy.Satisfied(note); err != nil {
			t.Fatalf("inclusion proof's checkpoint (size %d): %v\n%s", cp.Size, err, note)
		}
		last = cp
	}
	// The published checkpoint is the witnessed one, and consistent with what came before.
	raw, err := getRaw(ctx, tl.url+"/api/v2/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{tl.key})
	if err == nil {
		err = policy.Satisfied(raw)
	}
	if err != nil {
		t.Fatalf("GET checkpoint: %v\n%s", err, raw)
	}
	if cp.Size < last.Size {
		t.Errorf("published checkpoint size %d below the last entry's %d", cp.Size, last.Size)
	}
	if _, err := logclient.CheckConsistency(ctx, tl.url, tl.key, t.TempDir()); err != nil {
		t.Fatalf("CheckConsistency: %v", err)
	}
}

func TestWitnessedFailClosed(t *testing.T) {
	tl, w, policy := newWitnessedLog(t, 200*time.Millisecond, false)
	ctx := context.Background()
	w.down.Store(true)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	_, err := tl.client.Submit(ctx, s.request(t, []byte("not witnessed")))
	if !errors.Is(err, logclient.ErrLogRequest) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Submit with the witness down: %v, want 503", err)
	}
	// What is published still meets the policy: the last witnessed checkpoint.
	raw, err := getRaw(ctx, tl.url+"/api/v2/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	if err := policy.Satisfied(raw); err != nil {
		t.Fatalf("GET checkpoint with the witness down: %v", err)
	}
}

func TestWitnessedFailOpen(t *testing.T) {
	tl, w, policy := newWitnessedLog(t, 200*time.Millisecond, true)
	ctx := context.Background()
	w.down.Store(true)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	req := s.request(t, []byte("published unwitnessed"))
	tle, err := tl.client.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit with the witness down, failing open: %v", err)
	}
	want, _ := req.CanonicalBody()
	if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, want); err != nil {
		t.Fatalf("VerifyEntry: %v", err)
	}
	note := []byte(tle.GetInclusionProof().GetCheckpoint().GetEnvelope())
	if err := policy.Satisfied(note); !errors.Is(err, tlog.ErrQuorumNotMet) {
		t.Fatalf("checkpoint published failing open: %v, want ErrQuorumNotMet", err)
	}
}

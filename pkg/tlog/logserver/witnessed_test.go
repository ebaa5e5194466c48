package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/witnesstest"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// newWitnessedLog serves a new log whose checkpoints our witness cosigns, under a policy
// requiring it, with the witness timeout and fail-open setting given (a checkpoint interval of
// 100 ms unless mutate changes the options further).
func newWitnessedLog(t testing.TB, timeout time.Duration, failOpen bool, mutate ...func(*Options)) (*testLog, *witnesstest.Witness, *tlog.WitnessPolicy) {
	t.Helper()
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	logKey, err := LoadLogKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := witnesstest.Start(t, logKey)
	tl := startTestLog(t, dir, func(o *Options) {
		o.WitnessPolicy = w.PolicyText
		o.WitnessFailOpen = failOpen
		o.CheckpointInterval = 100 * time.Millisecond
		o.WitnessTimeout = timeout
		for _, m := range mutate {
			m(o)
		}
	})
	// The log's Close waits for a checkpoint covering every entry: the witness is back by then.
	t.Cleanup(func() { w.Down.Store(false) })
	return tl, w.Witness, w.Policy
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
	raw, err := testutil.Get(ctx, tl.url+"/api/v2/checkpoint")
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
	w.Down.Store(true)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	_, err := tl.client.Submit(ctx, s.request(t, []byte("not witnessed")))
	if !errors.Is(err, logclient.ErrLogRequest) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Submit with the witness down: %v, want 503", err)
	}
	// What is published still meets the policy: the last witnessed checkpoint.
	raw, err := testutil.Get(ctx, tl.url+"/api/v2/checkpoint")
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
	w.Down.Store(true)
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

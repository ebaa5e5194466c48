package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// twinLogs are two real log servers holding the same key and origin but separate storage: what a
// log operator showing different views to different clients would run.
func twinLogs(t *testing.T) (*testLog, *testLog) {
	t.Helper()
	dirA, dirB := testutil.StorageDir(t), testutil.StorageDir(t)
	if err := Init(context.Background(), dirA, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ConfigFile, PrivateKeyFile, PublicKeyFile, V1PrivateKeyFile, V1PublicKeyFile, TrustedRootFile} {
		b, err := os.ReadFile(filepath.Join(dirA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return startTestLog(t, dirA, nil), startTestLog(t, dirB, nil)
}

func appendN(t *testing.T, tl *testLog, s *testSigner, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := tl.client.Submit(context.Background(), s.request(t, []byte(fmt.Sprint(prefix, i)))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSplitViewForkRollback(t *testing.T) {
	a, b := twinLogs(t)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	state := t.TempDir()
	appendN(t, a, s, "a", 3)
	appendN(t, b, s, "b", 3)

	cpA, err := logclient.CheckConsistency(ctx, a.url, a.key, state)
	if err != nil {
		t.Fatalf("first view: %v", err)
	}
	if _, err := logclient.CheckConsistency(ctx, a.url, a.key, state); err != nil {
		t.Fatalf("same view again: %v", err)
	}
	// Same size, different root: a split view.
	cpB, err := b.client.Checkpoint(ctx, []tlog.LogKey{b.key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = logclient.CheckConsistency(ctx, b.url, b.key, state)
	wantInconsistent(t, err, "split view", cpA, cpB)

	// B grows: no consistency proof joins it to A's checkpoint.
	appendN(t, b, s, "b+", 2)
	cpB, _ = b.client.Checkpoint(ctx, []tlog.LogKey{b.key})
	_, err = logclient.CheckConsistency(ctx, b.url, b.key, state)
	wantInconsistent(t, err, "fork", cpA, cpB)

	// A grows consistently; then B, now smaller, looks like a rollback.
	appendN(t, a, s, "a+", 3)
	cpA2, err := logclient.CheckConsistency(ctx, a.url, a.key, state)
	if err != nil {
		t.Fatalf("consistent growth: %v", err)
	}
	_, err = logclient.CheckConsistency(ctx, b.url, b.key, state)
	wantInconsistent(t, err, "rollback", cpA2, cpB)

	// The kept checkpoint is still A's latest.
	if got, err := logclient.CheckConsistency(ctx, a.url, a.key, state); err != nil || got.Size != cpA2.Size {
		t.Fatalf("kept state after refusals: %v", err)
	}
}

func wantInconsistent(t *testing.T, err error, kind string, kept, seen *tlog.Checkpoint) {
	t.Helper()
	if !errors.Is(err, logclient.ErrLogInconsistent) {
		t.Fatalf("%s: got %v, want ErrLogInconsistent", kind, err)
	}
	for _, want := range []string{kind, kept.String(), seen.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %q does not mention %q", kind, err, want)
		}
	}
}

func TestCheckConsistencyBadState(t *testing.T) {
	tl := newTestLog(t, nil)
	other := newTestLog(t, nil)
	ctx := context.Background()
	state := t.TempDir()
	// A kept checkpoint that the key does not verify is an error, not silently replaced.
	if _, err := logclient.CheckConsistency(ctx, tl.url, tl.key, state); err != nil {
		t.Fatal(err)
	}
	kept, err := filepath.Glob(filepath.Join(state, "tlog", "*"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("state files %v: %v", kept, err)
	}
	raw, err := other.client.ReadCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kept[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := logclient.CheckConsistency(ctx, tl.url, tl.key, state); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("got %v", err)
	}
	// A log whose checkpoint is signed by another key is refused.
	if _, err := logclient.CheckConsistency(ctx, other.url, tl.key, t.TempDir()); !errors.Is(err, tlog.ErrUnknownKey) {
		t.Fatalf("wrong key: %v", err)
	}
}

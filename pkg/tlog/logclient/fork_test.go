package logclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil/witnesstest"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// sameSizeFork returns a log key and two checkpoints it signed of the same size with different
// roots.
func sameSizeFork(t *testing.T) (tlog.LogKey, *tlog.Checkpoint, *tlog.Checkpoint) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "log.test"
	signer, err := tlog.NewNoteSigner(origin, priv)
	if err != nil {
		t.Fatal(err)
	}
	id := tlog.Ed25519KeyID(origin, pub)
	key := tlog.LogKey{Origin: origin, KeyID: id[:], PublicKey: pub}
	sign := func(root string) *tlog.Checkpoint {
		h := sha256.Sum256([]byte(root))
		raw, err := tlog.SignCheckpoint(signer, 5, h[:])
		if err != nil {
			t.Fatal(err)
		}
		cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	return key, sign("tree A"), sign("tree B")
}

// TestWitnessViewSameSizeFork has our witness cosign one checkpoint and the log serve another of
// the same size under the same key: CheckWitnessViews reports the fork, naming the witness and
// both checkpoints.
func TestWitnessViewSameSizeFork(t *testing.T) {
	ctx := context.Background()
	key, cosigned, served := sameSizeFork(t)
	w := witnesstest.Start(t, key)
	body := (&tlog.AddCheckpointRequest{Checkpoint: cosigned.Raw}).Marshal()
	resp, err := http.Post(w.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add-checkpoint: %s", resp.Status)
	}
	c, err := NewClient(w.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The witness's own view agrees with itself.
	views, err := CheckWitnessViews(ctx, c, key, cosigned, w.Policy)
	if err != nil || len(views) != 1 || views[0].Checkpoint == nil || views[0].Err != nil {
		t.Fatalf("CheckWitnessViews of the cosigned checkpoint: %+v, %v", views, err)
	}
	_, err = CheckWitnessViews(ctx, c, key, served, w.Policy)
	if !errors.Is(err, ErrLogInconsistent) {
		t.Fatalf("CheckWitnessViews of a same-size fork: %v, want ErrLogInconsistent", err)
	}
	for _, want := range []string{"fork", `"w1"`, w.URL, cosigned.String(), served.String(), "two checkpoints of size 5 with different roots"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestRecordCheckpointSameSizeFork keeps one checkpoint and is handed another of the same size
// and a different root under the same key: RecordCheckpoint reports the split view and keeps
// the first.
func TestRecordCheckpointSameSizeFork(t *testing.T) {
	ctx := context.Background()
	key, kept, other := sameSizeFork(t)
	state := t.TempDir()
	c, err := NewClient("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := RecordCheckpoint(ctx, c, key, state, kept); err != nil {
		t.Fatal(err)
	}
	err = RecordCheckpoint(ctx, c, key, state, other)
	if !errors.Is(err, ErrLogInconsistent) {
		t.Fatalf("RecordCheckpoint of a same-size fork: %v, want ErrLogInconsistent", err)
	}
	for _, want := range []string{"split view", fmt.Sprintf("size %d", kept.Size), kept.String(), other.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	// The kept checkpoint is unchanged: the first one is accepted again.
	if err := RecordCheckpoint(ctx, c, key, state, kept); err != nil {
		t.Fatalf("RecordCheckpoint of the kept checkpoint after the fork: %v", err)
	}
}

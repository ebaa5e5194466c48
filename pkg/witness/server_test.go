package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

func TestAddCheckpointCosignsAndServes(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(20, "a")
	other := newMemLog(t, "other.example.com", 2).grow(3, "b")
	now := time.Unix(1700000000, 0)
	w := startWitness(t, initDir(t, lg, other), func(o *Options) { o.Now = func() time.Time { return now } })
	v := w.srv.Verifier()

	wantStatus(t, w.get(t, lg.key.Origin), http.StatusNotFound, "no cosigned checkpoint")
	c := wantCosigned(t, w.addFrom(t, lg, 0, 5), v, lg.checkpoint(t, 5), lg.key)
	if c.Timestamp != 1700000000 || c.Name != "witness.example.com/w1" {
		t.Fatalf("cosignature %+v", c)
	}
	now = now.Add(time.Minute)
	wantCosigned(t, w.addFrom(t, lg, 5, 13), v, lg.checkpoint(t, 13), lg.key)
	// The same checkpoint again is cosigned again, with a newer timestamp.
	now = now.Add(time.Minute)
	if c := wantCosigned(t, w.addFrom(t, lg, 13, 13), v, lg.checkpoint(t, 13), lg.key); c.Timestamp != 1700000120 {
		t.Fatalf("timestamp %d", c.Timestamp)
	}
	// Several logs, each with its own state.
	wantCosigned(t, w.addFrom(t, other, 0, 3), v, other.checkpoint(t, 3), other.key)
	wantCosigned(t, w.addFrom(t, lg, 13, 20), v, lg.checkpoint(t, 20), lg.key)

	got := w.get(t, lg.key.Origin)
	if got.status != http.StatusOK || !strings.HasPrefix(got.contentType, "text/plain") {
		t.Fatalf("GET checkpoint: %d %s", got.status, got.contentType)
	}
	cp, _, err := tlog.OpenCheckpoint([]byte(got.body), []tlog.LogKey{lg.key})
	if err != nil || cp.Size != 20 {
		t.Fatalf("served checkpoint: %v, %v", cp, err)
	}
	if _, err := v.VerifyNote([]byte(got.body)); err != nil {
		t.Fatalf("served checkpoint's cosignature: %v", err)
	}
	if n := strings.Count(got.body, "\u2014 "); n != 2 {
		t.Fatalf("served checkpoint has %d signature lines, want the log's and the witness's:\n%s", n, got.body)
	}
	wantStatus(t, w.get(t, "unknown.example.com"), http.StatusNotFound, "")
}

// Each case is refused with the status C2SP tlog-witness gives it, and the state stays where
// it was (size 8).
func TestAddCheckpointRefusals(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(16, "a")
	stranger := newMemLog(t, "log.example.com", 3).grow(16, "a") // the origin, another key
	unknown := newMemLog(t, "unknown.example.com", 4).grow(16, "a")
	fork := lg.fork(t, 6).grow(10, "fork") // same key, same first 6 entries
	w := startWitness(t, initDir(t, lg), nil)
	wantCosigned(t, w.addFrom(t, lg, 0, 8), w.srv.Verifier(), lg.checkpoint(t, 8), lg.key)

	badSig := corruptSignature(t, lg.checkpoint(t, 12))
	flip := func(p [][]byte) [][]byte {
		q := make([][]byte, len(p))
		for i := range p {
			q[i] = bytes.Clone(p[i])
		}
		q[0][0] ^= 1
		return q
	}
	oversized := append([]byte("old 8\n\n"), bytes.Repeat([]byte("a"), maxRequestBody)...)
	tests := []struct {
		name   string
		body   []byte
		status int
		want   string
	}{
		{"unknown_origin", req(8, unknown.proof(t, 8, 12), unknown.checkpoint(t, 12)), http.StatusNotFound, "unknown log"},
		{"signed_by_another_key", req(8, lg.proof(t, 8, 12), stranger.checkpoint(t, 12)), http.StatusForbidden, "not signed by the log's key"},
		{"bad_signature", req(8, lg.proof(t, 8, 12), badSig), http.StatusForbidden, "not signed by the log's key"},
		{"old_size_larger_than_new", req(12, nil, lg.checkpoint(t, 10)), http.StatusBadRequest, "old size 12 is larger than the checkpoint's 10"},
		{"malformed_body", []byte("old 8\n" + string(lg.checkpoint(t, 12))), http.StatusBadRequest, "malformed add-checkpoint request"},
		{"old_size_leading_zero", append([]byte("old 08\n\n"), lg.checkpoint(t, 12)...), http.StatusBadRequest, "leading zero"},
		{"malformed_checkpoint", req(8, nil, []byte("log.example.com\n12\nnot base64\n\n\u2014 log.example.com AAAAAAAA\n")), http.StatusBadRequest, "malformed checkpoint body"},
		{"not_a_note", req(8, nil, []byte("log.example.com\n12\n")), http.StatusBadRequest, "malformed signed note"},
		{"bad_consistency_proof", req(8, flip(lg.proof(t, 8, 12)), lg.checkpoint(t, 12)), http.StatusUnprocessableEntity, "consistency proof does not verify"},
		{"truncated_consistency_proof", req(8, lg.proof(t, 8, 12)[1:], lg.checkpoint(t, 12)), http.StatusUnprocessableEntity, "consistency proof does not verify"},
		{"forked_tree", req(8, fork.proof(t, 8, 12), fork.checkpoint(t, 12)), http.StatusUnprocessableEntity, "consistency proof does not verify"},
		{"proof_between_equal_sizes", req(8, lg.proof(t, 4, 8), lg.checkpoint(t, 8)), http.StatusUnprocessableEntity, "between equal sizes must be empty"},
		{"body_too_large", oversized, http.StatusRequestEntityTooLarge, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, postBody(t, w.url, tc.body), tc.status, tc.want)
		})
	}
	// 409: the old size is not the witness's, whatever the client believes.
	wantConflict(t, w.addFrom(t, lg, 0, 12), 8)
	wantConflict(t, w.addFrom(t, lg, 4, 12), 8)
	wantConflict(t, w.add(t, 10, lg.proof(t, 10, 12), lg.checkpoint(t, 12)), 8)
	// 409: a tree of the same size with another root hash (a fork under the same key).
	wantConflict(t, w.addFrom(t, fork, 8, 8), 8)
	// A replayed older checkpoint: from its own size or an older one, the old size is not the
	// witness's; from the witness's, it is smaller than the old size.
	wantConflict(t, w.addFrom(t, lg, 5, 5), 8)
	wantConflict(t, w.addFrom(t, lg, 2, 5), 8)
	wantStatus(t, w.add(t, 8, nil, lg.checkpoint(t, 5)), http.StatusBadRequest, "larger than the checkpoint's")

	// Nothing moved the state.
	cp, _, err := tlog.OpenCheckpoint([]byte(w.get(t, lg.key.Origin).body), []tlog.LogKey{lg.key})
	if err != nil || cp.Size != 8 {
		t.Fatalf("state after the refusals: %v %v", cp, err)
	}
	if !strings.Contains(w.logs.String(), "refused a checkpoint signed by its log") {
		t.Fatalf("the fork was not logged:\n%s", w.logs.String())
	}
	wantCosigned(t, w.addFrom(t, lg, 8, 16), w.srv.Verifier(), lg.checkpoint(t, 16), lg.key)
}

// corruptSignature flips a bit of the last signature of a note, keeping its key ID.
func corruptSignature(t *testing.T, n []byte) []byte {
	t.Helper()
	i := bytes.LastIndexByte(n[:len(n)-1], ' ')
	raw, err := base64.StdEncoding.DecodeString(string(n[i+1 : len(n)-1]))
	if err != nil {
		t.Fatal(err)
	}
	raw[10] ^= 1
	return append(append(bytes.Clone(n[:i+1]), base64.StdEncoding.EncodeToString(raw)...), '\n')
}

func req(old uint64, proof [][]byte, cp []byte) []byte {
	return (&tlog.AddCheckpointRequest{OldSize: old, Proof: proof, Checkpoint: cp}).Marshal()
}

// From size 0 the proof must be empty, and a checkpoint of size 0 must be the empty tree's.
func TestAddCheckpointFromZero(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(4, "a")
	w := startWitness(t, initDir(t, lg), nil)
	wantStatus(t, w.add(t, 0, lg.proof(t, 2, 4), lg.checkpoint(t, 4)), http.StatusUnprocessableEntity, "a proof from size 0 must be empty")
	bogus, err := tlog.SignCheckpoint(lg.signer, 0, lg.tree.HashAt(3))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, w.add(t, 0, nil, bogus), http.StatusUnprocessableEntity, "root hash of the empty tree")
	wantCosigned(t, w.addFrom(t, lg, 0, 0), w.srv.Verifier(), lg.checkpoint(t, 0), lg.key)
	wantCosigned(t, w.addFrom(t, lg, 0, 4), w.srv.Verifier(), lg.checkpoint(t, 4), lg.key)
}

// A prefix puts both endpoints under it.
func TestPrefix(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(4, "a")
	w := startWitness(t, initDir(t, lg), func(o *Options) { o.Prefix = "/witness/v1" })
	wantCosigned(t, w.addFrom(t, lg, 0, 4), w.srv.Verifier(), lg.checkpoint(t, 4), lg.key)
	if a := w.get(t, lg.key.Origin); a.status != http.StatusOK {
		t.Fatalf("GET under the prefix: %d", a.status)
	}
	if a := postBody(t, strings.TrimSuffix(w.url, "/witness/v1"), req(4, nil, lg.checkpoint(t, 4))); a.status != http.StatusNotFound {
		t.Fatalf("add-checkpoint outside the prefix: %d", a.status)
	}
	for _, bad := range []string{"witness", "/witness/"} {
		if _, err := New(context.Background(), Config{Signer: w.srv.signer, Store: w.srv.store, Options: Options{Prefix: bad}}); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

// The state outlives the server: a new one on the same directory starts where it stopped.
func TestStateSurvivesRestart(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(10, "a")
	dir := initDir(t, lg)
	w := startWitness(t, dir, nil)
	wantCosigned(t, w.addFrom(t, lg, 0, 7), w.srv.Verifier(), lg.checkpoint(t, 7), lg.key)
	before := w.get(t, lg.key.Origin).body

	w2 := startWitness(t, dir, nil)
	if got := w2.get(t, lg.key.Origin).body; got != before {
		t.Fatalf("after a restart the witness serves\n%s\nwant\n%s", got, before)
	}
	wantConflict(t, w2.addFrom(t, lg, 0, 10), 7)
	wantCosigned(t, w2.addFrom(t, lg, 7, 10), w2.srv.Verifier(), lg.checkpoint(t, 10), lg.key)
}

// failingStore fails every Save.
type failingStore struct{ Store }

func (failingStore) Save(context.Context, string, []byte) error { return errors.New("disk full") }

// A state that cannot be stored is not answered, and not taken either.
func TestSaveFailureAnswersNothing(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(10, "a")
	dir := initDir(t, lg)
	signer, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	srv, err := New(context.Background(), Config{Signer: signer, Logs: []tlog.LogKey{lg.key}, Store: failingStore{store},
		Options: Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	w := serveWitness(t, srv, logs, "")
	wantStatus(t, w.addFrom(t, lg, 0, 5), http.StatusInternalServerError, "internal error")
	wantConflict(t, w.addFrom(t, lg, 5, 7), 0)
	if srv.Checkpoint(lg.key.Origin) != nil {
		t.Fatal("the unsaved checkpoint became the state")
	}
}

// Requests racing from the same old size: exactly one is cosigned, the others learn its size,
// and the state never goes back (the race C2SP tlog-witness warns of).
func TestConcurrentSubmissionsAreSerialised(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(40, "a")
	w := startWitness(t, initDir(t, lg), nil)
	wantCosigned(t, w.addFrom(t, lg, 0, 10), w.srv.Verifier(), lg.checkpoint(t, 10), lg.key)
	var wg sync.WaitGroup
	answers := make([]answer, 30)
	for i := range answers {
		size := uint64(11 + i)
		wg.Go(func() { answers[i] = w.addFrom(t, lg, 10, size) })
	}
	wg.Wait()
	var won []uint64
	for i, a := range answers {
		switch a.status {
		case http.StatusOK:
			won = append(won, uint64(11+i))
		case http.StatusConflict:
		default:
			t.Fatalf("size %d: %d %q", 11+i, a.status, a.body)
		}
	}
	if len(won) != 1 {
		t.Fatalf("cosigned from size 10: %v, want exactly one", won)
	}
	for i, a := range answers {
		if a.status == http.StatusConflict && a.body != fmt.Sprintf("%d\n", won[0]) {
			t.Fatalf("size %d: conflict names %q, want %d", 11+i, a.body, won[0])
		}
	}
}

// The witness refuses to start over a state it cannot trust.
func TestOpenRefusesForeignState(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1).grow(4, "a")
	dir := initDir(t, lg)
	store, err := NewDirStore(dir + "/" + StateDir)
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint the log signed but this witness never cosigned.
	if err := store.Save(context.Background(), lg.key.Origin, lg.checkpoint(t, 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); !errors.Is(err, tlog.ErrNoCosignature) {
		t.Fatalf("Open over an uncosigned state: %v", err)
	}
	// A checkpoint of another origin under this log's name.
	other := newMemLog(t, "other.example.com", 2).grow(2, "b")
	signer, _ := LoadSigner(dir)
	c, err := signer.Cosign([]byte(tlog.CheckpointBody("other.example.com", 2, other.tree.HashAt(2))), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(context.Background(), lg.key.Origin, tlog.CosignedNote(other.checkpoint(t, 2), c)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), `has origin "other.example.com"`) {
		t.Fatalf("Open over another log's state: %v", err)
	}
}

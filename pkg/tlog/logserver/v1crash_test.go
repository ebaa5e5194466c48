package logserver

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// v1Ack is what the server acknowledged for one v1 upload.
type v1Ack struct {
	entry    logclient.V1Entry
	artifact [32]byte
}

// SIGKILL of the server process during concurrent v1 appends, on each backend (the index in
// bbolt on POSIX, in the database on the others): every entry it acknowledged with a 201 is
// found after restart by UUID, by index and by search, with the integrated time it was
// acknowledged with, and its SET and inclusion proof verify.
func TestV1CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs server processes; skipped with -short")
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { v1CrashRounds(t, b.open(t), min(12, b.crashRounds), b.crashUptime) })
	}
}

func v1CrashRounds(t *testing.T, storage string, rounds int, uptime time.Duration) {
	env := "TLOG_TEST_STORAGE=" + storage
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	key, _, err := LoadV1LogKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := []tlog.LogKey{key}
	signer := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	var mu sync.Mutex
	var acked []v1Ack
	var seq int
	next := func() []byte {
		mu.Lock()
		defer mu.Unlock()
		seq++
		return fmt.Appendf(nil, "v1 crash artifact %d", seq)
	}
	const writers = 8
	for round := range rounds {
		p := testutil.StartServerProcess(t, "log", serveEnv+"="+dir, env)
		c, err := logclient.NewV1Client(p.URL, logclient.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
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
					artifact := next()
					e, err := c.Upload(ctx, signer.hashedRekord(t, artifact))
					if err != nil {
						continue // not acknowledged: the server may have died
					}
					if _, err := logclient.VerifyV1Entry(e, keys); err != nil {
						t.Errorf("acknowledged entry does not verify: %v", err)
						return
					}
					mu.Lock()
					acked = append(acked, v1Ack{entry: *e, artifact: sha256.Sum256(artifact)})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(max(uptime, 100*time.Millisecond) + time.Duration(rand.IntN(400))*time.Millisecond)
		p.Kill()
		cancel()
		wg.Wait()
		if strings.Contains(p.Stderr.String(), "panic") {
			t.Fatalf("round %d: server log mentions a panic:\n%s", round, p.Stderr.String())
		}
	}
	if len(acked) < rounds {
		t.Fatalf("only %d entries acknowledged in %d rounds", len(acked), rounds)
	}
	t.Logf("%d rounds with SIGKILL; %d v1 entries acknowledged", rounds, len(acked))

	p := testutil.StartServerProcess(t, "log", serveEnv+"="+dir, env)
	defer p.Stop(t)
	c, err := logclient.NewV1Client(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, a := range acked {
		want := a.entry
		for how, get := range map[string]func() (*logclient.V1Entry, error){
			"UUID":  func() (*logclient.V1Entry, error) { return c.GetByUUID(ctx, want.UUID) },
			"index": func() (*logclient.V1Entry, error) { return c.GetByIndex(ctx, want.Entry.LogIndex) },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("entry %s by %s after restart: %v\nserver log:\n%s", want.UUID, how, err, p.Stderr.String())
			}
			if got.UUID != want.UUID || got.Entry.LogIndex != want.Entry.LogIndex || got.Entry.IntegratedTime != want.Entry.IntegratedTime || got.Entry.Body != want.Entry.Body {
				t.Fatalf("entry by %s: %s at %d, acknowledged %s at %d", how, got.UUID, got.Entry.IntegratedTime, want.UUID, want.Entry.IntegratedTime)
			}
			if _, err := logclient.VerifyV1Entry(got, keys); err != nil {
				t.Fatalf("entry %s by %s after restart: %v", want.UUID, how, err)
			}
		}
		found, err := c.SearchIndex(ctx, tlog.V1SearchIndex{Hash: "sha256:" + hex.EncodeToString(a.artifact[:])})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0] != want.UUID {
			t.Fatalf("search by the artifact hash of %s after restart: %v", want.UUID, found)
		}
	}
}

package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// memLog is a log in memory: a Merkle tree and the Ed25519 key that signs its checkpoints, as
// our log server signs them (tlog.NewNoteSigner).
type memLog struct {
	key    tlog.LogKey
	priv   ed25519.PrivateKey
	signer note.Signer
	tree   *testonly.Tree
}

func newMemLog(t testing.TB, origin string, seed byte) *memLog {
	t.Helper()
	return memLogWithKey(t, origin, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
}

func memLogWithKey(t testing.TB, origin string, priv ed25519.PrivateKey) *memLog {
	t.Helper()
	s, err := tlog.NewNoteSigner(origin, priv)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	id := tlog.Ed25519KeyID(origin, pub)
	return &memLog{key: tlog.LogKey{Origin: origin, KeyID: id[:], PublicKey: pub}, priv: priv, signer: s, tree: testonly.New(rfc6962.DefaultHasher)}
}

// grow appends n entries named after tag.
func (l *memLog) grow(n int, tag string) *memLog {
	for i := range n {
		l.tree.AppendData(fmt.Appendf(nil, "%s %d", tag, l.tree.Size()+uint64(i)))
	}
	return l
}

// fork is a log under the same key whose tree shares the first size entries of l.
func (l *memLog) fork(t testing.TB, size uint64) *memLog {
	t.Helper()
	f := memLogWithKey(t, l.key.Origin, l.priv)
	for i := range size {
		f.tree.Append(l.tree.LeafHash(i))
	}
	return f
}

func (l *memLog) checkpoint(t testing.TB, size uint64) []byte {
	t.Helper()
	cp, err := tlog.SignCheckpoint(l.signer, size, l.tree.HashAt(size))
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func (l *memLog) proof(t testing.TB, old, size uint64) [][]byte {
	t.Helper()
	if old == 0 || old == size {
		return nil
	}
	p, err := l.tree.ConsistencyProof(old, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (l *memLog) config(t testing.TB) LogConfig {
	t.Helper()
	vk, err := l.key.VerifierKey()
	if err != nil {
		t.Fatal(err)
	}
	return LogConfig{Origin: l.key.Origin, VerifierKey: vk.String()}
}

// initDir makes a witness directory that follows logs.
func initDir(t testing.TB, logs ...*memLog) string {
	t.Helper()
	dir := t.TempDir()
	opts := InitOptions{Name: "witness.example.com/w1"}
	for _, l := range logs {
		opts.Logs = append(opts.Logs, l.config(t))
	}
	if err := Init(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testServer is a witness behind httptest.
type testServer struct {
	srv  *Server
	url  string
	logs *testutil.SyncBuffer
}

func startWitness(t testing.TB, dir string, mutate func(*Options)) *testServer {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	opts := Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return serveWitness(t, srv, logs, opts.Prefix)
}

func serveWitness(t testing.TB, srv *Server, logs *testutil.SyncBuffer, prefix string) *testServer {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
		if strings.Contains(logs.String(), "panic") {
			t.Errorf("witness log mentions a panic:\n%s", logs.String())
		}
	})
	return &testServer{srv: srv, url: hs.URL + prefix, logs: logs}
}

// answer is a witness's answer.
type answer struct {
	status      int
	body        string
	contentType string
}

func postBody(t testing.TB, url string, body []byte) answer {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
}

func (s *testServer) add(t testing.TB, old uint64, proof [][]byte, cp []byte) answer {
	t.Helper()
	return postBody(t, s.url, (&tlog.AddCheckpointRequest{OldSize: old, Proof: proof, Checkpoint: cp}).Marshal())
}

// addFrom submits l's checkpoint at size with the proof from old.
func (s *testServer) addFrom(t testing.TB, l *memLog, old, size uint64) answer {
	t.Helper()
	return s.add(t, old, l.proof(t, old, size), l.checkpoint(t, size))
}

// get fetches the latest cosigned checkpoint of origin.
func (s *testServer) get(t testing.TB, origin string) answer {
	t.Helper()
	resp, err := http.Get(s.url + "/" + OriginID(origin) + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Content-Type")}
}

// wantCosigned checks a 200 answer: one cosignature line of the witness over cp, which the pure
// verifier accepts, appended to cp as a note that both the log's key and the witness verify.
func wantCosigned(t testing.TB, a answer, v *tlog.CosignatureVerifier, cp []byte, key tlog.LogKey) *tlog.Cosignature {
	t.Helper()
	if a.status != http.StatusOK || strings.Count(a.body, "\n") != 1 {
		t.Fatalf("answer %d %q, want 200 and one cosignature line", a.status, a.body)
	}
	parsed, err := tlog.UnverifiedCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(parsed.Body(), []byte(a.body))
	if err != nil {
		t.Fatalf("cosignature does not verify: %v", err)
	}
	cosigned := append(bytes.Clone(cp), a.body...)
	if _, err := v.VerifyNote(cosigned); err != nil {
		t.Fatalf("cosigned note: %v", err)
	}
	if _, _, err := tlog.OpenCheckpoint(cosigned, []tlog.LogKey{key}); err != nil {
		t.Fatalf("the log's signature on the cosigned note: %v", err)
	}
	return c
}

func wantStatus(t testing.TB, a answer, status int, contains string) {
	t.Helper()
	if a.status != status || !strings.Contains(a.body, contains) {
		t.Fatalf("answer %d %q, want %d with %q", a.status, a.body, status, contains)
	}
}

// wantConflict checks a 409 answer naming size.
func wantConflict(t testing.TB, a answer, size uint64) {
	t.Helper()
	if a.status != http.StatusConflict || a.body != fmt.Sprintf("%d\n", size) || a.contentType != tlog.TreeSizeMediaType {
		t.Fatalf("answer %d %q (%s), want 409 %q (%s)", a.status, a.body, a.contentType, fmt.Sprintf("%d\n", size), tlog.TreeSizeMediaType)
	}
}

package witness

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

// realLog is our transparency log server (Tessera on POSIX files) behind httptest.
type realLog struct {
	key    tlog.LogKey
	client *logclient.Client
	signer *ecdsa.PrivateKey
	n      int
}

// storageDir is t.TempDir for Tessera's directories: its goroutines stop only shortly after the
// server is closed, so removal is retried for a while.
func storageDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "witness-log-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// startRealLog serves the log in dir (written by logserver.Init).
func startRealLog(t *testing.T, dir string) *realLog {
	t.Helper()
	ctx := context.Background()
	srv, err := logserver.Open(ctx, dir, logserver.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("closing log server: %v", err)
		}
	})
	c, err := logclient.NewClient(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &realLog{key: srv.LogKey(), client: c, signer: signer}
}

// append logs n hashedrekord entries (artifacts named after tag) and returns the log's
// checkpoint after them.
func (l *realLog) append(t *testing.T, n int, tag string) *tlog.Checkpoint {
	t.Helper()
	ctx := context.Background()
	der, err := x509.MarshalPKIXPublicKey(&l.signer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		l.n++
		digest := sha256.Sum256(fmt.Appendf(nil, "%s artifact %d", tag, l.n))
		sig, err := ecdsa.SignASN1(rand.Reader, l.signer, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		req, err := tlog.NewHashedRekordRequest(sig, digest[:], crypto.SHA256, der, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.client.Submit(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := l.client.Checkpoint(ctx, []tlog.LogKey{l.key})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// proof is the consistency proof the log's tiles give from old to cp.
func (l *realLog) proof(t *testing.T, old uint64, cp *tlog.Checkpoint) [][]byte {
	t.Helper()
	if old == 0 || old == cp.Size {
		return nil
	}
	p, err := l.client.ConsistencyProof(context.Background(), old, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The witness follows our real log: fed the log's checkpoints with proofs from its tiles, it
// cosigns them, and the cosignatures verify under the pure verifier read from the witness's
// verifier key file. A fork of the log (the same key, another tree) and a replayed checkpoint
// are refused.
func TestWitnessFollowsRealLog(t *testing.T) {
	dirA := storageDir(t)
	if err := logserver.Init(context.Background(), dirA, logserver.InitOptions{URL: "http://127.0.0.1:3003"}); err != nil {
		t.Fatal(err)
	}
	// The fork: a second log directory with the same key and origin, before any entry.
	dirB := storageDir(t)
	for _, f := range []string{logserver.ConfigFile, logserver.PrivateKeyFile, logserver.PublicKeyFile, logserver.V1PrivateKeyFile, logserver.V1PublicKeyFile, logserver.TrustedRootFile} {
		data, err := os.ReadFile(filepath.Join(dirA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirB, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logA, logB := startRealLog(t, dirA), startRealLog(t, dirB)
	vk, err := logA.key.VerifierKey()
	if err != nil {
		t.Fatal(err)
	}
	wdir := t.TempDir()
	if err := Init(context.Background(), wdir, InitOptions{Name: "witness.example.com/w1", Logs: []LogConfig{{VerifierKey: vk.String()}}}); err != nil {
		t.Fatal(err)
	}
	vkeyFile, err := os.ReadFile(filepath.Join(wdir, VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	wk, err := tlog.ParseVerifierKey(strings.TrimSpace(string(vkeyFile)))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := wk.CosignatureVerifier()
	if err != nil {
		t.Fatal(err)
	}
	w := startWitness(t, wdir, nil)

	cp3 := logA.append(t, 3, "a")
	wantCosigned(t, w.add(t, 0, nil, cp3.Raw), verifier, cp3.Raw, logA.key)
	cp8 := logA.append(t, 5, "a")
	wantCosigned(t, w.add(t, 3, logA.proof(t, 3, cp8), cp8.Raw), verifier, cp8.Raw, logA.key)
	cp21 := logA.append(t, 13, "a")
	wantCosigned(t, w.add(t, 8, logA.proof(t, 8, cp21), cp21.Raw), verifier, cp21.Raw, logA.key)

	// The fork has its own 21 entries under the same key: the same size, another root.
	fork21 := logB.append(t, 21, "b")
	if fork21.Size != 21 || string(fork21.Hash) == string(cp21.Hash) {
		t.Fatalf("fork %s, log %s", fork21, cp21)
	}
	wantConflict(t, w.add(t, 21, nil, fork21.Raw), 21)
	fork30 := logB.append(t, 9, "b")
	wantStatus(t, w.add(t, 21, logB.proof(t, 21, fork30), fork30.Raw), http.StatusUnprocessableEntity, "consistency proof does not verify")
	// The fork's proof from a size the witness never cosigned is not heard.
	wantConflict(t, w.add(t, 8, logB.proof(t, 8, fork30), fork30.Raw), 21)

	// A replayed older checkpoint of the real log.
	wantConflict(t, w.add(t, 3, logA.proof(t, 3, cp8), cp8.Raw), 21)
	wantStatus(t, w.add(t, 21, nil, cp8.Raw), http.StatusBadRequest, "larger than the checkpoint's")

	served := w.get(t, logA.key.Origin).body
	cp, _, err := tlog.OpenCheckpoint([]byte(served), []tlog.LogKey{logA.key})
	if err != nil || cp.Size != 21 || string(cp.Hash) != string(cp21.Hash) {
		t.Fatalf("served %v, %v; want the real log at 21", cp, err)
	}
	if _, err := verifier.VerifyNote([]byte(served)); err != nil {
		t.Fatal(err)
	}
	// And a policy naming the witness accepts what it serves.
	policy, err := tlog.ParseWitnessPolicy([]byte("log " + vk.String() + "\nwitness w1 " + wk.String() + "\nquorum w1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.VerifyCheckpoint([]byte(served)); err != nil {
		t.Fatalf("policy: %v", err)
	}
}

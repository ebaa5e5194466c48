package ctlog

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/witnesstest"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// witnessedLog is a CT log serving under a policy requiring our witness, which follows it.
type witnessedLog struct {
	*Server
	url, dir string
	pki      *testPKI
	witness  *witnesstest.Started
}

// startWitnessedLog initialises a CT log, starts our witness following the key Init wrote for
// it (VerifierKeyFile), and serves the log under the policy requiring that witness.
func startWitnessedLog(t *testing.T, failOpen bool) *witnessedLog {
	t.Helper()
	p := newPKI(t)
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://ct.test", RootsPEM: pki.EncodeCertificates([]*x509.Certificate{p.root})}); err != nil {
		t.Fatal(err)
	}
	key := initLogKey(t, dir)
	w := witnesstest.Start(t, key)
	served := testutil.StartServer(t, func(string) (*Server, error) {
		return Open(context.Background(), dir, Options{WitnessPolicy: w.PolicyText, WitnessTimeout: 300 * time.Millisecond, WitnessFailOpen: failOpen})
	})
	// Close waits for a checkpoint covering every entry: the witness is back by then.
	t.Cleanup(func() { w.Down.Store(false) })
	if got := served.Server.LogKey(); !got.TreeHead || string(got.KeyID) != string(key.KeyID) {
		t.Fatalf("LogKey %+v, %s gives %+v", got, VerifierKeyFile, key)
	}
	return &witnessedLog{Server: served.Server, url: served.URL, dir: dir, pki: p, witness: w}
}

// initLogKey is the log key of the CT log in dir, read from the VerifierKeyFile Init wrote.
func initLogKey(t *testing.T, dir string) tlog.LogKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.ParseVerifierKey(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", VerifierKeyFile, err)
	}
	key, err := vkey.LogKey()
	if err != nil {
		t.Fatalf("%s: %v", VerifierKeyFile, err)
	}
	return key
}

// add logs a new precertificate and returns its index.
func (l *witnessedLog) add(t *testing.T) uint64 {
	t.Helper()
	pre := l.pki.leaf(t, true, time.Now().Add(-time.Minute))
	sct, err := Submit(context.Background(), http.DefaultClient, l.url, [][]byte{pre, l.pki.inter.Raw, l.pki.root.Raw}, true)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	// C2SP static-ct-api: the one extension is leaf_index (type 0), a 40-bit big-endian index.
	ext := sct.Extensions
	if len(ext) != 8 || ext[0] != 0 || ext[1] != 0 || ext[2] != 5 {
		t.Fatalf("SCT extensions %x: want one leaf_index", ext)
	}
	var idx uint64
	for _, b := range ext[3:] {
		idx = idx<<8 | uint64(b)
	}
	return idx
}

// checkpoint is the log's checkpoint as GET /checkpoint serves it, verified under the log's key.
func (l *witnessedLog) checkpoint(t *testing.T) (*tlog.Checkpoint, []byte) {
	t.Helper()
	resp, err := http.Get(l.url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{l.LogKey()})
	if err != nil {
		t.Fatalf("GET /checkpoint: %v\n%s", err, raw)
	}
	if _, _, err := VerifyCheckpoint(raw, "ct.test", l.PublicKey()); err != nil {
		t.Fatalf("GET /checkpoint under the RFC 6962 key: %v\n%s", err, raw)
	}
	return cp, raw
}

// waitCheckpoint waits up to wait for the served checkpoint to reach size, and returns the last
// one served.
func (l *witnessedLog) waitCheckpoint(t *testing.T, size uint64, wait time.Duration) (*tlog.Checkpoint, []byte) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		cp, raw := l.checkpoint(t)
		if cp.Size >= size || time.Now().After(deadline) {
			return cp, raw
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWitnessedCTCheckpoints(t *testing.T) {
	l := startWitnessedLog(t, false)
	var idx uint64
	for range 2 {
		idx = l.add(t)
	}
	cp, raw := l.waitCheckpoint(t, idx+1, 10*time.Second)
	if cp.Size < idx+1 {
		t.Fatalf("served checkpoint size %d, want %d", cp.Size, idx+1)
	}
	if err := l.witness.Policy.Satisfied(raw); err != nil {
		t.Fatalf("served CT checkpoint: %v\n%s", err, raw)
	}
	// The witness keeps what it cosigned: the same tree.
	kept := l.witness.Checkpoint("ct.test")
	wcp, err := tlog.UnverifiedCheckpoint(kept)
	if err != nil {
		t.Fatalf("the witness's checkpoint of the CT log: %v\n%s", err, kept)
	}
	if wcp.Size < cp.Size {
		t.Errorf("witness kept size %d, the log served %d", wcp.Size, cp.Size)
	}
}

func TestWitnessedCTFailClosed(t *testing.T) {
	l := startWitnessedLog(t, false)
	before, _ := l.checkpoint(t)
	l.witness.Down.Store(true)
	idx := l.add(t)
	// Integrated, but not published while its quorum is missing.
	cp, raw := l.waitCheckpoint(t, idx+1, 3*time.Second)
	if cp.Size > before.Size {
		t.Fatalf("with the witness down the log published size %d (was %d), want it held back\n%s", cp.Size, before.Size, raw)
	}
	if err := l.witness.Policy.Satisfied(raw); err != nil {
		t.Fatalf("checkpoint served with the witness down: %v", err)
	}
	l.witness.Down.Store(false)
	cp, raw = l.waitCheckpoint(t, idx+1, 10*time.Second)
	if cp.Size < idx+1 {
		t.Fatalf("with the witness back the log serves size %d, want %d", cp.Size, idx+1)
	}
	if err := l.witness.Policy.Satisfied(raw); err != nil {
		t.Fatalf("checkpoint served with the witness back: %v", err)
	}
}

func TestWitnessedCTFailOpen(t *testing.T) {
	l := startWitnessedLog(t, true)
	l.witness.Down.Store(true)
	idx := l.add(t)
	cp, raw := l.waitCheckpoint(t, idx+1, 10*time.Second)
	if cp.Size < idx+1 {
		t.Fatalf("failing open, the log serves size %d, want %d", cp.Size, idx+1)
	}
	if err := l.witness.Policy.Satisfied(raw); !errors.Is(err, tlog.ErrQuorumNotMet) {
		t.Fatalf("checkpoint published failing open: %v, want ErrQuorumNotMet\n%s", err, raw)
	}
}

func TestWitnessPolicyRefused(t *testing.T) {
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://ct.test"}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dir, Options{WitnessPolicy: []byte("witness w1\nquorum w1\n")})
	if !errors.Is(err, tlog.ErrMalformedPolicy) || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Open with a malformed policy: %v, want ErrMalformedPolicy naming line 1", err)
	}
}

// TestTreeHeadLogKey checks the log's checkpoints under the tree head key a witness is given, and
// the refusals of a forged checkpoint and of a verifier key whose key ID does not match.
func TestTreeHeadLogKey(t *testing.T) {
	key, err := pki.GenerateP256()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := newTreeHeadSigner("ct.test", key, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	logKey, err := tlog.TreeHeadLogKey("ct.test", &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	root := strings.Repeat("A", 43) + "="
	body := "ct.test\n7\n" + root + "\n"
	signed, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if cp, _, err := tlog.OpenCheckpoint(signed, []tlog.LogKey{logKey}); err != nil || cp.Size != 7 {
		t.Fatalf("OpenCheckpoint: %v, %v", cp, err)
	}
	vkey, err := logKey.VerifierKey()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tlog.ParseVerifierKey(vkey.String())
	if err != nil {
		t.Fatalf("ParseVerifierKey(%s): %v", vkey, err)
	}
	if back, err := parsed.LogKey(); err != nil || !back.TreeHead || !key.PublicKey.Equal(back.PublicKey) {
		t.Fatalf("LogKey of %s: %+v, %v", vkey, back, err)
	}

	forged := strings.Replace(string(signed), "\n7\n", "\n8\n", 1)
	if _, _, err := tlog.OpenCheckpoint([]byte(forged), []tlog.LogKey{logKey}); !errors.Is(err, tlog.ErrBadSignature) {
		t.Errorf("checkpoint with its size changed: %v, want ErrBadSignature", err)
	}
	withExt, err := note.Sign(&note.Note{Text: body + "extension\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tlog.OpenCheckpoint(withExt, []tlog.LogKey{logKey}); !errors.Is(err, tlog.ErrBadSignature) {
		t.Errorf("tree head checkpoint with an extension line: %v, want ErrBadSignature", err)
	}
	other, _ := pki.GenerateP256()
	otherKey, _ := tlog.TreeHeadLogKey("ct.test", &other.PublicKey)
	if _, _, err := tlog.OpenCheckpoint(signed, []tlog.LogKey{otherKey}); !errors.Is(err, tlog.ErrUnknownKey) {
		t.Errorf("checkpoint under another key: %v, want ErrUnknownKey", err)
	}
	wrongID := *vkey
	wrongID.ID ^= 1
	if _, err := tlog.ParseVerifierKey(wrongID.String()); !errors.Is(err, tlog.ErrMalformedVerifierKey) || !strings.Contains(err.Error(), "key ID") {
		t.Errorf("verifier key with a wrong key ID: %v, want ErrMalformedVerifierKey naming the key ID", err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.TreeHeadLogKey("ct.test", &p384.PublicKey); !errors.Is(err, tlog.ErrUnsupportedKey) || !strings.Contains(err.Error(), "P-256") {
		t.Errorf("tree head key on P-384: %v, want ErrUnsupportedKey naming P-256", err)
	}
	p384DER, err := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	onP384 := *vkey
	onP384.PublicKey = p384DER
	if _, err := tlog.ParseVerifierKey(onP384.String()); !errors.Is(err, tlog.ErrMalformedVerifierKey) || !strings.Contains(err.Error(), "not ECDSA P-256") {
		t.Errorf("tree head verifier key on P-384: %v, want ErrMalformedVerifierKey naming P-256", err)
	}
	notEC := *vkey
	notEC.PublicKey = []byte("not a key")
	if _, err := tlog.ParseVerifierKey(notEC.String()); !errors.Is(err, tlog.ErrMalformedVerifierKey) || !strings.Contains(err.Error(), "PKIX") {
		t.Errorf("verifier key without a PKIX key: %v, want ErrMalformedVerifierKey naming PKIX", err)
	}
}

// TestWitnessedCTOpensOnlyWithItsWitness: a new CT log submits its first checkpoint while it
// opens, so under a policy that fails closed it does not open while the witness is down.
func TestWitnessedCTOpensOnlyWithItsWitness(t *testing.T) {
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://ct.test"}); err != nil {
		t.Fatal(err)
	}
	key := initLogKey(t, dir)
	w := witnesstest.Start(t, key)
	w.Down.Store(true)
	l, err := Open(context.Background(), dir, Options{WitnessPolicy: w.PolicyText, WitnessTimeout: 300 * time.Millisecond})
	if err == nil {
		_ = l.Close(context.Background())
		t.Fatal("the CT log opened with its only witness down under a policy that fails closed")
	}
	if !strings.Contains(err.Error(), "witness policy was not satisfied") {
		t.Fatalf("Open with the witness down: %v, want the policy named as not satisfied", err)
	}
}

// FuzzOpenTreeHeadCheckpoint reads notes under a CT log's tree head key with tlog.OpenCheckpoint
// and checks it against VerifyCheckpoint (certificate-transparency-go's tree head check): what
// the one accepts, the other accepts, with the same size and root.
func FuzzOpenTreeHeadCheckpoint(f *testing.F) {
	key, err := pki.GenerateP256()
	if err != nil {
		f.Fatal(err)
	}
	signer, err := newTreeHeadSigner("ct.fuzz", key, time.Now)
	if err != nil {
		f.Fatal(err)
	}
	logKey, err := tlog.TreeHeadLogKey("ct.fuzz", &key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := note.Sign(&note.Note{Text: "ct.fuzz\n3\n" + strings.Repeat("A", 43) + "=\n"}, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(append(valid[:len(valid)-5:len(valid)-5], "AAA=\n"...))
	f.Add([]byte("ct.fuzz\n3\n\n\u2014 ct.fuzz AAAAAAAA\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, _, err := tlog.OpenCheckpoint(msg, []tlog.LogKey{logKey})
		if err != nil {
			if !errors.Is(err, tlog.ErrCheckpoint) {
				t.Fatalf("error outside the ErrCheckpoint family: %v", err)
			}
			return
		}
		size, root, err := VerifyCheckpoint(msg, "ct.fuzz", &key.PublicKey)
		if err != nil {
			t.Fatalf("tlog accepted a note that VerifyCheckpoint refuses: %v\n%q", err, msg)
		}
		if size != cp.Size || string(root[:]) != string(cp.Hash) {
			t.Fatalf("tlog read size %d root %x, VerifyCheckpoint %d %x", cp.Size, cp.Hash, size, root)
		}
	})
}

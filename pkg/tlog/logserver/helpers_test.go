package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// syncBuffer is a goroutine-safe log sink the tests scan for "panic".
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLog is a real log server (Tessera on POSIX files in a temp dir) behind httptest.
type testLog struct {
	dir    string
	srv    *Server
	http   *httptest.Server
	logs   *syncBuffer
	key    tlog.LogKey
	client *logclient.Client
}

func newTestLog(t testing.TB, mutate func(*Options)) *testLog {
	t.Helper()
	dir := tempDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return startTestLog(t, dir, mutate)
}

func startTestLog(t testing.TB, dir string, mutate func(*Options)) *testLog {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Open(ctx, dir, cfg)
	if err != nil {
		cancel()
		t.Fatalf("Open: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	tl := &testLog{dir: dir, srv: srv, http: hs, logs: logs, key: srv.LogKey()}
	tl.client, err = logclient.NewClient(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.Close()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		if err := srv.Close(sctx); err != nil {
			t.Errorf("closing server: %v", err)
		}
		cancel()
		if bytes.Contains([]byte(logs.String()), []byte("panic")) {
			t.Errorf("server log mentions a panic:\n%s", logs.String())
		}
	})
	return tl
}

// tempDir is t.TempDir for directories Tessera writes to: its background goroutines stop only
// shortly after the server is closed, so removal is retried for a while.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tlog-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("removing %s: %v", dir, err)
	})
	return dir
}

// testSigner signs artifacts for log requests with a real key.
type testSigner struct {
	priv crypto.Signer
	hash crypto.Hash
	der  []byte // PKIX public key, or certificate when cert
	cert bool
}

func newECDSASigner(t testing.TB, curve elliptic.Curve, hash crypto.Hash) *testSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkixSigner(t, k, hash)
}

func pkixSigner(t testing.TB, k crypto.Signer, hash crypto.Hash) *testSigner {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{priv: k, hash: hash, der: der}
}

func newRSASigner(t testing.TB, bits int) *testSigner {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return pkixSigner(t, k, crypto.SHA256)
}

func newEd25519Signer(t testing.TB) *testSigner {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkixSigner(t, k, crypto.SHA512)
}

// certSigner wraps an ECDSA key in a self-signed code-signing certificate naming email.
func certSigner(t testing.TB, email string) *testSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
		EmailAddresses: []string{email}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{priv: k, hash: crypto.SHA256, der: der, cert: true}
}

func (s *testSigner) digest(artifact []byte) []byte {
	switch s.hash {
	case crypto.SHA384:
		d := sha512.Sum384(artifact)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(artifact)
		return d[:]
	}
	d := sha256.Sum256(artifact)
	return d[:]
}

// sign signs the digest of a message as a Sigstore signer does (Ed25519 keys sign Ed25519ph).
func (s *testSigner) sign(t testing.TB, digest []byte) []byte {
	t.Helper()
	var opts crypto.SignerOpts = s.hash
	if _, ok := s.priv.(ed25519.PrivateKey); ok {
		opts = &ed25519.Options{Hash: crypto.SHA512}
	}
	sig, err := s.priv.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// request signs artifact and builds the log request.
func (s *testSigner) request(t testing.TB, artifact []byte) *tlog.HashedRekordRequest {
	t.Helper()
	d := s.digest(artifact)
	sig := s.sign(t, d)
	req, err := tlog.NewHashedRekordRequest(sig, d, s.hash, s.der, s.cert)
	if err != nil {
		t.Fatalf("NewHashedRekordRequest: %v", err)
	}
	return req
}

// getRaw fetches url and returns its body, failing on any status but 200.
func getRaw(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}

package logserver

import (
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
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// testLog is a real log server (Tessera on POSIX files in a temp dir) on 127.0.0.1.
type testLog struct {
	dir    string
	srv    *Server
	url    string
	stop   func() error // stops serving and closes srv, as the end of the test does
	logs   *testutil.SyncBuffer
	key    tlog.LogKey
	client *logclient.Client
}

func newTestLog(t testing.TB, mutate func(*Options)) *testLog {
	t.Helper()
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return startTestLog(t, dir, mutate)
}

// startTestLog opens the log in dir with mutate applied to its options and serves it; when the
// test ends it fails the test if the server logged a panic.
func startTestLog(t testing.TB, dir string, mutate func(*Options)) *testLog {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	cfg := Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		if strings.Contains(logs.String(), "panic") {
			t.Errorf("server log mentions a panic:\n%s", logs.String())
		}
	})
	served := testutil.StartServer(t, func(string) (*Server, error) { return Open(ctx, dir, cfg) })
	tl := &testLog{dir: dir, srv: served.Server, url: served.URL, stop: served.Stop, logs: logs, key: served.Server.LogKey()}
	var err error
	if tl.client, err = logclient.NewClient(tl.url); err != nil {
		t.Fatal(err)
	}
	return tl
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

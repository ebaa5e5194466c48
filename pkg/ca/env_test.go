package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// testEnv is a dev issuer, a CT log and a CA, each a real server on 127.0.0.1.
type testEnv struct {
	issuer *oidc.DevIssuer
	ct     *ctlog.Server
	ctURL  string
	ca     *Server
	caURL  string
	chain  []*x509.Certificate // CA chain, intermediate first
}

// startIssuer serves a dev issuer on a fresh loopback port.
func startIssuer(t testing.TB, opts oidc.DevIssuerOptions) *oidc.DevIssuer {
	t.Helper()
	return testutil.StartServer(t, func(url string) (*oidc.DevIssuer, error) {
		opts.URL = url
		return oidc.NewDevIssuer(context.Background(), opts)
	}).Server
}

// startCTLog initialises and serves a CT log that accepts chains to roots, and returns it with
// its URL.
func startCTLog(t testing.TB) (*ctlog.Server, string) {
	t.Helper()
	dir := t.TempDir()
	if err := ctlog.Init(context.Background(), dir, ctlog.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	served := testutil.StartServer(t, func(string) (*ctlog.Server, error) {
		return ctlog.Open(context.Background(), dir, ctlog.Options{BatchMaxAge: ctBatchAge(), Logger: logger})
	})
	return served.Server, served.URL
}

// newEnv starts an issuer of type typ, a CT log and a CA trusting the issuer.
func newEnv(t testing.TB, typ IssuerType, issuerOpts oidc.DevIssuerOptions) *testEnv {
	t.Helper()
	e := &testEnv{}
	e.issuer = startIssuer(t, issuerOpts)
	e.ct, e.ctURL = startCTLog(t)
	e.startCA(t, []IssuerConfig{{URL: e.issuer.Issuer(), Type: typ}}, e.ctURL)
	return e
}

// startCA initialises a CA and serves it with the given issuers and CT log URL.
func (e *testEnv) startCA(t testing.TB, issuers []IssuerConfig, ctURL string) {
	t.Helper()
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	served := testutil.StartServer(t, func(string) (*Server, error) {
		return Open(context.Background(), dir, Options{Issuers: issuers, CTURL: ctURL})
	})
	e.ca, e.caURL, e.chain = served.Server, served.URL, served.Server.Chain()
}

func (e *testEnv) token(t testing.TB, r oidc.TokenRequest) string {
	t.Helper()
	tok, err := e.issuer.Token(r)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends a raw signingCert body and returns the status and body.
func (e *testEnv) post(t testing.TB, body []byte) (int, string) {
	t.Helper()
	resp, data := e.send(t, http.MethodPost, SigningCertPath, "", body)
	var ae apiError
	if json.Unmarshal([]byte(data), &ae) == nil && ae.Message != "" {
		return resp.StatusCode, ae.Message
	}
	return resp.StatusCode, data
}

// send asks the CA for path, with body as JSON when there is one and the token in an
// Authorization: Bearer header when there is one, and returns the answer with its body read.
func (e *testEnv) send(t testing.TB, method, path, token string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.caURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// ctBatchAge is the CT log batch age of tests and benchmarks: the log's default unless
// COSIGN_LIKE_CT_BATCH_AGE (a duration) says otherwise.
func ctBatchAge() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("COSIGN_LIKE_CT_BATCH_AGE")); err == nil {
		return d
	}
	return 0
}

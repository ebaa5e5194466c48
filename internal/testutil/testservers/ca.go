package testservers

import (
	"context"
	"crypto"
	"crypto/x509"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// CTLog is a certificate transparency log started by StartCTLog.
type CTLog struct {
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string
	// PublicKey is the key its SCTs are signed with.
	PublicKey crypto.PublicKey
	// Server is the CT log server.
	Server *ctlog.Server
	// Dir is its state directory.
	Dir string
	// TrustedRootPart is the trusted root listing the CT log that its Init wrote.
	TrustedRootPart []byte
}

// StartCTLog initialises a CT log that accepts any chain up to a self-signed root, for the URL
// it will be served at, opens it, and serves it on 127.0.0.1 until the test ends.
func StartCTLog(tb testing.TB) *CTLog {
	tb.Helper()
	ctx := context.Background()
	dir := testutil.StorageDir(tb)
	served := testutil.StartServer(tb, func(url string) (*ctlog.Server, error) {
		if err := ctlog.Init(ctx, dir, ctlog.InitOptions{URL: url}); err != nil {
			return nil, err
		}
		return ctlog.Open(ctx, dir, ctlog.Options{Logger: discardLogger()})
	})
	return &CTLog{URL: served.URL, PublicKey: served.Server.PublicKey(), Server: served.Server, Dir: dir,
		TrustedRootPart: readPart(tb, dir, ctlog.TrustedRootFile)}
}

// StartIssuer serves the OIDC dev issuer of pkg/oidc, made with opts, on 127.0.0.1 until the
// test ends; opts.URL is set to where it is served, which is its Issuer().
func StartIssuer(tb testing.TB, opts oidc.DevIssuerOptions) *oidc.DevIssuer {
	tb.Helper()
	return testutil.StartServer(tb, func(url string) (*oidc.DevIssuer, error) {
		opts.URL = url
		return oidc.NewDevIssuer(context.Background(), opts)
	}).Server
}

// Token is a token of the dev issuer for email.
func Token(tb testing.TB, issuer *oidc.DevIssuer, email string) string {
	tb.Helper()
	tok, err := issuer.Token(oidc.TokenRequest{Email: email})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// CA is a certificate authority started by StartCA.
type CA struct {
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string
	// Chain is its certificate chain, intermediate first, root last.
	Chain []*x509.Certificate
	// Server is the CA server.
	Server *ca.Server
	// Issuer is the dev issuer it trusts (email identities), or nil with WithIssuers.
	Issuer *oidc.DevIssuer
	// CTLog is the CT log its precertificates go to.
	CTLog *CTLog
	// Dir is its state directory.
	Dir string
	// TrustedRootPart is the trusted root listing the CA that its Init wrote.
	TrustedRootPart []byte
}

// CAOption configures StartCA.
type CAOption func(*caConfig)

type caConfig struct {
	issuers []ca.IssuerConfig
	ct      *CTLog
}

// WithIssuers makes the CA trust these OpenID providers (by default: a dev issuer of its own,
// started with StartIssuer, whose tokens name email identities).
func WithIssuers(issuers ...ca.IssuerConfig) CAOption {
	return func(c *caConfig) { c.issuers = issuers }
}

// WithCTLog makes the CA submit its precertificates to ct and check their SCTs under its key
// (by default: a CT log of its own, started with StartCTLog).
func WithCTLog(ct *CTLog) CAOption { return func(c *caConfig) { c.ct = ct } }

// StartCA initialises a CA for the URL it will be served at, opens it with its issuers and CT
// log, and serves it on 127.0.0.1 until the test ends.
func StartCA(tb testing.TB, opts ...CAOption) *CA {
	tb.Helper()
	var cfg caConfig
	for _, o := range opts {
		o(&cfg)
	}
	a := &CA{CTLog: cfg.ct, Dir: tb.TempDir()}
	if a.CTLog == nil {
		a.CTLog = StartCTLog(tb)
	}
	if cfg.issuers == nil {
		a.Issuer = StartIssuer(tb, oidc.DevIssuerOptions{})
		cfg.issuers = []ca.IssuerConfig{{URL: a.Issuer.Issuer(), Type: ca.IssuerEmail}}
	}
	ctx := context.Background()
	served := testutil.StartServer(tb, func(url string) (*ca.Server, error) {
		if err := ca.Init(ctx, a.Dir, ca.InitOptions{URL: url}); err != nil {
			return nil, err
		}
		return ca.Open(ctx, a.Dir, ca.Options{Issuers: cfg.issuers, CTURL: a.CTLog.URL, CTPublicKey: a.CTLog.PublicKey, Logger: discardLogger()})
	})
	a.URL, a.Server, a.Chain = served.URL, served.Server, served.Server.Chain()
	a.TrustedRootPart = readPart(tb, a.Dir, ca.TrustedRootFile)
	return a
}

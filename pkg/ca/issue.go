package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// CertificateValidity is the lifetime of issued certificates.
const CertificateValidity = 10 * time.Minute

// ErrCTLog wraps failures to get an SCT: no certificate is issued without one.
var ErrCTLog = errors.New("certificate transparency log submission failed")

// Server is the CA: it issues code-signing certificates and serves the Fulcio API.
type Server struct {
	key       crypto.Signer
	chain     []*x509.Certificate // intermediate first
	rawChain  [][]byte
	tokens    *TokenVerifier
	ctURL     string
	ctKey     crypto.PublicKey
	client    *http.Client
	ownClient bool
	handler   http.Handler
	logger    *slog.Logger
	now       func() time.Time
}

// Options configure Open and New.
type Options struct {
	// Issuers are the trusted OIDC issuers (required unless Tokens is set).
	Issuers []IssuerConfig
	// Tokens, when set, verifies ID tokens instead of a verifier made from Issuers.
	Tokens *TokenVerifier
	// CTURL is the base URL of the CT log (required: certificates always embed an SCT).
	CTURL string
	// CTPublicKey, when set, is the CT log's key: every SCT is checked against it before it is
	// embedded, and a certificate is refused if it does not verify.
	CTPublicKey crypto.PublicKey
	// HTTPClient talks to the CT log (by default a client with a 10 s timeout that keeps up to
	// 256 idle connections).
	HTTPClient *http.Client
	// Logger receives the CA's messages and request logs; nil discards them.
	Logger *slog.Logger
	// SignerOptions open an intermediate key kept in a PKCS#11 token (PIN, module path); Open
	// only.
	SignerOptions []signer.Option
}

// Config is what New makes a CA of: its intermediate key and chain, and the options.
type Config struct {
	// Key is the intermediate's key.
	Key crypto.Signer
	// Chain is the intermediate first, the root last.
	Chain []*x509.Certificate
	Options
}

// Open makes the CA whose state directory dir was written by Init: its key (the key file, or
// the KMS key named in ca_kms.txt) and chain, with opts. Both ca serve and the dev stack build
// their CA with it.
func Open(ctx context.Context, dir string, opts Options) (*Server, error) {
	key, chain, err := LoadKey(ctx, dir, opts.SignerOptions...)
	if err != nil {
		return nil, err
	}
	return New(ctx, Config{Key: key, Chain: chain, Options: opts})
}

// New makes a CA from its intermediate key and chain, a token verifier (Tokens, or one made
// from Issuers) and the CT log it submits precertificates to.
func New(_ context.Context, cfg Config) (*Server, error) {
	if len(cfg.Chain) == 0 {
		return nil, errors.New("CA: empty certificate chain")
	}
	if cfg.Key == nil {
		return nil, errors.New("CA: no key")
	}
	tokens := cfg.Tokens
	if tokens == nil {
		var err error
		if tokens, err = NewTokenVerifier(cfg.Issuers, nil); err != nil {
			return nil, err
		}
	}
	if cfg.CTURL == "" {
		return nil, errors.New("CA: a CT log URL is required")
	}
	if _, err := url.Parse(cfg.CTURL); err != nil {
		return nil, fmt.Errorf("CA: CT log URL: %w", err)
	}
	client, ownClient := cfg.HTTPClient, cfg.HTTPClient == nil
	if ownClient {
		// Keep a connection per concurrent issuance: every certificate costs a CT log round trip.
		client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Server{key: cfg.Key, chain: cfg.Chain, tokens: tokens, ctURL: cfg.CTURL, ctKey: cfg.CTPublicKey,
		client: client, ownClient: ownClient, logger: logger, now: time.Now}
	for _, c := range cfg.Chain {
		a.rawChain = append(a.rawChain, c.Raw)
	}
	a.handler = httpserver.Instrument("ca", a.api(), httpserver.Options{Logger: logger})
	return a, nil
}

// Close drops the idle connections to the CT log of a client the CA made itself.
func (a *Server) Close(context.Context) error {
	if a.ownClient {
		a.client.CloseIdleConnections()
	}
	return nil
}

// Chain returns the CA chain, intermediate first.
func (a *Server) Chain() []*x509.Certificate { return a.chain }

// Tokens returns the token verifier.
func (a *Server) Tokens() *TokenVerifier { return a.tokens }

// KeyProof is how a request proves possession of the key: either a signature over the
// identity's subject, or a CSR signed by the key.
type KeyProof struct {
	// PublicKey and Signature: the key and its signature over the email or sub (see VerifyProof).
	PublicKey crypto.PublicKey
	// PublicKeyContent is the key as PEM or DER PKIX, instead of PublicKey: Issue parses it
	// only once the token has verified, the order in which Fulcio checks a request.
	PublicKeyContent []byte
	Signature        []byte
	// CSR is a PEM or DER PKCS#10 request signed by the key (instead of PublicKey/Signature).
	CSR []byte
}

// Issue verifies token and the proof of possession, then issues a certificate for the identity:
// precertificate to the CT log, SCT embedded, final certificate signed. It returns the chain,
// leaf first, root last.
func (a *Server) Issue(ctx context.Context, token string, proof KeyProof) ([]*x509.Certificate, error) {
	principal, err := a.tokens.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	pub := proof.PublicKey
	switch {
	case len(proof.CSR) > 0 && (pub != nil || len(proof.PublicKeyContent) > 0):
		return nil, fmt.Errorf("%w: give either a public key with its proof or a CSR, not both", ErrProof)
	case len(proof.CSR) > 0:
		if pub, err = ParseCSR(proof.CSR); err != nil {
			return nil, err
		}
	default:
		if pub == nil {
			// With no content either, this names the missing key.
			if pub, err = ParsePublicKeyPEM(proof.PublicKeyContent); err != nil {
				return nil, err
			}
		} else if err := CheckPublicKey(pub); err != nil {
			return nil, err
		}
		if err := VerifyProof(pub, principal.Subject, proof.Signature); err != nil {
			return nil, err
		}
	}
	return a.issue(ctx, principal, pub)
}

// issue signs the precertificate, gets its SCT, and signs the final certificate.
func (a *Server) issue(ctx context.Context, p *Principal, pub crypto.PublicKey) ([]*x509.Certificate, error) {
	tmpl, err := a.template(p, pub)
	if err != nil {
		return nil, err
	}
	extra := tmpl.ExtraExtensions
	tmpl.ExtraExtensions = append(append([]pkix.Extension{}, extra...), ctlog.PoisonExtension())
	preDER, err := x509.CreateCertificate(rand.Reader, tmpl, a.chain[0], pub, a.key)
	if err != nil {
		return nil, fmt.Errorf("signing precertificate: %w", err)
	}
	sct, err := ctlog.Submit(ctx, a.client, a.ctURL, append([][]byte{preDER}, a.rawChain...), true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCTLog, err)
	}
	if a.ctKey != nil {
		if err := ctlog.VerifyPrecertSCT(sct, preDER, a.rawChain[0], a.ctKey); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCTLog, err)
		}
	}
	sctExt, err := ctlog.SCTListExtension(sct)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCTLog, err)
	}
	// The SCT extension takes the poison's place, so that removing it from the final
	// certificate gives back the precertificate's TBS exactly.
	tmpl.ExtraExtensions = append(append([]pkix.Extension{}, extra...), sctExt)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.chain[0], pub, a.key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the issued certificate: %w", err)
	}
	a.logger.Info("issued certificate", "issuer", p.Issuer, "identity", identityString(p),
		"serial", leaf.SerialNumber.Text(16))
	return append([]*x509.Certificate{leaf}, a.chain...), nil
}

// template is the certificate for a principal, without the poison or SCT extension.
func (a *Server) template(p *Principal, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := pki.SerialNumber()
	if err != nil {
		return nil, err
	}
	skid, err := pki.SubjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	exts, err := p.Extensions.Render()
	if err != nil {
		return nil, fmt.Errorf("rendering Fulcio extensions: %w", err)
	}
	now := a.now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    now,
		NotAfter:     now.Add(CertificateValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		SubjectKeyId: skid,
	}
	switch {
	case p.Email != "":
		tmpl.EmailAddresses = []string{p.Email}
	case p.URI != nil:
		tmpl.URIs = []*url.URL{p.URI}
	case p.Username != "":
		san, err := otherNameSAN(p.Username)
		if err != nil {
			return nil, err
		}
		exts = append([]pkix.Extension{san}, exts...)
	default:
		return nil, fmt.Errorf("%w: no identity", ErrIdentity)
	}
	tmpl.ExtraExtensions = exts
	return tmpl, nil
}

func identityString(p *Principal) string {
	switch {
	case p.Email != "":
		return p.Email
	case p.URI != nil:
		return p.URI.String()
	default:
		return p.Username
	}
}

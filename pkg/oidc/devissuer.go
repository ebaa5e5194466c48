package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cosign-like/cosign-like/internal/httpserver"
)

// DevIssuerOptions configure NewDevIssuer.
type DevIssuerOptions struct {
	// URL is the issuer URL: where the handler is reachable, and the iss of its tokens.
	URL string
	// Algorithm is the token signing algorithm: "ES256" (default) or "RS256".
	Algorithm string
	// Identities are the email addresses offered on the login page (a person may also type
	// another one). Default: alice@example.com and bob@example.com.
	Identities []string
	// ClientID is the default audience of tokens ("sigstore" by default).
	ClientID string
	// TokenLifetime is how long tokens are valid (10 minutes by default).
	TokenLifetime time.Duration
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
}

// DevIssuer is a small OpenID provider for local stacks and tests: discovery, JWKS, an
// authorization endpoint with a login page where a person picks an identity (authorization
// code with PKCE S256), the device authorization grant, and a non-interactive token endpoint
// (POST /dev/token). It trusts whoever reaches it: never expose it beyond loopback.
type DevIssuer struct {
	opts    DevIssuerOptions
	issuer  string
	prefix  string
	signer  jose.Signer
	jwks    jose.JSONWebKeySet
	handler http.Handler

	mu      sync.Mutex
	codes   map[string]*authCode
	devices map[string]*deviceGrant // by device code
	users   map[string]string       // user code -> device code
}

type authCode struct {
	clientID, redirectURI, challenge, nonce, email string
	expires                                        time.Time
}

type deviceGrant struct {
	clientID, userCode, email string
	approved                  bool
	expires                   time.Time
}

// Paths of the dev issuer, relative to its URL.
const (
	DevDiscoveryPath = "/.well-known/openid-configuration"
	DevJWKSPath      = "/keys"
	DevAuthPath      = "/auth"
	DevTokenPath     = "/token"
	DevDevicePath    = "/device"
	DevVerifyPath    = "/device/verify"
	DevMintPath      = "/dev/token"
)

// maxDevRequestSize bounds the body of every request to the dev issuer (forms of a few fields).
const maxDevRequestSize = 64 << 10

// NewDevIssuer creates a dev issuer with a fresh signing key.
func NewDevIssuer(_ context.Context, opts DevIssuerOptions) (*DevIssuer, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("dev issuer URL %q: want an absolute http(s) URL", opts.URL)
	}
	if opts.Algorithm == "" {
		opts.Algorithm = "ES256"
	}
	if len(opts.Identities) == 0 {
		opts.Identities = []string{"alice@example.com", "bob@example.com"}
	}
	if opts.ClientID == "" {
		opts.ClientID = "sigstore"
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var key crypto.Signer
	switch opts.Algorithm {
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("dev issuer algorithm %q: ES256 or RS256", opts.Algorithm)
	}
	if err != nil {
		return nil, fmt.Errorf("generating dev issuer key: %w", err)
	}
	pubJWK := jose.JSONWebKey{Key: key.Public(), Algorithm: opts.Algorithm, Use: "sig"}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dev issuer key ID: %w", err)
	}
	pubJWK.KeyID = base64.RawURLEncoding.EncodeToString(thumb[:16])
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(opts.Algorithm),
		Key:       jose.JSONWebKey{Key: key, KeyID: pubJWK.KeyID},
	}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("dev issuer signer: %w", err)
	}
	d := &DevIssuer{
		opts:    opts,
		issuer:  strings.TrimSuffix(opts.URL, "/"),
		prefix:  strings.TrimSuffix(u.Path, "/"),
		signer:  signer,
		jwks:    jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pubJWK}},
		codes:   map[string]*authCode{},
		devices: map[string]*deviceGrant{},
		users:   map[string]string{},
	}
	d.handler = httpserver.Instrument("oidc", d.api(), httpserver.Options{Logger: opts.Logger, MaxBodyBytes: maxDevRequestSize})
	return d, nil
}

// Close releases nothing: the issuer's grants live in memory and go with it.
func (d *DevIssuer) Close(context.Context) error { return nil }

// Issuer is the issuer URL (iss of the tokens).
func (d *DevIssuer) Issuer() string { return d.issuer }

// TokenRequest describes a token to mint.
type TokenRequest struct {
	// Email makes an email identity (email_verified true); Subject defaults to it.
	Email string
	// Subject is the sub claim.
	Subject string
	// Audience is the aud claim (the issuer's ClientID by default).
	Audience string
	// Claims are added to the token (for example GitHub Actions claims); they may not replace
	// iss, aud, exp, iat or nbf.
	Claims map[string]any
	// Lifetime overrides the issuer's token lifetime.
	Lifetime time.Duration
}

// Token mints an ID token.
func (d *DevIssuer) Token(r TokenRequest) (string, error) {
	sub := r.Subject
	if sub == "" {
		sub = r.Email
	}
	if sub == "" {
		return "", errors.New("dev issuer: an email or a subject is required")
	}
	aud := r.Audience
	if aud == "" {
		aud = d.opts.ClientID
	}
	life := r.Lifetime
	if life == 0 {
		life = d.opts.TokenLifetime
	}
	now := d.opts.Now()
	c := map[string]any{}
	for k, v := range r.Claims {
		switch k {
		case "iss", "aud", "exp", "iat", "nbf":
			return "", fmt.Errorf("dev issuer: claim %q cannot be set", k)
		}
		c[k] = v
	}
	c["iss"], c["sub"], c["aud"] = d.issuer, sub, aud
	c["iat"], c["nbf"], c["exp"] = now.Unix(), now.Unix(), now.Add(life).Unix()
	if r.Email != "" {
		c["email"], c["email_verified"] = r.Email, true
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dev issuer: encoding claims: %w", err)
	}
	jws, err := d.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dev issuer: signing token: %w", err)
	}
	return jws.CompactSerialize()
}

// Handler serves the issuer under its URL's path, and /healthz and /metrics (metrics named
// cosign_like_oidc_...).
func (d *DevIssuer) Handler() http.Handler { return d.handler }

// api is the issuer's own part of Handler.
func (d *DevIssuer) api() http.Handler {
	mux := http.NewServeMux()
	p := d.prefix
	mux.HandleFunc("GET "+p+DevDiscoveryPath, d.handleDiscovery)
	mux.HandleFunc("GET "+p+DevJWKSPath, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, d.jwks) })
	mux.HandleFunc("GET "+p+DevAuthPath, d.handleAuthPage)
	mux.HandleFunc("POST "+p+DevAuthPath, d.handleAuthPick)
	mux.HandleFunc("POST "+p+DevTokenPath, d.handleToken)
	mux.HandleFunc("POST "+p+DevDevicePath, d.handleDeviceAuthorization)
	mux.HandleFunc("GET "+p+DevVerifyPath, d.handleVerifyPage)
	mux.HandleFunc("POST "+p+DevVerifyPath, d.handleVerifyPick)
	mux.HandleFunc("POST "+p+DevMintPath, d.handleMint)
	return mux
}

func (d *DevIssuer) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                d.issuer,
		"authorization_endpoint":                d.issuer + DevAuthPath,
		"token_endpoint":                        d.issuer + DevTokenPath,
		"device_authorization_endpoint":         d.issuer + DevDevicePath,
		"jwks_uri":                              d.issuer + DevJWKSPath,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{d.opts.Algorithm},
		"scopes_supported":                      []string{"openid", "email"},
		"grant_types_supported":                 []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "email", "email_verified"},
	})
}

// handleMint is the non-interactive token endpoint: form fields email or sub, optional aud.
func (d *DevIssuer) handleMint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	email := r.PostForm.Get("email")
	if email != "" && !validEmail(email) {
		oauthError(w, 400, "invalid_request", "email is not an address")
		return
	}
	tok, err := d.Token(TokenRequest{Email: email, Subject: r.PostForm.Get("sub"), Audience: r.PostForm.Get("aud")})
	if err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"id_token": tok, "token_type": "Bearer", "expires_in": int(d.opts.TokenLifetime.Seconds())})
}

// handleToken answers the authorization-code (with PKCE) and device-code grants.
func (d *DevIssuer) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	var email, clientID, nonce string
	switch f.Get("grant_type") {
	case "authorization_code":
		d.mu.Lock()
		c := d.codes[f.Get("code")]
		delete(d.codes, f.Get("code"))
		d.mu.Unlock()
		switch {
		case c == nil || d.opts.Now().After(c.expires):
			oauthError(w, 400, "invalid_grant", "unknown or expired code")
			return
		case c.redirectURI != f.Get("redirect_uri"):
			oauthError(w, 400, "invalid_grant", "redirect_uri does not match the authorization request")
			return
		case c.clientID != f.Get("client_id"):
			oauthError(w, 400, "invalid_grant", "client_id does not match the authorization request")
			return
		case pkceChallenge(f.Get("code_verifier")) != c.challenge:
			oauthError(w, 400, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
		email, clientID, nonce = c.email, c.clientID, c.nonce
	case "urn:ietf:params:oauth:grant-type:device_code":
		d.mu.Lock()
		g := d.devices[f.Get("device_code")]
		var pending bool
		if g != nil && g.approved {
			delete(d.devices, f.Get("device_code"))
			delete(d.users, g.userCode)
		} else if g != nil {
			pending = true
		}
		d.mu.Unlock()
		switch {
		case g == nil || d.opts.Now().After(g.expires):
			oauthError(w, 400, "expired_token", "unknown or expired device code")
			return
		case pending:
			oauthError(w, 400, "authorization_pending", "the user has not picked an identity yet")
			return
		case g.clientID != f.Get("client_id"):
			oauthError(w, 400, "invalid_grant", "client_id does not match the device authorization")
			return
		}
		email, clientID = g.email, g.clientID
	default:
		oauthError(w, 400, "unsupported_grant_type", "grant_type must be authorization_code or the device code grant")
		return
	}
	claims := map[string]any{}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok, err := d.Token(TokenRequest{Email: email, Audience: clientID, Claims: claims})
	if err != nil {
		oauthError(w, 500, "server_error", err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"access_token": randomString(16), "id_token": tok, "token_type": "Bearer",
		"expires_in": int(d.opts.TokenLifetime.Seconds())})
}

func (d *DevIssuer) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		oauthError(w, 400, "invalid_request", "client_id is required")
		return
	}
	device := randomString(24)
	user := strings.ToUpper(hex.EncodeToString([]byte(randomString(3))))[:8]
	d.mu.Lock()
	d.gc()
	d.devices[device] = &deviceGrant{clientID: clientID, userCode: user, expires: d.opts.Now().Add(10 * time.Minute)}
	d.users[user] = device
	d.mu.Unlock()
	verify := d.issuer + DevVerifyPath
	writeJSON(w, 200, map[string]any{
		"device_code": device, "user_code": user, "verification_uri": verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(user),
		"expires_in":                600, "interval": 1,
	})
}

// gc drops expired codes and grants; d.mu must be held.
func (d *DevIssuer) gc() {
	now := d.opts.Now()
	for k, c := range d.codes {
		if now.After(c.expires) {
			delete(d.codes, k)
		}
	}
	for k, g := range d.devices {
		if now.After(g.expires) {
			delete(d.devices, k)
			delete(d.users, g.userCode)
		}
	}
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \t\r\n<>\"'")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, code int, kind, desc string) {
	writeJSON(w, code, map[string]string{"error": kind, "error_description": desc})
}

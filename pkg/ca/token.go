package ca

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// Token limits and timing.
const (
	// MaxTokenSize bounds an ID token; longer tokens are refused before they are split.
	MaxTokenSize = 32 << 10
	// ClockSkew is the tolerance on exp, nbf and iat.
	ClockSkew = time.Minute
	// maxDiscoverySize bounds discovery documents and JWKS.
	maxDiscoverySize = 1 << 20
	// keysetRefreshInterval is the least time between two JWKS fetches of one issuer: a token
	// with an unknown key ID triggers at most one fetch per interval.
	keysetRefreshInterval = 10 * time.Second
	// keysetMaxAge is how long fetched keys are used before they are fetched again.
	keysetMaxAge = 10 * time.Minute
	// discoveryRetryInterval is the least time between two failed discoveries of one issuer.
	discoveryRetryInterval = 5 * time.Second
)

// Errors of token verification. Each wraps ErrInvalidToken, which the API answers with 401.
var (
	ErrInvalidToken  = errors.New("invalid identity token")
	ErrUnknownIssuer = fmt.Errorf("%w: issuer not trusted by this CA", ErrInvalidToken)
	ErrTokenTooLarge = fmt.Errorf("%w: token too large", ErrInvalidToken)
)

// signingAlgs are the JWS algorithms accepted on ID tokens ("none" never is).
var signingAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// TokenVerifier verifies ID tokens from the configured issuers. Discovery documents and key
// sets are fetched lazily and cached; refreshes are rate-limited per issuer.
type TokenVerifier struct {
	client  *http.Client
	now     func() time.Time
	issuers map[string]*issuerState
}

type issuerState struct {
	cfg IssuerConfig

	mu            sync.Mutex
	verifier      *oidc.IDTokenVerifier
	lastDiscovery time.Time
	discoveryErr  error
	keys          *boundedKeySet
}

// NewTokenVerifier makes a verifier for the issuers. client (nil for a default one) is wrapped
// so that redirects to another host are refused and bodies are bounded.
func NewTokenVerifier(issuers []IssuerConfig, client *http.Client) (*TokenVerifier, error) {
	if len(issuers) == 0 {
		return nil, fmt.Errorf("%w: no issuers configured", ErrConfig)
	}
	v := &TokenVerifier{client: safeClient(client), now: time.Now, issuers: map[string]*issuerState{}}
	for _, ic := range issuers {
		if err := ic.normalise(); err != nil {
			return nil, err
		}
		if _, dup := v.issuers[ic.URL]; dup {
			return nil, fmt.Errorf("%w: issuer %s listed twice", ErrConfig, ic.URL)
		}
		v.issuers[ic.URL] = &issuerState{cfg: ic}
	}
	return v, nil
}

// Issuers returns the configured issuers.
func (v *TokenVerifier) Issuers() []IssuerConfig {
	out := make([]IssuerConfig, 0, len(v.issuers))
	for _, s := range v.issuers {
		out = append(out, s.cfg)
	}
	return out
}

// safeClient copies client (or a default) with a timeout, a same-host redirect policy and a
// body size limit.
func safeClient(client *http.Client) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if client != nil {
		*c = *client
		if c.Timeout == 0 {
			c.Timeout = 10 * time.Second
		}
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = limitTransport{base}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
			return fmt.Errorf("refusing redirect from %s to another host (%s)", via[0].URL.Host, req.URL.Host)
		}
		return nil
	}
	return c
}

// limitTransport bounds response bodies: reading past maxDiscoverySize fails.
type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxDiscoverySize}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("response body exceeds %d bytes", maxDiscoverySize)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// unverifiedIssuer reads iss from a token's payload without verifying anything, after checking
// the token's size and shape.
func unverifiedIssuer(token string) (string, error) {
	if len(token) > MaxTokenSize {
		return "", fmt.Errorf("%w: %d bytes exceeds %d", ErrTokenTooLarge, len(token), MaxTokenSize)
	}
	if strings.Count(token, ".") != 2 {
		return "", fmt.Errorf("%w: not a compact JWS (three dot-separated parts)", ErrInvalidToken)
	}
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url: %v", ErrInvalidToken, err)
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%w: payload is not a JSON object: %v", ErrInvalidToken, err)
	}
	if c.Issuer == "" {
		return "", fmt.Errorf("%w: no iss claim", ErrInvalidToken)
	}
	return c.Issuer, nil
}

// Verify checks a token's size, issuer (exactly one configured), signature (a key of the
// issuer's JWKS; never alg none), audience (the issuer's client ID), exp, nbf and iat (with
// ClockSkew), and returns the identity it proves.
func (v *TokenVerifier) Verify(ctx context.Context, token string) (*Principal, error) {
	iss, err := unverifiedIssuer(token)
	if err != nil {
		return nil, err
	}
	st, ok := v.issuers[iss]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownIssuer, iss)
	}
	verifier, err := st.get(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer %s: %w", ErrInvalidToken, iss, err)
	}
	idt, err := verifier.Verify(ctx, token)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, fmt.Errorf("%w: token expired at %s", ErrInvalidToken, exp.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var times struct {
		NotBefore *json.Number `json:"nbf"`
		IssuedAt  *json.Number `json:"iat"`
	}
	if err := idt.Claims(&times); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	limit := v.now().Add(ClockSkew)
	for name, n := range map[string]*json.Number{"nbf": times.NotBefore, "iat": times.IssuedAt} {
		if n == nil {
			continue
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("%w: %s claim %q is not a number", ErrInvalidToken, name, n.String())
		}
		if t := time.Unix(int64(f), 0); t.After(limit) {
			return nil, fmt.Errorf("%w: token not yet valid (%s %s is in the future)", ErrInvalidToken, name, t.UTC().Format(time.RFC3339))
		}
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	p, err := principalFor(&st.cfg, payload)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// get returns the issuer's go-oidc verifier, running discovery once (retried at most every
// discoveryRetryInterval after a failure).
func (s *issuerState) get(ctx context.Context, v *TokenVerifier) (*oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifier != nil {
		return s.verifier, nil
	}
	if s.discoveryErr != nil && v.now().Sub(s.lastDiscovery) < discoveryRetryInterval {
		return nil, s.discoveryErr
	}
	s.lastDiscovery = v.now()
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), v.client), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(dctx, s.cfg.URL)
	if err != nil {
		s.discoveryErr = fmt.Errorf("discovery: %w", err)
		return nil, s.discoveryErr
	}
	var doc struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&doc); err != nil || doc.JWKSURL == "" {
		s.discoveryErr = errors.New("discovery: no jwks_uri")
		return nil, s.discoveryErr
	}
	s.keys = &boundedKeySet{url: doc.JWKSURL, client: v.client, now: v.now}
	s.verifier = oidc.NewVerifier(s.cfg.URL, s.keys, &oidc.Config{
		ClientID:             s.cfg.ClientID,
		SupportedSigningAlgs: signingAlgs,
		Now:                  func() time.Time { return v.now().Add(-ClockSkew) },
	})
	s.discoveryErr = nil
	return s.verifier, nil
}

// boundedKeySet is an oidc.KeySet that caches a JWKS. A token naming an unknown key triggers a
// fetch at most once per keysetRefreshInterval; keys older than keysetMaxAge are refreshed in
// the background while the cached ones keep serving. Fetches run outside the lock, so tokens
// with known keys never wait for one.
type boundedKeySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time     // start of the last fetch (rate limit)
	fetchErr  error         // error of the last fetch, nil after a success
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
}

// VerifySignature implements oidc.KeySet.
func (k *boundedKeySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSigned(token, toJoseAlgs(signingAlgs))
	if err != nil {
		return nil, fmt.Errorf("malformed JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("exactly one signature required")
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.lookup(ctx, kid, false)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		if keys, err = k.lookup(ctx, kid, true); err != nil {
			return nil, err
		}
	}
	for _, key := range keys {
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no key with ID %q in the issuer's JWKS", kid)
	}
	return nil, errors.New("signature does not verify under the issuer's keys")
}

// lookup returns the cached keys matching kid (all keys when kid is empty). It starts a fetch
// when the cache is empty or older than keysetMaxAge, or when refresh is set and the last fetch
// started at least keysetRefreshInterval ago; it waits for a running fetch only when no cached
// key matches.
func (k *boundedKeySet) lookup(ctx context.Context, kid string, refresh bool) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	now := k.now()
	stale := k.fetchedAt.IsZero() || now.Sub(k.fetchedAt) > keysetMaxAge
	if (stale || (refresh && now.Sub(k.fetchedAt) >= keysetRefreshInterval)) && k.inflight == nil {
		k.startFetchLocked(ctx, now)
	}
	keys, wait := k.matchLocked(kid), k.inflight
	k.mu.Unlock()
	if len(keys) > 0 || wait == nil {
		return keys, nil
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the issuer's JWKS: %w", ctx.Err())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	keys = k.matchLocked(kid)
	if len(keys) == 0 && k.fetchErr != nil {
		return nil, k.fetchErr
	}
	return keys, nil
}

// startFetchLocked fetches the JWKS in the background; k.mu must be held.
func (k *boundedKeySet) startFetchLocked(ctx context.Context, now time.Time) {
	done := make(chan struct{})
	k.inflight, k.fetchedAt = done, now
	fctx := context.WithoutCancel(ctx)
	go func() {
		keys, err := k.fetch(fctx)
		k.mu.Lock()
		if err == nil {
			k.keys = keys
		}
		k.fetchErr, k.inflight = err, nil
		k.mu.Unlock()
		close(done)
	}()
}

// matchLocked returns the usable signing keys with ID kid; k.mu must be held.
func (k *boundedKeySet) matchLocked(kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range k.keys {
		if (kid == "" || key.KeyID == kid) && (key.Use == "" || key.Use == "sig") && key.Valid() {
			out = append(out, key)
		}
	}
	return out
}

func (k *boundedKeySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", k.url, err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS %s: HTTP %d", k.url, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decoding JWKS %s: %w", k.url, err)
	}
	return set.Keys, nil
}

func toJoseAlgs(names []string) []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(names))
	for i, n := range names {
		out[i] = jose.SignatureAlgorithm(n)
	}
	return out
}

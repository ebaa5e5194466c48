package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cosign-like/cosign-like/internal/netutil"
)

// Defaults of the interactive flows, as cosign has them.
const (
	DefaultIssuer   = "https://oauth2.sigstore.dev/auth"
	DefaultClientID = "sigstore"
	// MaxTokenSize bounds a token read from a file, the environment or a provider.
	MaxTokenSize = 64 << 10
)

// ErrNoToken is returned when no source gives a token and interactive flows are disabled.
var ErrNoToken = errors.New("no identity token")

// SourceIdentityToken is the TokenError source of a token given as Options.IdentityToken (the
// value, not a file it names).
const SourceIdentityToken = "identity token"

// TokenError is a token that GetToken refused: where it came from (SourceIdentityToken,
// SIGSTORE_ID_TOKEN, "identity token file F", "GitHub Actions token") and why.
type TokenError struct {
	Source string
	Reason string
}

// Error names the source and the reason.
func (e *TokenError) Error() string { return e.Source + ": " + e.Reason }

// Options say where GetToken looks for a token.
type Options struct {
	// IdentityToken is a token, or the path of a file holding one (--identity-token).
	IdentityToken string
	// Issuer is the OpenID provider of the interactive flows (DefaultIssuer when empty).
	Issuer string
	// ClientID and ClientSecret identify this client at the provider (ClientID defaults to
	// DefaultClientID; the secret is usually empty for this public client).
	ClientID, ClientSecret string
	// RedirectURL is the loopback redirect of the browser flow
	// (http://localhost:0/auth/callback by default: port 0 picks a free port).
	RedirectURL string
	// DeviceFlow selects the device authorization flow instead of the browser flow.
	DeviceFlow bool
	// DisableInteractive stops after the non-interactive sources.
	DisableInteractive bool
	// Getenv reads the environment (os.Getenv by default).
	Getenv func(string) string
	// Out receives the URL to open and device-flow instructions (discarded when nil).
	Out io.Writer
	// OpenBrowser, when set, is called with the authorization URL (the URL is printed anyway).
	OpenBrowser func(url string) error
	// HTTPClient talks to the provider and GitHub (http.DefaultClient when nil).
	HTTPClient *http.Client
	// IdleTimeout cancels an exchange with the provider or GitHub that makes no progress for
	// this long: connecting, sending, waiting for the answer's headers, or within one read of
	// its body (default 30 s). It bounds each request of HTTPClient, never the wait for a
	// person to sign in, which only the context bounds.
	IdleTimeout time.Duration
}

// GetToken returns an ID token from the first source that has one: opts.IdentityToken (value
// or file), SIGSTORE_ID_TOKEN, GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN, audience sigstore), then unless DisableInteractive the device
// flow (when DeviceFlow) or the browser flow (authorization code with PKCE on a loopback
// redirect).
func GetToken(ctx context.Context, opts Options) (string, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	opts.HTTPClient = netutil.Client(opts.HTTPClient, opts.IdleTimeout)
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if opts.IdentityToken != "" {
		return tokenFromOption(opts.IdentityToken)
	}
	if t := strings.TrimSpace(opts.Getenv("SIGSTORE_ID_TOKEN")); t != "" {
		return checkTokenShape(t, "SIGSTORE_ID_TOKEN")
	}
	if u := opts.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"); u != "" {
		return githubActionsToken(ctx, opts.HTTPClient, u, opts.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), DefaultClientID)
	}
	if opts.DisableInteractive {
		return "", ErrNoToken
	}
	if opts.DeviceFlow {
		return deviceFlow(ctx, opts)
	}
	return browserFlow(ctx, opts)
}

// tokenFromOption reads Options.IdentityToken: a path to a file holding the token, or the token.
func tokenFromOption(v string) (string, error) {
	if fi, err := os.Stat(v); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > MaxTokenSize {
			return "", fmt.Errorf("identity token file %s: %d bytes exceeds %d", v, fi.Size(), MaxTokenSize)
		}
		data, err := os.ReadFile(v)
		if err != nil {
			return "", fmt.Errorf("reading identity token: %w", err)
		}
		return checkTokenShape(strings.TrimSpace(string(data)), "identity token file "+v)
	}
	return checkTokenShape(strings.TrimSpace(v), SourceIdentityToken)
}

// checkTokenShape requires a compact JWS (three dot-separated parts) of bounded size.
func checkTokenShape(t, source string) (string, error) {
	if len(t) > MaxTokenSize {
		return "", &TokenError{Source: source, Reason: fmt.Sprintf("token of %d bytes exceeds %d", len(t), MaxTokenSize)}
	}
	if strings.Count(t, ".") != 2 {
		return "", &TokenError{Source: source, Reason: "neither a JWT nor a readable file"}
	}
	return t, nil
}

// githubActionsToken asks the GitHub Actions token service for a token with audience aud.
func githubActionsToken(ctx context.Context, client *http.Client, reqURL, bearer, aud string) (string, error) {
	if bearer == "" {
		return "", errors.New("GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not (does the job have permissions: id-token: write?)")
	}
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", aud)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions token request: %w", err)
	}
	req.Header.Set("Authorization", "bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxTokenSize+1024))
	if err != nil {
		return "", fmt.Errorf("GitHub Actions token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions token request: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 256)])))
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("GitHub Actions token response: %w", err)
	}
	return checkTokenShape(v.Value, "GitHub Actions token")
}

// provider runs discovery and returns the OAuth2 config and an ID token verifier. The issuer
// must be https, or http on a loopback address.
func provider(ctx context.Context, opts Options, redirect string) (*oauth2.Config, *gooidc.IDTokenVerifier, error) {
	u, err := url.Parse(opts.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, nil, fmt.Errorf("OpenID provider %q: want an https URL (http only on loopback)", opts.Issuer)
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, opts.HTTPClient), opts.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("OpenID provider %s: %w", opts.Issuer, err)
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	cfg := &oauth2.Config{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, Endpoint: ep,
		RedirectURL: redirect, Scopes: []string{gooidc.ScopeOpenID, "email"}}
	return cfg, p.Verifier(&gooidc.Config{ClientID: opts.ClientID}), nil
}

// idTokenFrom extracts and verifies the id_token of a token response.
func idTokenFrom(ctx context.Context, tok *oauth2.Token, v *gooidc.IDTokenVerifier, nonce string, client *http.Client) (string, error) {
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", errors.New("the provider answered without an id_token")
	}
	idt, err := v.Verify(gooidc.ClientContext(ctx, client), raw)
	if err != nil {
		return "", fmt.Errorf("verifying the ID token: %w", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return "", errors.New("the ID token's nonce does not match the request")
	}
	return raw, nil
}

// browserFlow runs the authorization code flow with PKCE, receiving the code on a loopback
// redirect.
func browserFlow(ctx context.Context, opts Options) (string, error) {
	ln, redirect, err := listenForRedirect(ctx, opts.RedirectURL)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	cfg, verifier, err := provider(ctx, opts, redirect.String())
	if err != nil {
		return "", err
	}
	state, nonce, pkce := randomString(16), randomString(16), oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), gooidc.Nonce(nonce))
	rr := serveRedirect(ln, redirect.Path, state)
	defer rr.server.Close()
	showAuthURL(opts, authURL)
	code, err := rr.wait(ctx)
	if err != nil {
		return "", err
	}
	tok, err := cfg.Exchange(gooidc.ClientContext(ctx, opts.HTTPClient), code, oauth2.VerifierOption(pkce))
	if err != nil {
		return "", fmt.Errorf("exchanging the code: %w", err)
	}
	return idTokenFrom(ctx, tok, verifier, nonce, opts.HTTPClient)
}

// listenForRedirect listens on the loopback address of the redirect URL (default
// http://localhost:0/auth/callback) and returns the URL with the port it got.
func listenForRedirect(ctx context.Context, redirect string) (net.Listener, *url.URL, error) {
	if redirect == "" {
		redirect = "http://localhost:0/auth/callback"
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || !isLoopback(ru.Hostname()) {
		return nil, nil, fmt.Errorf("redirect URL %q: want an http URL on a loopback address", redirect)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(loopbackIP(ru.Hostname()), portOr0(ru.Port())))
	if err != nil {
		return nil, nil, fmt.Errorf("listening for the redirect: %w", err)
	}
	ru.Host = net.JoinHostPort(ru.Hostname(), fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	return ln, ru, nil
}

// redirectReceiver serves the redirect of the browser flow and hands over its first result.
type redirectReceiver struct {
	server  *http.Server
	results chan redirectResult
}

// redirectResult is the authorization code a redirect carried, or why it carried none.
type redirectResult struct {
	code string
	err  error
}

// serveRedirect serves GET path on ln: the redirect must carry state and a code. The browser
// gets a page saying whether sign-in worked.
func serveRedirect(ln net.Listener, path, state string) *redirectReceiver {
	if path == "" {
		path = "/"
	}
	rr := &redirectReceiver{results: make(chan redirectResult, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		res := redirectResultOf(r.URL.Query(), state)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>Sign-in failed</title><p>Sign-in failed: %s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!doctype html><title>Signed in</title><p>Signed in. You can close this window and return to the terminal.</p>")
		}
		select {
		case rr.results <- res:
		default:
		}
	})
	rr.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rr.server.Serve(ln) }()
	return rr
}

// redirectResultOf reads the query of a redirect made for state.
func redirectResultOf(q url.Values, state string) redirectResult {
	switch {
	case q.Get("error") != "":
		return redirectResult{err: fmt.Errorf("the provider refused: %s: %s", q.Get("error"), q.Get("error_description"))}
	case q.Get("state") != state:
		return redirectResult{err: errors.New("the redirect's state does not match the request")}
	case q.Get("code") == "":
		return redirectResult{err: errors.New("the redirect carries no code")}
	}
	return redirectResult{code: q.Get("code")}
}

// wait returns the code of the first redirect, or why it carried none.
func (rr *redirectReceiver) wait(ctx context.Context) (string, error) {
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the browser sign-in: %w", ctx.Err())
	case res := <-rr.results:
		return res.code, res.err
	}
}

// showAuthURL prints the authorization URL and opens it in a browser when the options can.
func showAuthURL(opts Options, authURL string) {
	fmt.Fprintf(opts.Out, "Your browser will open to sign in. If it does not, open this URL:\n\n%s\n\n", authURL)
	if opts.OpenBrowser != nil {
		if err := opts.OpenBrowser(authURL); err != nil {
			fmt.Fprintf(opts.Out, "Could not open a browser (%v): open the URL above yourself.\n", err)
		}
	}
}

// deviceFlow runs the device authorization grant, printing where to sign in.
func deviceFlow(ctx context.Context, opts Options) (string, error) {
	cfg, verifier, err := provider(ctx, opts, "")
	if err != nil {
		return "", err
	}
	if cfg.Endpoint.DeviceAuthURL == "" {
		return "", fmt.Errorf("OpenID provider %s does not offer the device flow", opts.Issuer)
	}
	hctx := gooidc.ClientContext(ctx, opts.HTTPClient)
	da, err := cfg.DeviceAuth(hctx)
	if err != nil {
		return "", fmt.Errorf("starting the device flow: %w", err)
	}
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(opts.Out, "To sign in, open:\n\n%s\n\n(code %s)\n", da.VerificationURIComplete, da.UserCode)
	} else {
		fmt.Fprintf(opts.Out, "To sign in, open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	}
	tok, err := cfg.DeviceAccessToken(hctx, da)
	if err != nil {
		return "", fmt.Errorf("device flow: %w", err)
	}
	return idTokenFrom(ctx, tok, verifier, "", opts.HTTPClient)
}

func loopbackIP(host string) string {
	if strings.EqualFold(host, "localhost") {
		return "127.0.0.1"
	}
	return host
}

func portOr0(p string) string {
	if p == "" {
		return "0"
	}
	return p
}

// SystemBrowser opens url in the desktop's browser (xdg-open, or open on macOS). It is meant
// for Options.OpenBrowser on the command line.
func SystemBrowser(u string) error {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") {
		return fmt.Errorf("refusing to open %q: not an http(s) URL", u)
	}
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	cmd := exec.Command(name, u)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opening a browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

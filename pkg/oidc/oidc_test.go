package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// startDevIssuer serves a dev issuer on a loopback port.
func startDevIssuer(t *testing.T, opts DevIssuerOptions) *DevIssuer {
	t.Helper()
	return startDevIssuerBehind(t, opts, func(h http.Handler) http.Handler { return h })
}

// startDevIssuerBehind serves a dev issuer on a loopback port through the handler wrap makes
// of its own.
func startDevIssuerBehind(t *testing.T, opts DevIssuerOptions, wrap func(http.Handler) http.Handler) *DevIssuer {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	opts.URL = "http://" + ts.Listener.Addr().String()
	d, err := NewDevIssuer(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = wrap(d.Handler())
	ts.Start()
	t.Cleanup(ts.Close)
	return d
}

// claimsOf decodes a token's payload without verification.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyWithGoOIDC checks a token against the issuer's discovery and JWKS, as a relying party.
func verifyWithGoOIDC(t *testing.T, d *DevIssuer, tok string) *gooidc.IDToken {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), d.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: "sigstore"}).Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("go-oidc refuses the dev issuer's token: %v", err)
	}
	return idt
}

func TestDevIssuerTokens(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			d := startDevIssuer(t, DevIssuerOptions{Algorithm: alg})
			tok, err := d.Token(TokenRequest{Email: "alice@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			idt := verifyWithGoOIDC(t, d, tok)
			var c struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
			}
			_ = idt.Claims(&c)
			if idt.Subject != "alice@example.com" || c.Email != "alice@example.com" || !c.EmailVerified {
				t.Fatalf("claims sub=%s %+v", idt.Subject, c)
			}
			// The non-interactive endpoint mints the same kind of token.
			resp, err := http.PostForm(d.Issuer()+DevMintPath, url.Values{"email": {"bob@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				IDToken string `json:"id_token"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if sub := verifyWithGoOIDC(t, d, out.IDToken).Subject; sub != "bob@example.com" {
				t.Fatalf("minted token for %q", sub)
			}
		})
	}
	d := startDevIssuer(t, DevIssuerOptions{})
	if _, err := d.Token(TokenRequest{}); err == nil || !strings.Contains(err.Error(), "an email or a subject is required") {
		t.Fatalf("empty request: %v", err)
	}
	if _, err := d.Token(TokenRequest{Subject: "x", Claims: map[string]any{"iss": "https://evil"}}); err == nil || !strings.Contains(err.Error(), `claim "iss" cannot be set`) {
		t.Fatalf("iss override: %v", err)
	}
	resp, _ := http.PostForm(d.Issuer()+DevMintPath, url.Values{"email": {"not an address"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "email is not an address") {
		t.Fatalf("bad email: %d %s", resp.StatusCode, body)
	}
}

func TestSourcesInOrder(t *testing.T) {
	d := startDevIssuer(t, DevIssuerOptions{})
	mk := func(email string) string {
		tok, err := d.Token(TokenRequest{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	flagTok, fileTok, envTok, ghTok := mk("flag@example.com"), mk("file@example.com"), mk("env@example.com"), mk("gh@example.com")
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(fileTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ghAudience, ghAuth string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ghAudience, ghAuth = r.URL.Query().Get("audience"), r.Header.Get("Authorization")
		_ = json.NewEncoder(w).Encode(map[string]string{"value": ghTok})
	}))
	defer gh.Close()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	all := map[string]string{"SIGSTORE_ID_TOKEN": envTok, "ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-secret"}
	noEnvTok := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": all["ACTIONS_ID_TOKEN_REQUEST_URL"], "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-secret"}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"flag value first", Options{IdentityToken: flagTok, Getenv: env(all)}, flagTok},
		{"flag file", Options{IdentityToken: file, Getenv: env(all)}, fileTok},
		{"SIGSTORE_ID_TOKEN before GitHub", Options{Getenv: env(all)}, envTok},
		{"GitHub Actions", Options{Getenv: env(noEnvTok)}, ghTok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DisableInteractive = true
			got, err := GetToken(context.Background(), tc.opts)
			if err != nil || got != tc.want {
				t.Fatalf("GetToken = %v; subject %v, want %v", err, claimsOf(t, got)["sub"], claimsOf(t, tc.want)["sub"])
			}
		})
	}
	if ghAudience != "sigstore" || ghAuth != "bearer runner-secret" {
		t.Fatalf("GitHub request audience %q auth %q", ghAudience, ghAuth)
	}
	refusals := []struct {
		name string
		opts Options
		want string
	}{
		{"nothing", Options{Getenv: env(nil)}, "no identity token"},
		{"garbage option", Options{IdentityToken: "not-a-token", Getenv: env(nil)}, "identity token: neither a JWT nor a readable file"},
		{"GitHub without request token", Options{Getenv: env(map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": gh.URL})}, "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not"},
		{"huge option", Options{IdentityToken: strings.Repeat("a.", 40000), Getenv: env(nil)}, "exceeds 65536"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DisableInteractive = true
			_, err := GetToken(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("GetToken = %v, want %q", err, tc.want)
			}
		})
	}
	_, err := GetToken(context.Background(), Options{Getenv: env(nil), DisableInteractive: true})
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("want ErrNoToken, got %v", err)
	}
	_, err = GetToken(context.Background(), Options{IdentityToken: "not-a-token", Getenv: env(nil), DisableInteractive: true})
	var te *TokenError
	if !errors.As(err, &te) || te.Source != SourceIdentityToken {
		t.Fatalf("want a TokenError from %s, got %v", SourceIdentityToken, err)
	}
}

// pickOnLoginPage acts as the person at the browser: it loads the login page at authURL and
// picks email, following the redirect back to the client.
func pickOnLoginPage(t *testing.T, authURL, email string) error {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(email)) {
		t.Errorf("login page HTTP %d lacks %s: %s", resp.StatusCode, email, page)
	}
	form := url.Values{"email": {email}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(string(page))
	u, _ := url.Parse(authURL)
	u.Path, u.RawQuery = action[1], ""
	resp, err = http.PostForm(u.String(), form) // follows the redirect to the client's callback
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Signed in") {
		t.Errorf("callback answered %d: %s", resp.StatusCode, body)
	}
	return nil
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}

func TestBrowserFlowWithPKCE(t *testing.T) {
	d := startDevIssuer(t, DevIssuerOptions{Identities: []string{"alice@example.com", "bob@example.com"}})
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := GetToken(ctx, Options{Issuer: d.Issuer(), Getenv: func(string) string { return "" }, Out: &out,
		OpenBrowser: func(u string) error {
			if !strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "redirect_uri=http%3A%2F%2Flocalhost%3A") {
				t.Errorf("authorization URL %s lacks PKCE or a loopback redirect", u)
			}
			go func() { _ = pickOnLoginPage(t, u, "bob@example.com") }()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if claimsOf(t, tok)["email"] != "bob@example.com" {
		t.Fatalf("token for %v", claimsOf(t, tok)["email"])
	}
	if !strings.Contains(out.String(), d.Issuer()+DevAuthPath+"?") {
		t.Fatalf("the URL was not printed: %q", out.String())
	}
}

func TestAuthorizationCodeRefusals(t *testing.T) {
	d := startDevIssuer(t, DevIssuerOptions{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	challenge := pkceChallenge("the-verifier-the-verifier-the-verifier-123")
	base := url.Values{"response_type": {"code"}, "client_id": {"sigstore"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s"}, "email": {"alice@example.com"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range base {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"no PKCE":         {with("code_challenge_method", "plain"), "PKCE with code_challenge_method S256 is required"},
		"remote redirect": {with("redirect_uri", "http://evil.example/cb"), "redirect_uri must be an http URL on a loopback address"},
	} {
		resp, _ := client.PostForm(d.Issuer()+DevAuthPath, tc.form)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	resp, err := client.PostForm(d.Issuer()+DevAuthPath, base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	exchange := func(verifier string) (int, string) {
		r, _ := http.PostForm(d.Issuer()+DevTokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"client_id": {"sigstore"}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {verifier}})
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(b)
	}
	if c, b := exchange("wrong-verifier"); c != 400 || !strings.Contains(b, "code_verifier does not match") {
		t.Fatalf("wrong verifier: %d %s", c, b)
	}
	// A code is single-use, even after a failed attempt.
	if c, b := exchange("the-verifier-the-verifier-the-verifier-123"); c != 400 || !strings.Contains(b, "unknown or expired code") {
		t.Fatalf("reused code: %d %s", c, b)
	}
}

func TestDeviceFlow(t *testing.T) {
	d := startDevIssuer(t, DevIssuerOptions{})
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		n, _ := io.ReadAtLeast(pr, buf, 10)
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		m := regexp.MustCompile(`(http://\S+/device/verify\?user_code=(\S+))`).FindStringSubmatch(string(buf[:n]))
		if m == nil {
			t.Errorf("no verification URL printed: %q", buf[:n])
			return
		}
		resp, err := http.PostForm(d.Issuer()+DevVerifyPath, url.Values{"user_code": {m[2]}, "email": {"carol@example.com"}})
		if err != nil {
			t.Error(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Signed in as carol@example.com") {
			t.Errorf("verify page: %s", body)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := GetToken(ctx, Options{Issuer: d.Issuer(), DeviceFlow: true, Out: pw, Getenv: func(string) string { return "" }})
	pw.Close()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if claimsOf(t, tok)["email"] != "carol@example.com" {
		t.Fatalf("token for %v", claimsOf(t, tok)["email"])
	}
}

func TestInteractiveFlowsRefuseRemoteHTTPIssuer(t *testing.T) {
	for _, device := range []bool{false, true} {
		_, err := GetToken(context.Background(), Options{Issuer: "http://accounts.example.com", DeviceFlow: device, Getenv: func(string) string { return "" }})
		if err == nil || !strings.Contains(err.Error(), "want an https URL (http only on loopback)") {
			t.Fatalf("device=%v: %v", device, err)
		}
	}
	if err := SystemBrowser("file:///etc/passwd"); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Fatalf("SystemBrowser(file:) = %v", err)
	}
}

func TestLoginPageTypedAddress(t *testing.T) {
	d := startDevIssuer(t, DevIssuerOptions{})
	resp, err := http.Get(d.Issuer() + DevAuthPath + "?response_type=code&client_id=sigstore&redirect_uri=http://127.0.0.1:9/cb&code_challenge_method=S256&code_challenge=" + pkceChallenge("v") + "&state=s")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Enter in the address field submits with the first submit button: the typed-address one.
	first := regexp.MustCompile(`<button type="submit"[^>]*>`).Find(page)
	if !strings.Contains(string(first), `id="other-submit"`) {
		t.Fatalf("first submit button is %s", first)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"response_type": {"code"}, "client_id": {"sigstore"}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"code_challenge": {pkceChallenge("v")}, "code_challenge_method": {"S256"}, "state": {"s"}, "email": {""}, "other": {"carol@example.com"}}
	resp, err = client.PostForm(d.Issuer()+DevAuthPath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	r, _ := http.PostForm(d.Issuer()+DevTokenPath, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"client_id": {"sigstore"}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {"v"}})
	var out struct {
		IDToken string `json:"id_token"`
	}
	_ = json.NewDecoder(r.Body).Decode(&out)
	r.Body.Close()
	if claimsOf(t, out.IDToken)["email"] != "carol@example.com" {
		t.Fatalf("typed address gave a token for %v", claimsOf(t, out.IDToken)["email"])
	}
}

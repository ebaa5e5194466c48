package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// pubPEM encodes a public key as the API carries it.
func pubPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// pkRequest builds a publicKeyRequest body.
func pkRequest(t *testing.T, token, pubPEM string, proof []byte) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"credentials":      map[string]string{"oidcIdentityToken": token},
		"publicKeyRequest": map[string]any{"publicKey": map[string]string{"algorithm": "ECDSA", "content": pubPEM}, "proofOfPossession": proof},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func signSubject(t *testing.T, key *ecdsa.PrivateKey, subject string) []byte {
	t.Helper()
	d := sha256.Sum256([]byte(subject))
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestTokenRefusals(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proof := signSubject(t, key, "alice@example.com")

	other := startIssuer(t, oidc.DevIssuerOptions{})
	unknownTok, _ := other.Token(oidc.TokenRequest{Email: "alice@example.com"})

	// An issuer at the same URL with another key: its tokens name a key not in the JWKS.
	impostor, err := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: e.issuer.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	impostorTok, _ := impostor.Token(oidc.TokenRequest{Email: "alice@example.com"})

	expiredTok := e.token(t, oidc.TokenRequest{Email: "alice@example.com", Lifetime: -2 * time.Minute})

	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{"iss": e.issuer.Issuer(), "sub": "alice@example.com", "aud": "sigstore",
		"email": "alice@example.com", "email_verified": true, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	noneTok := header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"unknown issuer", unknownTok, "issuer not trusted by this CA: \"" + other.Issuer() + "\""},
		{"wrong audience", e.token(t, oidc.TokenRequest{Email: "alice@example.com", Audience: "someone-else"}), `expected audience "sigstore" got ["someone-else"]`},
		{"expired", expiredTok, "token expired at"},
		{"key not in JWKS", impostorTok, "no key with ID"},
		{"alg none", noneTok, `unexpected signature algorithm "none"`},
		{"email not verified", e.token(t, oidc.TokenRequest{Subject: "alice", Claims: map[string]any{"email": "alice@example.com", "email_verified": false}}), "email alice@example.com is not verified"},
		{"no email", e.token(t, oidc.TokenRequest{Subject: "alice"}), "no email claim"},
		{"not a JWT", "abc.def", "not a compact JWS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.post(t, pkRequest(t, tc.token, pubPEM(t, key.Public()), proof))
			if code != http.StatusUnauthorized || !strings.Contains(body, tc.want) {
				t.Fatalf("HTTP %d %s, want 401 containing %q", code, body, tc.want)
			}
		})
	}
}

func TestTokenNotYetValid(t *testing.T) {
	future := func() time.Time { return time.Now().Add(3 * time.Minute) }
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{Now: future})
	_, err := e.ca.Tokens().Verify(context.Background(), e.token(t, oidc.TokenRequest{Email: "alice@example.com"}))
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "token not yet valid") {
		t.Fatalf("Verify = %v, want not yet valid", err)
	}
	// Within the clock skew a token is accepted.
	e2 := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{Now: func() time.Time { return time.Now().Add(20 * time.Second) }})
	if _, err := e2.ca.Tokens().Verify(context.Background(), e2.token(t, oidc.TokenRequest{Email: "alice@example.com"})); err != nil {
		t.Fatalf("token 20 s ahead refused: %v", err)
	}
}

func TestHugeTokenRefusedBeforeSplitting(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	dots := strings.Repeat(".", 10<<20)
	_, err := e.ca.Tokens().Verify(context.Background(), dots)
	if !errors.Is(err, ErrTokenTooLarge) || !strings.Contains(err.Error(), "10485760 bytes exceeds 32768") {
		t.Fatalf("Verify = %v, want ErrTokenTooLarge", err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	code, body := e.post(t, pkRequest(t, dots, pubPEM(t, key.Public()), []byte("x")))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "request body too large") {
		t.Fatalf("HTTP %d %s, want 413", code, body)
	}
	// Allocation stays bounded: refusing the token costs far less than its size.
	allocs := testing.AllocsPerRun(5, func() { _, _ = unverifiedIssuer(dots) })
	if allocs > 5 {
		t.Fatalf("%v allocations to refuse a 10 MB token", allocs)
	}
}

func TestDiscoveryRefusals(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect to another host was followed: %s", r.URL)
	}))
	defer elsewhere.Close()
	var redirectURL string
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	}))
	defer redirecting.Close()
	redirectURL = redirecting.URL
	var mismatchURL string
	mismatch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "http://127.0.0.1:1/other", "jwks_uri": mismatchURL + "/keys"})
	}))
	defer mismatch.Close()
	mismatchURL = mismatch.URL

	tests := []struct {
		issuer, want string
	}{
		{redirectURL, "refusing redirect from " + strings.TrimPrefix(redirectURL, "http://") + " to another host"},
		{mismatchURL, `issuer URL provided to client ("` + mismatchURL + `") did not match the issuer URL returned by provider ("http://127.0.0.1:1/other")`},
	}
	for _, tc := range tests {
		tv, err := NewTokenVerifier([]IssuerConfig{{URL: tc.issuer}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		iss, _ := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: tc.issuer})
		tok, _ := iss.Token(oidc.TokenRequest{Email: "alice@example.com"})
		_, err = tv.Verify(context.Background(), tok)
		if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("issuer %s: Verify = %v, want %q", tc.issuer, err, tc.want)
		}
	}
}

func TestKeyRefusals(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com"})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)

	// A CSR whose signature was made by another key than the one it carries.
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	forged := append([]byte{}, csrDER...)
	forged[len(forged)-5] ^= 0x55
	csrBody := func(der []byte) []byte {
		b, _ := json.Marshal(map[string]any{"credentials": map[string]string{"oidcIdentityToken": tok},
			"certificateSigningRequest": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})})
		return b
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"proof by another key", pkRequest(t, tok, pubPEM(t, key.Public()), signSubject(t, otherKey, "alice@example.com")), `proof of possession failed: the signature is not the key's signature over "alice@example.com"`},
		{"proof over another identity", pkRequest(t, tok, pubPEM(t, key.Public()), signSubject(t, key, "bob@example.com")), "proof of possession failed"},
		{"RSA 1024", pkRequest(t, tok, pubPEM(t, rsa1024.Public()), []byte("sig")), "RSA key of 1024 bits (2048 to 4096 required)"},
		{"P-224", pkRequest(t, tok, pubPEM(t, p224.Public()), []byte("sig")), "ECDSA curve P-224 (P-256, P-384 or P-521 required)"},
		{"CSR not signed by its key", csrBody(forged), "certificate request is not signed by the key it carries"},
		{"no key", []byte(`{"credentials":{"oidcIdentityToken":"` + tok + `"}}`), "publicKeyRequest or certificateSigningRequest is required"},
		{"unknown field", []byte(`{"credentials":{"oidcIdentityToken":"x"},"extra":1}`), `unknown field "extra"`},
		{"no token", []byte(`{"certificateSigningRequest":"AAAA"}`), "credentials.oidcIdentityToken (or an Authorization: Bearer header) is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.post(t, tc.body)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Fatalf("HTTP %d %s, want 400 containing %q", code, body, tc.want)
			}
		})
	}
}

func TestCTLogDownFailsClosed(t *testing.T) {
	e := &testEnv{}
	e.issuer = startIssuer(t, oidc.DevIssuerOptions{})
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	e.startCA(t, []IssuerConfig{{URL: e.issuer.Issuer()}}, downURL)
	s, _ := signer.GenerateEphemeral()
	chain, err := RequestCertificate(context.Background(), e.caURL, e.token(t, oidc.TokenRequest{Email: "alice@example.com"}), s)
	if err == nil || chain != nil || !strings.Contains(err.Error(), "HTTP 503") ||
		!strings.Contains(err.Error(), "certificate transparency log submission failed: CT log unavailable") {
		t.Fatalf("RequestCertificate with the CT log down = %v, %d certificates", err, len(chain))
	}
	// v1 answers as Fulcio's legacy endpoint does.
	key := mustP256(t)
	body := mustJSON(t, imageRequest{PublicKey: imageKey{Content: []byte(pubPEM(t, key.Public()))}, SignedEmailAddress: signSubject(t, key, "alice@example.com")})
	resp, text := postLegacy(t, e, e.token(t, oidc.TokenRequest{Email: "alice@example.com"}), body)
	checkLegacyError(t, resp, text, http.StatusInternalServerError, 13, "Error entering certificate in CTL")
}

func TestIssuerConfig(t *testing.T) {
	good := []string{"https://accounts.example.com", "http://127.0.0.1:5556/dex", "http://localhost:8080", "http://[::1]:9000"}
	for _, u := range good {
		if _, err := CheckIssuerURL(u); err != nil {
			t.Errorf("CheckIssuerURL(%q) = %v", u, err)
		}
	}
	bad := map[string]string{
		"http://accounts.example.com":    "http is allowed only on loopback",
		"http://127.0.0.1.example.com":   "http is allowed only on loopback",
		"ftp://example.com":              "scheme must be https",
		"https://example.com/?x=1":       "without user, query or fragment",
		"accounts.example.com":           "want scheme://host",
		"https://user@accounts.example/": "without user",
	}
	for u, want := range bad {
		if _, err := CheckIssuerURL(u); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckIssuerURL(%q) = %v, want %q", u, err, want)
		}
	}
	c, err := ParseConfig([]byte("issuers:\n  - url: https://token.actions.githubusercontent.com\n    client-id: sigstore\n    type: github-workflow\n  - url: https://accounts.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuers[0].Type != IssuerGitHubWorkflow || c.Issuers[1].Type != IssuerEmail || c.Issuers[1].ClientID != "sigstore" {
		t.Fatalf("config %+v", c)
	}
	if _, err := ParseConfig([]byte("issuers:\n  - url: https://a.example\n    typo: x\n")); err == nil || !strings.Contains(err.Error(), "field typo not found") {
		t.Fatalf("unknown key: %v", err)
	}
	ic, err := ParseIssuerFlag("http://127.0.0.1:9/,client-id=cli,type=username,subject-domain=corp.example")
	if err != nil || ic.ClientID != "cli" || ic.Type != IssuerUsername || ic.SubjectDomain != "corp.example" {
		t.Fatalf("ParseIssuerFlag = %+v, %v", ic, err)
	}
	if _, err := ParseIssuerFlag("https://a.example,type=robot"); err == nil || !strings.Contains(err.Error(), `unknown type "robot"`) {
		t.Fatalf("bad type: %v", err)
	}
}

// TestBearerTokenRequest sends the request as sigstore-go's signer does: the token in an
// Authorization header, a PEM key and a base64 proof over the token's sub.
func TestBearerTokenRequest(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com"})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	body, _ := json.Marshal(map[string]any{"publicKeyRequest": map[string]any{
		"publicKey":         map[string]string{"algorithm": "ECDSA", "content": pubPEM(t, key.Public())},
		"proofOfPossession": base64.StdEncoding.EncodeToString(signSubject(t, key, "alice@example.com"))}})
	send := func(bearer string, body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, e.caURL+SigningCertPath, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			SignedCertificateEmbeddedSct struct {
				Chain struct{ Certificates []string }
			}
			Message string
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode == 200 {
			return 200, out.SignedCertificateEmbeddedSct.Chain.Certificates[0]
		}
		return resp.StatusCode, out.Message
	}
	if code, leaf := send(tok, body); code != http.StatusOK || !strings.Contains(leaf, "BEGIN CERTIFICATE") {
		t.Fatalf("Bearer request: HTTP %d %s", code, leaf)
	}
	other := e.token(t, oidc.TokenRequest{Email: "bob@example.com"})
	both := pkRequest(t, tok, pubPEM(t, key.Public()), signSubject(t, key, "alice@example.com"))
	if code, msg := send(other, both); code != 400 || !strings.Contains(msg, "carry different tokens") {
		t.Fatalf("two different tokens: HTTP %d %s", code, msg)
	}
}

// TestSCTCheckedAgainstTheLogKey: with the CT log's key configured, an SCT that does not verify
// under it (here: the CA expects another log's key) gives no certificate.
func TestSCTCheckedAgainstTheLogKey(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	s, _ := signer.GenerateEphemeral()
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com"})
	for _, tc := range []struct {
		name string
		key  any
		want string
	}{
		{"right key", e.ct.PublicKey(), ""},
		{"another log's key", mustP256(t).Public(), "SCT does not verify under the CT log key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, chain, err := LoadKey(context.Background(), writeCA(t))
			if err != nil {
				t.Fatal(err)
			}
			tv, _ := NewTokenVerifier([]IssuerConfig{{URL: e.issuer.Issuer()}}, nil)
			a, err := New(context.Background(), Config{Key: key, Chain: chain, Options: Options{Tokens: tv, CTURL: e.ctURL, CTPublicKey: tc.key}})
			if err != nil {
				t.Fatal(err)
			}
			csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, signer.AsCryptoSigner(s))
			issued, err := a.Issue(context.Background(), tok, KeyProof{CSR: csr})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrCTLog) || !strings.Contains(err.Error(), tc.want) || issued != nil {
				t.Fatalf("Issue = %v, want %q and no certificate", err, tc.want)
			}
		})
	}
}

func mustP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeCA initialises a CA in a temporary directory.
func writeCA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

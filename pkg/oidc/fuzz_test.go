package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzDevIssuerEndpoints(f *testing.F) {
	d, err := NewDevIssuer(context.Background(), DevIssuerOptions{URL: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	h := d.Handler()
	f.Add("/token", "grant_type=authorization_code&code=x&code_verifier=y")
	f.Add("/token", "grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=z&client_id=sigstore")
	f.Add("/auth", "response_type=code&client_id=c&redirect_uri=http://127.0.0.1:1/cb&code_challenge_method=S256&code_challenge=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&email=a@b.c")
	f.Add("/device", "client_id=sigstore")
	f.Add("/device/verify", "user_code=ABC&email=a@b.c")
	f.Add("/dev/token", "email=a@b.c&aud=x")
	f.Fuzz(func(t *testing.T, path, form string) {
		u, err := url.Parse("http://127.0.0.1:1" + path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusInternalServerError {
			t.Fatalf("HTTP %d", rec.Code)
		}
	})
}

func FuzzTokenShape(f *testing.F) {
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := checkTokenShape(s, "fuzz")
		if err == nil && (strings.Count(tok, ".") != 2 || len(tok) > MaxTokenSize) {
			t.Fatalf("accepted %q", tok)
		}
	})
}

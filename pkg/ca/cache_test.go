package ca

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// TestDiscoveryAndJWKSCached checks that discovery runs once, that the JWKS is fetched once for
// many tokens, and that tokens naming unknown keys refetch it at most once per refresh
// interval.
func TestDiscoveryAndJWKSCached(t *testing.T) {
	var discovery, jwks atomic.Int64
	ts := httptest.NewUnstartedServer(nil)
	iss, err := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: "http://" + ts.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	h := iss.Handler()
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, oidc.DevDiscoveryPath):
			discovery.Add(1)
		case strings.HasSuffix(r.URL.Path, oidc.DevJWKSPath):
			jwks.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	ts.Start()
	defer ts.Close()

	tv, err := NewTokenVerifier([]IssuerConfig{{URL: iss.Issuer()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tv.now = func() time.Time { return now }
	for i := 0; i < 20; i++ {
		tok, _ := iss.Token(oidc.TokenRequest{Email: "alice@example.com"})
		if _, err := tv.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if discovery.Load() != 1 || jwks.Load() != 1 {
		t.Fatalf("20 tokens: %d discovery and %d JWKS fetches, want 1 and 1", discovery.Load(), jwks.Load())
	}
	// Tokens signed by an unknown key: one refetch, then none until the interval has passed.
	rogue, _ := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: iss.Issuer()})
	for i := 0; i < 20; i++ {
		tok, _ := rogue.Token(oidc.TokenRequest{Email: "alice@example.com"})
		if _, err := tv.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "no key with ID") {
			t.Fatalf("rogue token: %v", err)
		}
		if i == 0 {
			now = now.Add(keysetRefreshInterval) // the first unknown key may refetch
		}
	}
	if got := jwks.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one refresh per interval)", got)
	}
	now = now.Add(keysetRefreshInterval)
	tok, _ := rogue.Token(oidc.TokenRequest{Email: "alice@example.com"})
	_, _ = tv.Verify(context.Background(), tok)
	if got := jwks.Load(); got != 3 {
		t.Fatalf("after the interval: JWKS fetched %d times, want 3", got)
	}
	// A rotated key is picked up by that refresh.
	now = now.Add(keysetMaxAge + time.Second)
	good, _ := iss.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if _, err := tv.Verify(context.Background(), good); err != nil {
		t.Fatalf("after max age: %v", err)
	}
	if discovery.Load() != 1 {
		t.Fatalf("discovery ran %d times", discovery.Load())
	}
}

// TestSlowJWKSRefreshDoesNotBlockKnownKeys: while a refresh triggered by an unknown key waits on
// a slow JWKS endpoint, tokens signed by cached keys are verified at once.
func TestSlowJWKSRefreshDoesNotBlockKnownKeys(t *testing.T) {
	var slow atomic.Bool
	ts := httptest.NewUnstartedServer(nil)
	iss, err := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: "http://" + ts.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	h := iss.Handler()
	release := make(chan struct{})
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, oidc.DevJWKSPath) && slow.Load() {
			<-release
		}
		h.ServeHTTP(w, r)
	})
	ts.Start()
	defer ts.Close()
	defer close(release)
	tv, _ := NewTokenVerifier([]IssuerConfig{{URL: iss.Issuer()}}, nil)
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	tv.now = func() time.Time { return time.Unix(0, clock.Load()) }
	good, _ := iss.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if _, err := tv.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	slow.Store(true)
	clock.Add(int64(keysetRefreshInterval))
	rogue, _ := oidc.NewDevIssuer(context.Background(), oidc.DevIssuerOptions{URL: iss.Issuer()})
	rogueTok, _ := rogue.Token(oidc.TokenRequest{Email: "alice@example.com"})
	rogueDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := tv.Verify(ctx, rogueTok)
		rogueDone <- err
	}()
	time.Sleep(100 * time.Millisecond) // the rogue token's refresh is now waiting on the endpoint
	start := time.Now()
	if _, err := tv.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("a token with a cached key waited %v for the JWKS refresh", d)
	}
	select {
	case err := <-rogueDone:
		t.Fatalf("rogue token finished before the JWKS answered: %v", err)
	default:
	}
	release <- struct{}{}
	if err := <-rogueDone; err == nil || !strings.Contains(err.Error(), "no key with ID") {
		t.Fatalf("rogue token: %v", err)
	}
}

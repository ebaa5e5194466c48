package oidc

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

const idle = 300 * time.Millisecond

func noEnv(string) string { return "" }

// TestStalledProvider: a provider whose discovery, or a GitHub Actions token service, that
// never answers, stops after its headers, or sends its body slower than the idle bound fails
// the token request within the bound, naming the peer and what was awaited.
func TestStalledProvider(t *testing.T) {
	t.Run("discovery", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			_, err := GetToken(context.Background(), Options{Issuer: p.URL, DeviceFlow: true, Getenv: noEnv, IdleTimeout: idle})
			return err
		})
	})
	t.Run("github-actions", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": p.URL + "/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "bearer"}
			_, err := GetToken(context.Background(), Options{Getenv: func(k string) string { return env[k] }, IdleTimeout: idle})
			return err
		})
	})
}

// TestDeviceFlowPollStalls: the device flow waits for a person between its polls as long as
// the context lets it, longer than the idle bound; a poll the provider stops answering fails
// within the bound.
func TestDeviceFlowPollStalls(t *testing.T) {
	done := make(chan struct{})
	var mu sync.Mutex
	polls := 0
	var stalledAt time.Time
	d := startDevIssuerBehind(t, DevIssuerOptions{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != DevTokenPath {
				h.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			polls++
			n := polls
			if n == 2 {
				stalledAt = time.Now()
			}
			mu.Unlock()
			if n == 1 { // authorization_pending: nobody signed in yet
				h.ServeHTTP(w, r)
				return
			}
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-done:
			case <-r.Context().Done():
			}
		})
	})
	t.Cleanup(func() { close(done) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := GetToken(ctx, Options{Issuer: d.Issuer(), DeviceFlow: true, Getenv: noEnv, IdleTimeout: idle})
	mu.Lock()
	defer mu.Unlock()
	if polls != 2 {
		t.Fatalf("%d polls, want 2 (the wait between them is longer than the idle bound): %v", polls, err)
	}
	p := &netutiltest.Peer{URL: d.Issuer(), Host: strings.TrimPrefix(d.Issuer(), "http://")}
	netutiltest.AssertStalled(t, err, p, "response body", time.Since(stalledAt), idle)
}

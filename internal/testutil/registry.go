package testutil

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// RequestCounter records the requests a handler served, as "METHOD /path".
type RequestCounter struct {
	mu          sync.Mutex
	reqs        []string
	inFlight    int
	maxInFlight int
}

// Reset forgets the requests recorded so far.
func (c *RequestCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = nil
	c.maxInFlight = c.inFlight
}

// MaxInFlight returns the most requests served at the same time since the last Reset.
func (c *RequestCounter) MaxInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxInFlight
}

// Count returns how many requests were recorded.
func (c *RequestCounter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

// Requests returns the recorded requests, "METHOD /path", in arrival order.
func (c *RequestCounter) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.reqs...)
}

// CountMatching returns how many recorded requests start with prefix (e.g. "GET /v2/r/blobs/").
func (c *RequestCounter) CountMatching(prefix string) int {
	n := 0
	for _, r := range c.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (c *RequestCounter) record(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
}

func (c *RequestCounter) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
}

// Count wraps h so every request it serves is recorded in the returned counter.
func Count(h http.Handler) (http.Handler, *RequestCounter) {
	c := &RequestCounter{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.record(r)
		defer c.done()
		h.ServeHTTP(w, r)
	}), c
}

// RegistryHandler returns go-containerregistry's in-memory registry handler (it serves the
// OCI 1.1 referrers API), made to answer a manifest PUT that carries a subject with the
// OCI-Subject header, as the distribution spec requires of registries with the referrers API
// and as go-containerregistry v0.22's registry omits.
func RegistryHandler() http.Handler {
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var s struct {
				Subject *struct {
					Digest string `json:"digest"`
				} `json:"subject"`
			}
			if json.Unmarshal(body, &s) == nil && s.Subject != nil && s.Subject.Digest != "" {
				w.Header().Set("OCI-Subject", s.Subject.Digest)
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// NewRegistryWithoutReferrers starts go-containerregistry's in-memory registry without its
// referrers API (the API answers 404 and manifest PUTs carry no OCI-Subject header), like
// distribution 2.8 but in-process; it returns host:port and a request counter.
func NewRegistryWithoutReferrers(tb testing.TB) (string, *RequestCounter) {
	tb.Helper()
	h, counter := Count(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return Serve(tb, h), counter
}

// NewRegistry starts an in-process registry (RegistryHandler) on 127.0.0.1 and returns its
// host:port and a counter of the requests it serves. It is stopped when the test ends.
func NewRegistry(tb testing.TB) (string, *RequestCounter) {
	tb.Helper()
	h, counter := Count(RegistryHandler())
	return Serve(tb, h), counter
}

// Serve serves h on 127.0.0.1 until the test ends and returns its host:port.
func Serve(tb testing.TB, h http.Handler) string {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatalf("parsing test server URL: %v", err)
	}
	return u.Host
}

// CountingProxy starts a reverse proxy on 127.0.0.1 in front of the registry at host and
// returns the proxy's host:port and a counter of the requests passing through it.
func CountingProxy(tb testing.TB, host string) (string, *RequestCounter) {
	tb.Helper()
	target := &url.URL{Scheme: "http", Host: host}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	h, counter := Count(proxy)
	return Serve(tb, h), counter
}

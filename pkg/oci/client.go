package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// client speaks the OCI distribution API to one repository. It sends every request
// anonymously first and answers a 401 challenge lazily (Basic, or a Bearer token exchanged
// once per scope), so an anonymous registry costs no /v2/ ping and no token round trip.
type client struct {
	o      *options
	repo   name.Repository
	scheme string
	hc     *http.Client

	mu     sync.Mutex
	authn  authn.Authenticator
	auth   *AuthCache
	authMu sync.Mutex // serializes token fetches so concurrent requests share one
}

func newClient(repo name.Repository, o *options) *client {
	scheme := "https"
	if o.plainHTTP || (isLoopback(repo.RegistryStr()) && !o.insecure) {
		scheme = "http"
	}
	return &client{
		o:      o,
		repo:   repo,
		scheme: scheme,
		hc:     &http.Client{Transport: o.transport},
		auth:   cmpAuthCache(o.authCache),
	}
}

// isLoopback reports whether host (with an optional port) names the local machine.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// url returns the absolute URL of a path under /v2/<repo>/.
func (c *client) url(suffix string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s", c.scheme, c.repo.RegistryStr(), c.repo.RepositoryStr(), suffix)
}

// resolveLocation turns a Location header (absolute or relative) into an absolute URL.
func (c *client) resolveLocation(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("registry sent an unparsable Location %q: %w", loc, err)
	}
	return b.ResolveReference(l).String(), nil
}

// request is one HTTP call; body is resent on retries and auth challenges.
type request struct {
	method string
	url    string
	header http.Header
	body   []byte
	// blob, when set, is the body instead of body, opened afresh for each attempt.
	blob *Blob
	// push asks for push scope.
	push bool
	// attempts overrides the configured number of attempts when larger (reads that race
	// with concurrent writers of the same tag).
	attempts int
}

func (c *client) scope(push bool) string {
	if push {
		return c.repo.Scope("push,pull")
	}
	return c.repo.Scope("pull")
}

// do sends r, answering an auth challenge and retrying transient failures. The caller closes
// the response body. Any status is returned as a response; only transport failures are errors.
func (c *client) do(ctx context.Context, r request) (*http.Response, error) {
	scope := c.scope(r.push)
	if err := c.prepareAuth(ctx, scope); err != nil {
		return nil, fmt.Errorf("%s %s: authenticating: %w", r.method, r.url, err)
	}
	authTried := false
	var lastErr error
	backoff := c.o.retry.Backoff
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, r, scope)
		if err == nil && resp.StatusCode == http.StatusUnauthorized && !authTried {
			authTried = true
			challenge := resp.Header.Get("WWW-Authenticate")
			drain(resp)
			if aerr := c.authorize(ctx, challenge, scope); aerr != nil {
				return nil, fmt.Errorf("%s %s: authenticating: %w", r.method, r.url, aerr)
			}
			attempt--
			continue
		}
		retryable := false
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", r.method, r.url, err)
			}
			retryable = true
			lastErr = err
		} else if c.retryStatus(resp.StatusCode) {
			retryable = true
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			lastErr = newRegistryError(r.method, r.url, resp.StatusCode, body)
		}
		if !retryable {
			return resp, nil
		}
		if attempt >= max(c.o.retry.Attempts, r.attempts) {
			return nil, fmt.Errorf("after %d attempts: %w", attempt, lastErr)
		}
		// Jitter keeps concurrent clients from retrying in step.
		if err := waitBackoff(ctx, backoff/2+time.Duration(rand.Int64N(int64(backoff)+1))); err != nil {
			return nil, fmt.Errorf("%s %s: %w (last error: %v)", r.method, r.url, err, lastErr)
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// waitBackoff waits d before another attempt. It returns ctx's error when ctx ends first, and
// context.DeadlineExceeded at once when ctx's deadline comes before d has passed: no attempt
// would begin in time.
func waitBackoff(ctx context.Context, d time.Duration) error {
	if !fitsBefore(ctx, d) {
		return context.DeadlineExceeded
	}
	return sleepCtx(ctx, d)
}

// fitsBefore reports whether a wait of d ends before ctx's deadline (always, without one).
func fitsBefore(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

func (c *client) retryStatus(code int) bool {
	for _, s := range c.o.retry.StatusCodes {
		if s == code {
			return true
		}
	}
	return false
}

func (c *client) send(ctx context.Context, r request, scope string) (*http.Response, error) {
	var body io.Reader
	size := int64(len(r.body))
	switch {
	case r.blob != nil:
		rd, err := r.blob.Open()
		if err != nil {
			return nil, fmt.Errorf("opening blob %s: %w", r.blob.Digest, err)
		}
		body, size = rd, r.blob.Size
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if body != nil {
		req.ContentLength = size
	}
	req.Header.Set("User-Agent", c.o.userAgent)
	// Credentials go to the registry only, never to another host a Location points at.
	if req.URL.Host == c.repo.RegistryStr() {
		if h := c.auth.header(c.repo.RegistryStr(), scope); h != "" {
			req.Header.Set("Authorization", h)
		}
	}
	return c.hc.Do(req)
}

// drain discards and closes a response body so the connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// errorFrom builds the error of an unexpected answer and closes its body.
func errorFrom(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return newRegistryError(resp.Request.Method, resp.Request.URL.Redacted(), resp.StatusCode, body)
}

// authenticator returns the credentials for this registry, resolving the keychain once.
func (c *client) authenticator() (authn.Authenticator, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authn != nil {
		return c.authn, nil
	}
	if c.o.auth != nil {
		c.authn = c.o.auth
		return c.authn, nil
	}
	a, err := c.o.keychain.Resolve(c.repo)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %s: %w", c.repo.RegistryStr(), err)
	}
	c.authn = a
	return a, nil
}

var errEmptyChallenge = errors.New("registry answered 401 without a WWW-Authenticate challenge")

func cmpAuthCache(a *AuthCache) *AuthCache {
	if a != nil {
		return a
	}
	return NewAuthCache()
}

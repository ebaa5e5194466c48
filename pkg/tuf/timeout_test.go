package tuf

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

const idle = 300 * time.Millisecond

// TestStalledMirror: a mirror that never answers, stops after its headers, or sends its body
// slower than the idle bound fails the fetch within the bound, naming the mirror and what was
// awaited.
func TestStalledMirror(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	root := tr.root(t)
	t.Run("initialize", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			_, _, err := Initialize(context.Background(), InitOptions{Mirror: p.URL, Root: root, CacheDir: t.TempDir(), IdleTimeout: idle})
			if !errors.Is(err, ErrFetch) {
				t.Errorf("error %v is not ErrFetch", err)
			}
			return err
		})
	})
	t.Run("fetch-root", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			_, err := FetchRoot(context.Background(), p.URL+"/1.root.json", "sha256:00", netutil.Client(nil, idle))
			return err
		})
	})
}

// TestStalledMirrorFallsBackToCache: a mirror that stops answering is a mirror down, and the
// unexpired cache stands in, within the idle bound.
func TestStalledMirrorFallsBackToCache(t *testing.T) {
	tr := newTestRepo(t, RepoOptions{})
	cache := initClient(t, tr)
	stalled := netutiltest.Start(t, netutiltest.StallAfterHeaders, 0)
	var told error
	start := time.Now()
	_, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, IdleTimeout: idle,
		HTTPClient: &http.Client{Transport: redirectTo(stalled.URL)}, OnCacheFallback: func(err error) { told = err }})
	if err != nil {
		t.Fatalf("Load with a stalled mirror: %v", err)
	}
	mirror := &netutiltest.Peer{URL: tr.srv.URL, Host: strings.TrimPrefix(tr.srv.URL, "http://")}
	netutiltest.AssertStalled(t, told, mirror, "response body", time.Since(start), idle)
}

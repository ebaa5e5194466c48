// Package netutiltest serves peers on 127.0.0.1 that stop answering, for the tests of the
// module's HTTP clients and their bounds.
package netutiltest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour is how a stalling peer treats a request.
type Behaviour int

const (
	// Silent accepts connections and never answers (nor reads).
	Silent Behaviour = iota
	// StallAfterHeaders answers 200 with its headers, then sends nothing.
	StallAfterHeaders
	// Trickle answers 200 with its headers, then sends one space per interval (JSON readers
	// keep waiting for more).
	Trickle
)

// String names the behaviour, for subtests.
func (b Behaviour) String() string {
	switch b {
	case Silent:
		return "silent"
	case StallAfterHeaders:
		return "stall-after-headers"
	default:
		return "trickle"
	}
}

// Behaviours are all the behaviours, for table-driven tests.
var Behaviours = []Behaviour{Silent, StallAfterHeaders, Trickle}

// Peer is a stalling server.
type Peer struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// Host is its host:port, which errors must name.
	Host string
}

// Start serves b on 127.0.0.1 until the test ends; interval is the pace of Trickle.
func Start(t testing.TB, b Behaviour, interval time.Duration) *Peer {
	t.Helper()
	if b == Silent {
		return startSilent(t)
	}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if b == StallAfterHeaders {
			select {
			case <-done:
			case <-r.Context().Done():
			}
			return
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: handlers return, then Close returns
	return &Peer{URL: srv.URL, Host: strings.TrimPrefix(srv.URL, "http://")}
}

// startSilent accepts connections and holds them until the test ends.
func startSilent(t testing.TB) *Peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	host := ln.Addr().String()
	return &Peer{URL: "http://" + host, Host: host}
}

// AssertStalled fails the test unless err names the peer and what was awaited (one of the
// phrases of netutil.Stage) and elapsed stayed under 3 times the bound (and a second of
// slack, for a loaded machine).
func AssertStalled(t testing.TB, err error, p *Peer, awaited string, elapsed, bound time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error from a stalled peer")
	}
	if msg := err.Error(); !strings.Contains(msg, p.Host) || !strings.Contains(msg, awaited) {
		t.Errorf("error %q does not name both the peer %s and what was awaited (%q)", msg, p.Host, awaited)
	}
	if limit := 3*bound + time.Second; elapsed > limit {
		t.Errorf("returned after %s, want under %s", elapsed, limit)
	}
}

// Check calls call against a peer of each behaviour, in parallel subtests, with Trickle
// slower than bound, and asserts that each call fails within the bound (AssertStalled), naming
// the peer and what was awaited.
func Check(t *testing.T, bound time.Duration, call func(t *testing.T, p *Peer) error) {
	t.Helper()
	for _, b := range Behaviours {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			p := Start(t, b, 3*bound)
			start := time.Now()
			err := call(t, p)
			AssertStalled(t, err, p, Awaited(b), time.Since(start), bound)
		})
	}
}

// Awaited is the phrase an error names for a peer that behaves as b: what the client was
// waiting for when the peer stopped.
func Awaited(b Behaviour) string {
	if b == Silent {
		return "response headers"
	}
	return "response body"
}

package netutil_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

const idle = 300 * time.Millisecond

func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestStalledPeers(t *testing.T) {
	netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
		err := get(context.Background(), netutil.Client(nil, idle), p.URL+"/x")
		var te *netutil.TimeoutError
		if !errors.As(err, &te) || te.Idle != idle || te.Err != nil {
			t.Errorf("error %v: want a TimeoutError of the idle bound", err)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v matches a context error: the caller's context did not end", err)
		}
		return err
	})
}

func TestTLSHandshakeStall(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	c := netutil.Client(&http.Client{Transport: netutil.NewTransport(time.Minute)}, idle)
	start := time.Now()
	err := get(context.Background(), c, "https://"+p.Host+"/x")
	netutiltest.AssertStalled(t, err, p, "connecting to", time.Since(start), idle)
}

func TestDeadlineWhileTrickling(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Trickle, idle/10)
	ctx, cancel := context.WithTimeout(context.Background(), 2*idle)
	defer cancel()
	start := time.Now()
	err := get(ctx, netutil.Client(nil, idle), p.URL+"/x")
	netutiltest.AssertStalled(t, err, p, "response body", time.Since(start), 2*idle)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
}

func TestDeadlineWhileConnected(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	ctx, cancel := context.WithTimeout(context.Background(), idle)
	defer cancel()
	start := time.Now()
	err := get(ctx, netutil.Client(nil, time.Minute), p.URL+"/x")
	netutiltest.AssertStalled(t, err, p, "response headers", time.Since(start), idle)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
}

// A peer that does not take the request body stops the request at the sending stage.
func TestPeerNotReading(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	body := bytes.Repeat([]byte("x"), 64<<20)
	req, err := http.NewRequest(http.MethodPut, p.URL+"/blob", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = netutil.Client(nil, idle).Do(req)
	netutiltest.AssertStalled(t, err, p, "sending the request to", time.Since(start), idle)
}

// Progress resets the bound: a body sent in pieces, each well inside the bound, arrives
// whole even when the whole takes longer than the bound. Time the caller spends between
// reads does not count against the peer.
func TestProgressKeepsRequestAlive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for range 6 {
			w.Write([]byte("ab"))
			w.(http.Flusher).Flush()
			time.Sleep(idle / 3)
		}
	}))
	defer srv.Close()
	resp, err := netutil.Client(nil, idle).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(2 * idle) // the caller dawdles before reading
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != strings.Repeat("ab", 6) {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRefusedConnectionUnchanged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = get(context.Background(), netutil.Client(nil, idle), "http://"+addr+"/")
	var te *netutil.TimeoutError
	if err == nil || errors.As(err, &te) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error %v: want the refused connection as it is", err)
	}
}

func TestBoundKeepsAnExistingBound(t *testing.T) {
	inner := netutil.Bound(nil, idle)
	if netutil.Bound(inner, time.Hour) != inner {
		t.Fatal("Bound wrapped a bounded transport again")
	}
	c := netutil.Client(&http.Client{Timeout: time.Minute, Transport: inner}, time.Hour)
	if c.Transport != inner || c.Timeout != time.Minute {
		t.Fatalf("Client changed the client's transport or timeout: %+v", c)
	}
}

func TestCallerCancellationUnchanged(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(idle/3, cancel)
	err := get(ctx, netutil.Client(nil, time.Minute), p.URL+"/")
	var te *netutil.TimeoutError
	if !errors.Is(err, context.Canceled) || errors.As(err, &te) {
		t.Fatalf("error %v: want the caller's cancellation as it is", err)
	}
}

// A peer may answer before it has read the request: the end of the request, reported late,
// does not take the request back to waiting for headers.
func TestAnswerBeforeTheRequestIsWritten(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.StallAfterHeaders, 0)
	for _, size := range []int{16, 8 << 20} {
		req, err := http.NewRequest(http.MethodPost, p.URL+"/entries", bytes.NewReader(make([]byte, size)))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := netutil.Client(nil, idle).Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		netutiltest.AssertStalled(t, err, p, "response body", time.Since(start), idle)
	}
}

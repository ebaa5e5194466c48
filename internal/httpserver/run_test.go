package httpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// fakeServer counts its Close calls.
type fakeServer struct {
	h      http.Handler
	closed atomic.Int32
	err    error
}

func (f *fakeServer) Handler() http.Handler { return f.h }
func (f *fakeServer) Close(context.Context) error {
	f.closed.Add(1)
	return f.err
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestGracefulShutdownFinishesRequests(t *testing.T) {
	started := make(chan struct{})
	api := http.NewServeMux()
	api.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	ln := listen(t)
	addr := ln.Addr()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, []Service{{Name: "test", Listener: ln, Server: Handler(Instrument("test", api, Options{}))}}, RunOptions{})
	}()
	respc := make(chan string, 1)
	go func() {
		b, err := get("http://" + addr.String() + "/slow")
		if err != nil {
			b = err.Error()
		}
		respc <- b
	}()
	<-started
	cancel()
	if got := <-respc; got != "done" {
		t.Fatalf("request in flight during shutdown got %q", got)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run after shutdown: %v", err)
	}
	if _, err := http.Get("http://" + addr.String() + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// Run serves every server of its list, announces each address, and on shutdown stops and
// closes them all.
func TestRunServesAndClosesEveryServer(t *testing.T) {
	hello := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(s)) })
	}
	a, b := &fakeServer{h: hello("a")}, &fakeServer{h: hello("b")}
	lnA := listen(t)
	announce := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, []Service{
			{Name: "first", Listener: lnA, Server: a},
			{Name: "second", Addr: "127.0.0.1:0", Server: b},
		}, RunOptions{Announce: announce})
	}()
	var urls []string
	for deadline := time.Now().Add(5 * time.Second); len(urls) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("announcements: %q", announce.String())
		}
		lines := strings.Split(strings.TrimSpace(announce.String()), "\n")
		if len(lines) == 2 {
			for i, name := range []string{"first", "second"} {
				u, ok := strings.CutPrefix(lines[i], name+" listening on ")
				if !ok {
					t.Fatalf("announcement %q", lines[i])
				}
				urls = append(urls, u)
			}
		}
	}
	if urls[0] != "http://"+lnA.Addr().String() {
		t.Fatalf("first server announced at %s, listens on %s", urls[0], lnA.Addr())
	}
	for i, want := range []string{"a", "b"} {
		if got, err := get(urls[i]); err != nil || got != want {
			t.Fatalf("server %d: %q %v", i, got, err)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if a.closed.Load() != 1 || b.closed.Load() != 1 {
		t.Fatalf("Close calls: %d and %d, want 1 each", a.closed.Load(), b.closed.Load())
	}
	for _, u := range urls {
		if _, err := get(u); err == nil {
			t.Fatalf("%s still answers after shutdown", u)
		}
	}
}

// A Close error is Run's error; a listener that cannot open closes every server.
func TestRunErrors(t *testing.T) {
	failing := &fakeServer{h: http.NotFoundHandler(), err: errors.New("flush failed")}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, []Service{{Name: "x", Listener: listen(t), Server: failing}}, RunOptions{}); err == nil || !strings.Contains(err.Error(), "flush failed") {
		t.Fatalf("Run with a failing Close: %v", err)
	}

	taken := listen(t)
	defer taken.Close()
	a, b := &fakeServer{h: http.NotFoundHandler()}, &fakeServer{h: http.NotFoundHandler()}
	lnA := listen(t)
	err := Run(context.Background(), []Service{
		{Name: "a", Listener: lnA, Server: a},
		{Name: "b", Addr: taken.Addr().String(), Server: b},
	}, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("listening on %s", taken.Addr())) {
		t.Fatalf("Run on a taken address: %v", err)
	}
	if a.closed.Load() != 1 || b.closed.Load() != 1 {
		t.Fatalf("after a failed listen: Close calls %d and %d, want 1 each", a.closed.Load(), b.closed.Load())
	}
	if _, err := lnA.Accept(); err == nil {
		t.Fatal("the given listener is still open after a failed start")
	}
	c := &fakeServer{h: http.NotFoundHandler()}
	if err := Run(context.Background(), []Service{{Name: "c", Listener: listen(t), Server: c}, {Name: "empty", Addr: "127.0.0.1:0"}}, RunOptions{}); err == nil ||
		!strings.Contains(err.Error(), "empty: no server") || c.closed.Load() != 1 {
		t.Fatalf("Run with a service lacking its server: %v (Close calls %d)", err, c.closed.Load())
	}
}

// Start and Shutdown serve until the caller stops the group; Shutdown closes every server once.
func TestStartShutdown(t *testing.T) {
	a, b := &fakeServer{h: http.NotFoundHandler()}, &fakeServer{h: http.NotFoundHandler()}
	g, err := Start(context.Background(), []Service{{Name: "a", Addr: "127.0.0.1:0", Server: a}, {Name: "b", Listener: listen(t), Server: b}}, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + g.Addr(0).String() + "/"
	if _, err := get(url); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := g.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if a.closed.Load() != 1 || b.closed.Load() != 1 {
		t.Fatalf("Close calls: %d and %d, want 1 each", a.closed.Load(), b.closed.Load())
	}
	if _, err := get(url); err == nil {
		t.Fatal("server answers after Shutdown")
	}
}

func TestTimeoutsDefaults(t *testing.T) {
	got := Timeouts{Read: 2 * time.Second, Idle: -1, MaxHeaderBytes: -1}.withDefaults()
	want := Timeouts{ReadHeader: ReadHeaderTimeout, Read: 2 * time.Second, Write: WriteTimeout, Idle: 0, MaxHeaderBytes: 0}
	if got != want {
		t.Fatalf("withDefaults: %+v, want %+v", got, want)
	}
	if d := (Timeouts{}).withDefaults(); d.MaxHeaderBytes != MaxHeaderBytes || d.Idle != IdleTimeout {
		t.Fatalf("zero Timeouts: %+v", d)
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	for _, format := range []string{TextFormat, JSONFormat} {
		l, err := NewLogger(&b, format, 0)
		if err != nil {
			t.Fatal(err)
		}
		l.Debug("hidden")
		l.Info("shown", "k", "v")
	}
	if got := b.String(); got == "" || strings.Contains(got, "hidden") || !strings.Contains(got, "k=v") || !strings.Contains(got, `"k":"v"`) {
		t.Fatalf("logs: %q", got)
	}
	if _, err := NewLogger(&b, "xml", 0); !errors.Is(err, ErrLogFormat) {
		t.Fatalf("xml format: %v", err)
	}
}

package srv

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGracefulShutdownFinishesRequests(t *testing.T) {
	started := make(chan struct{})
	api := http.NewServeMux()
	api.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- ListenAndServe(ctx, "127.0.0.1:0", Instrumented("test", api, nil), nil, func(a net.Addr) { addrc <- a })
	}()
	addr := <-addrc
	respc := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			respc <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		respc <- string(b)
	}()
	<-started
	cancel()
	if got := <-respc; got != "done" {
		t.Fatalf("request in flight during shutdown got %q", got)
	}
	if err := <-errc; err != nil {
		t.Fatalf("ListenAndServe after shutdown: %v", err)
	}
	if _, err := http.Get("http://" + addr.String() + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestInstrumentedEndpointsAndLimits(t *testing.T) {
	api := http.NewServeMux()
	api.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := ReadBody(w, r, 8)
		if errors.Is(err, ErrBodyTooLarge) {
			Error(w, http.StatusRequestEntityTooLarge, "%v", err)
			return
		}
		_, _ = w.Write(body)
	})
	ts := httptest.NewServer(Instrumented("test", api, nil))
	defer ts.Close()
	resp, _ := http.Post(ts.URL+"/echo", "text/plain", strings.NewReader("12345678"))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "12345678" {
		t.Fatalf("echo: %q", b)
	}
	resp, _ = http.Post(ts.URL+"/echo", "text/plain", strings.NewReader("123456789"))
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "request body too large: more than 8 bytes") {
		t.Fatalf("oversized: %d %q", resp.StatusCode, b)
	}
	for i := 0; i < 3; i++ {
		r, _ := http.Get(ts.URL + "/random/path/" + strings.Repeat("x", i))
		r.Body.Close()
	}
	resp, _ = http.Get(ts.URL + "/metrics")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	if !strings.Contains(m, `cosign_like_test_requests_total{code="404",path="unmatched"} 3`) ||
		!strings.Contains(m, `cosign_like_test_requests_total{code="413",path="POST /echo"} 1`) || strings.Contains(m, "/random/path") {
		t.Fatalf("metrics:\n%s", m)
	}
	resp, _ = http.Get(ts.URL + "/healthz")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, b)
	}
}

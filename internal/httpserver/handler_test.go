package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

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
	ts := httptest.NewServer(Instrument("test", api, Options{}))
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

// Every body is bounded, including those a handler reads without ReadBody.
func TestInstrumentBoundsEveryBody(t *testing.T) {
	api := http.NewServeMux()
	api.HandleFunc("POST /raw", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			Error(w, http.StatusRequestEntityTooLarge, "too large")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ts := httptest.NewServer(Instrument("test", api, Options{MaxBodyBytes: 16}))
	defer ts.Close()
	for body, want := range map[string]int{strings.Repeat("x", 16): http.StatusNoContent, strings.Repeat("x", 17): http.StatusRequestEntityTooLarge} {
		resp, err := http.Post(ts.URL+"/raw", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte body: status %d, want %d", len(body), resp.StatusCode, want)
		}
	}
}

// A handler that panics gets a 500 and an error log line; the server goes on answering.
func TestInstrumentRecoversPanics(t *testing.T) {
	api := http.NewServeMux()
	api.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	api.HandleFunc("GET /half", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("partial"))
		_ = http.NewResponseController(w).Flush()
		panic("boom after writing")
	})
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	ts := httptest.NewServer(Instrument("test", api, Options{Logger: logger}))
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || string(b) != "internal error\n" {
		t.Fatalf("panicking handler: %d %q", resp.StatusCode, b)
	}
	// A response already under way is cut, not passed off as complete.
	if resp, err := http.Get(ts.URL + "/half"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatal("a response whose handler panicked midway reads as complete")
		}
	}
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server after panics: %v %v", resp, err)
	}
	resp.Body.Close()
	got := logs.String()
	for _, want := range []string{`"msg":"panic serving request"`, `"path":"/panic"`, `"value":"boom"`, `"value":"boom after writing"`, `"stack":`} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %s:\n%s", want, got)
		}
	}
	resp, _ = http.Get(ts.URL + "/metrics")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `cosign_like_test_requests_total{code="500",path="GET /panic"} 1`) {
		t.Fatalf("metrics lack the 500:\n%s", b)
	}
}

// A server with metrics of its own serves them beside the request metrics, and its health
// check decides what /healthz answers.
func TestInstrumentRegistryAndHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	own := prometheus.NewGauge(prometheus.GaugeOpts{Name: "own_gauge", Help: "a server's own metric"})
	reg.MustRegister(own)
	own.Set(7)
	var sick error
	h := Instrument("reg", http.NotFoundHandler(), Options{Registry: reg, Health: func(context.Context) error { return sick }})
	get := func(path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	sick = errors.New("storage unavailable")
	if code, body := get("/healthz"); code != 503 || !strings.Contains(body, "storage unavailable") {
		t.Fatalf("unhealthy: %d %q", code, body)
	}
	_, m := get("/metrics")
	if !strings.Contains(m, "own_gauge 7") || !strings.Contains(m, `cosign_like_reg_requests_total{code="503",path="GET /healthz"} 1`) {
		t.Fatalf("metrics:\n%s", m)
	}
}

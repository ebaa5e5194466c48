package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxBodyBytes is the default bound on every request body (Options.MaxBodyBytes). A server's
// handlers bound the bodies they read more tightly with ReadBody.
const MaxBodyBytes = 1 << 20

// Options configure Instrument.
type Options struct {
	// Logger receives request logs and recovered panics; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds every request body: reading more fails as http.MaxBytesReader does
	// (MaxBodyBytes, 1 MiB, by default).
	MaxBodyBytes int64
	// Registry, when set, is the Prometheus registry the request metrics join and /metrics
	// serves, for a server that has metrics of its own; default a new registry.
	Registry *prometheus.Registry
	// Health, when set, is asked by every GET /healthz: an error is answered 503 with its
	// message. By default /healthz answers 200 while the process serves.
	Health func(context.Context) error
}

// Instrument wraps an API handler with what every server answers and records: GET /healthz,
// GET /metrics (on a Prometheus registry of its own), a counter and a latency histogram per
// request (cosign_like_<name>_requests_total by path and code, and
// cosign_like_<name>_request_duration_seconds by path), a log line per request (debug, or info
// for a status of 400 and above; none for /healthz and /metrics), the bound on request bodies,
// and panic recovery: a handler that panics is answered 500 and logged, and the server goes on.
func Instrument(name string, api http.Handler, opts Options) http.Handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = MaxBodyBytes
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	// A registry handed in may carry the process collectors already.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosign_like_" + name + "_requests_total",
		Help: "HTTP requests answered, by path and status code.",
	}, []string{"path", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cosign_like_" + name + "_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by path.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"path"})
	// A handler built again on the same registry counts into the collectors already there.
	requests = registerOrReuse(reg, requests)
	latency = registerOrReuse(reg, latency)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if opts.Health != nil {
			if err := opts.Health(r.Context()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintf(w, "unhealthy: %v\n", err)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		aborted := serveRecovering(mux, rec, r, logger)
		elapsed := time.Since(start)
		// The path label is the pattern that matched (the innermost mux sets it), so that
		// clients cannot grow the label set.
		pattern := r.Pattern
		if pattern == "" || pattern == "/" {
			pattern = "unmatched"
		}
		requests.WithLabelValues(pattern, strconv.Itoa(rec.code)).Inc()
		latency.WithLabelValues(pattern).Observe(elapsed.Seconds())
		if r.URL.Path != "/healthz" && r.URL.Path != "/metrics" {
			level := slog.LevelDebug
			if rec.code >= 400 {
				level = slog.LevelInfo
			}
			logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", rec.code),
				slog.Duration("duration", elapsed), slog.String("remote", r.RemoteAddr))
		}
		if aborted {
			panic(http.ErrAbortHandler)
		}
	})
}

// serveRecovering calls h, turning a panic into an error log line and a 500. A response already
// under way cannot become a 500: it is aborted instead (http.ErrAbortHandler, which net/http
// answers by dropping the connection), so that the client does not take a truncated body for a
// whole one: serveRecovering then reports aborted, for the caller to panic with once it has
// recorded the request. http.ErrAbortHandler raised by h itself goes on up unlogged.
func serveRecovering(h http.Handler, rec *statusRecorder, r *http.Request, logger *slog.Logger) (aborted bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("value", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		if rec.written {
			rec.code, aborted = http.StatusInternalServerError, true
			return
		}
		Error(rec, http.StatusInternalServerError, "internal error")
	}()
	h.ServeHTTP(rec, r)
	return false
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code    int
	written bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.written {
		s.code, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// registerOrReuse registers c, or returns the equal collector reg already holds.
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

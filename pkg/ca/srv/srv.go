package srv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server timeouts. Requests to these servers are small and answered quickly; a client slower
// than this is cut off.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 90 * time.Second
	MaxHeaderBytes    = 32 << 10
	// ShutdownGrace is how long Run waits for requests in flight after its context ends.
	ShutdownGrace = 10 * time.Second
)

// Instrumented wraps an API handler with /healthz, /metrics (on its own Prometheus registry, so
// several servers can live in one process) and per-request metrics and logs. name labels the
// metrics (cosign_like_<name>_requests_total and _request_duration_seconds).
func Instrumented(name string, api http.Handler, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosign_like_" + name + "_requests_total",
		Help: "HTTP requests answered, by path and status code.",
	}, []string{"path", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cosign_like_" + name + "_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by path.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"path"})
	reg.MustRegister(requests, latency)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(rec, r)
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
	})
}

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

// NewHTTPServer is an http.Server with this package's timeouts and header limit.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if logger != nil {
		s.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	return s
}

// Serve answers on ln until ctx ends, then shuts down gracefully (requests in flight get
// ShutdownGrace to finish). It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	s := NewHTTPServer(h, logger)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := s.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr and calls Serve. ready, when not nil, is called with the bound
// address once the listener is open (useful with port 0).
func ListenAndServe(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, ready func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	return Serve(ctx, ln, h, logger)
}

// JSONLogger is the slog logger the servers use on the command line: JSON lines on w.
func JSONLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Error writes a plain-text error with the given status. Messages never echo request bodies.
func Error(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, format+"\n", args...)
}

// ReadBody reads at most limit bytes of the request body. A larger body gives an error wrapping
// ErrBodyTooLarge.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
		}
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return data, nil
}

// ErrBodyTooLarge is returned by ReadBody for a body over its limit.
var ErrBodyTooLarge = errors.New("request body too large")

package httpserver

import (
	"log/slog"
	"net/http"
	"time"
)

// Default limits of a connection. Requests to these servers are small and answered quickly; a
// client slower than this is cut off.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 90 * time.Second
	MaxHeaderBytes    = 32 << 10
)

// Timeouts are the limits the runner gives a server's connections (the http.Server fields of the
// same names). A zero field takes the default above; a negative one means no limit (for
// MaxHeaderBytes: net/http's own default).
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
}

// TransparencyLogTimeouts are the limits of the transparency log (pkg/tlog/logserver), whose
// entries may be larger than the other servers' requests: 10 s for the header, 30 s for the
// request, 60 s for the response, 120 s idle, 64 KiB of header.
func TransparencyLogTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second,
		Idle: 120 * time.Second, MaxHeaderBytes: 64 << 10}
}

// withDefaults fills the zero fields of t with the defaults.
func (t Timeouts) withDefaults() Timeouts {
	pick := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return max(v, 0)
	}
	out := Timeouts{
		ReadHeader: pick(t.ReadHeader, ReadHeaderTimeout),
		Read:       pick(t.Read, ReadTimeout),
		Write:      pick(t.Write, WriteTimeout),
		Idle:       pick(t.Idle, IdleTimeout),
	}
	out.MaxHeaderBytes = max(t.MaxHeaderBytes, 0)
	if t.MaxHeaderBytes == 0 {
		out.MaxHeaderBytes = MaxHeaderBytes
	}
	return out
}

// newHTTPServer is an http.Server for h with the limits t (defaults filled in) whose own errors
// go to logger at warning level.
func newHTTPServer(h http.Handler, t Timeouts, logger *slog.Logger) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

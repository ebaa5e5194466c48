package tuf

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/cosign-like/cosign-like/internal/httpserver"
)

// Server serves a published repository over HTTP: NewFileServer's files, with the servers'
// shared HTTP setup (/healthz, /metrics named cosign_like_tuf_..., request logs, recovery).
type Server struct {
	handler http.Handler
}

// ServerOptions configure OpenServer.
type ServerOptions struct {
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
}

// OpenServer serves the repository whose directory dir was published by Publish or
// NewDevRepository. A directory with nothing published gives an error wrapping ErrNotPublished.
func OpenServer(_ context.Context, dir string, opts ServerOptions) (*Server, error) {
	if _, err := os.Stat(filepath.Join(dir, publishDir, "timestamp.json")); err != nil {
		return nil, fmt.Errorf("%w in %s", ErrNotPublished, dir)
	}
	return &Server{handler: httpserver.Instrument("tuf", NewFileServer(dir), httpserver.Options{Logger: opts.Logger})}, nil
}

// Handler serves the published files for GET and HEAD, /healthz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases nothing: every request opens the files it reads.
func (s *Server) Close(context.Context) error { return nil }

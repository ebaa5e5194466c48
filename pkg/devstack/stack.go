package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Config says where the stack keeps its state and which addresses it listens on. Empty
// addresses pick a free port on 127.0.0.1.
type Config struct {
	// Dir holds the stack's state: registry blobs, keys, trust material, the env file.
	Dir string
	// RegistryAddr is the registry's listen address.
	RegistryAddr string
	// Logger receives the servers' logs; nil discards them.
	Logger *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	cfg     Config
	servers []*http.Server
	done    []chan error
	// RegistryHost is host:port of the registry.
	RegistryHost string
}

// EnvVar is one variable a client needs to use the stack.
type EnvVar struct{ Name, Value string }

// Start starts every server of the stack and returns once they all accept connections.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Dir == "" {
		return nil, errors.New("dev stack: no state directory")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "registry", "blobs"), 0o700); err != nil {
		return nil, fmt.Errorf("dev stack: %w", err)
	}
	s := &Stack{cfg: cfg}
	reg := registry.New(
		registry.WithReferrersSupport(true),
		registry.WithBlobHandler(registry.NewDiskBlobHandler(filepath.Join(cfg.Dir, "registry", "blobs"))),
		registry.Logger(slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)),
	)
	host, err := s.serve(ctx, "registry", cfg.RegistryAddr, reg)
	if err != nil {
		s.Close(context.Background())
		return nil, err
	}
	s.RegistryHost = host
	return s, nil
}

// serve listens on addr (loopback only) and serves h until Close.
func (s *Stack) serve(ctx context.Context, what, addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
		return "", fmt.Errorf("dev stack %s: %w", what, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dev stack %s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.servers = append(s.servers, srv)
	s.done = append(s.done, done)
	s.cfg.Logger.Info("listening", "server", what, "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}

// requireLoopback refuses listen addresses that are not on the loopback interface: the dev
// stack has no authentication and must not be reachable from elsewhere.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	return nil
}

// Env returns the environment a client needs, in a stable order.
func (s *Stack) Env() []EnvVar {
	return []EnvVar{
		{"COSIGN_LIKE_REGISTRY", s.RegistryHost},
	}
}

// ExportLines renders the environment as shell export lines.
func ExportLines(env []EnvVar) string {
	var b strings.Builder
	for _, e := range env {
		fmt.Fprintf(&b, "export %s=%s\n", e.Name, shellQuote(e.Value))
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Close stops every server, waiting for requests in flight until ctx ends.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	for i, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-s.done[i]; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	s.servers, s.done = nil, nil
	return errors.Join(errs...)
}

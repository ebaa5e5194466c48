package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// Config says where the stack keeps its state and which addresses it listens on. Empty
// addresses pick a free port on 127.0.0.1.
type Config struct {
	// Dir holds the stack's state: registry blobs, keys, trust material, the env file.
	Dir string
	// RegistryAddr, OIDCAddr, CTAddr, CAAddr, WitnessAddr, LogAddr, TSAAddr and TUFAddr are the
	// servers' listen addresses.
	RegistryAddr, OIDCAddr, CTAddr, CAAddr, WitnessAddr, LogAddr, TSAAddr, TUFAddr string
	// Logger receives the servers' logs; nil discards them.
	Logger *slog.Logger
	// ReadTimeout, when set, replaces the read timeout of every server but the registry (tests
	// shorten it). By default each has the one its standalone server has.
	ReadTimeout time.Duration
}

// Stack is a running local stack.
type Stack struct {
	cfg    Config
	groups []*httpserver.Group
	// RegistryHost is host:port of the registry.
	RegistryHost string
	// OIDCURL, CAURL, CTURL, WitnessURL and LogURL are the servers' base URLs; TSAURL is the
	// full timestamp URL.
	OIDCURL, CAURL, CTURL, WitnessURL, LogURL, TSAURL string
	// Issuer is the OIDC dev issuer, which mints tokens for any identity.
	Issuer *oidc.DevIssuer
	// TrustedRootPath and SigningConfigPath are the files a client needs; WitnessPolicyPath is
	// the witness policy (C2SP tlog-policy) requiring the stack's witness, which the log submits
	// its checkpoints to and verifiers may require.
	TrustedRootPath, SigningConfigPath, WitnessPolicyPath string
	// TUFMirror is the URL of the TUF repository that serves both; TUFRootPath is its initial
	// root.json.
	TUFMirror, TUFRootPath string
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
	lns, err := listenAll(ctx, cfg.RegistryAddr)
	if err != nil {
		return nil, fmt.Errorf("dev stack registry: %w", err)
	}
	// The registry takes image pushes of any size: only its headers are timed.
	registrySvc := httpserver.Service{Name: "registry", Listener: lns[0], Server: httpserver.Handler(withOCISubject(reg)),
		Timeouts: httpserver.Timeouts{ReadHeader: 10 * time.Second, Read: -1, Write: -1, Idle: -1, MaxHeaderBytes: -1}}
	if err := s.start(ctx, registrySvc); err != nil {
		return nil, err
	}
	s.RegistryHost = lns[0].Addr().String()
	if err := s.startKeyless(ctx); err != nil {
		s.Close(context.Background())
		return nil, err
	}
	return s, nil
}

// service is the server name of the stack on ln with the limits t (zero fields: the standalone
// servers' defaults), its read timeout replaced by Config.ReadTimeout when that is set.
func (s *Stack) service(name string, ln net.Listener, t httpserver.Timeouts) httpserver.Service {
	if s.cfg.ReadTimeout != 0 {
		t.Read = s.cfg.ReadTimeout
	}
	return httpserver.Service{Name: name, Listener: ln, Timeouts: t}
}

// start serves services until Close, logging where each listens.
func (s *Stack) start(ctx context.Context, services ...httpserver.Service) error {
	g, err := httpserver.Start(ctx, services, httpserver.RunOptions{Logger: s.cfg.Logger})
	if err != nil {
		return fmt.Errorf("dev stack: %w", err)
	}
	s.groups = append(s.groups, g)
	return nil
}

// listenAll opens a listener on each address (loopback only; empty picks a free port on
// 127.0.0.1), closing them all if one fails.
func listenAll(ctx context.Context, addrs ...string) ([]net.Listener, error) {
	var lc net.ListenConfig
	lns := make([]net.Listener, 0, len(addrs))
	for _, addr := range addrs {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		err := requireLoopback(addr)
		var ln net.Listener
		if err == nil {
			ln, err = lc.Listen(ctx, "tcp", addr)
		}
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
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
		{"COSIGN_LIKE_TRUSTED_ROOT", s.TrustedRootPath},
		{"COSIGN_LIKE_SIGNING_CONFIG", s.SigningConfigPath},
		{"COSIGN_LIKE_WITNESS_POLICY", s.WitnessPolicyPath},
		{"COSIGN_LIKE_OIDC_ISSUER", s.OIDCURL},
		{"COSIGN_LIKE_TUF_MIRROR", s.TUFMirror},
		{"COSIGN_LIKE_TUF_ROOT", s.TUFRootPath},
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

// Close stops every server, waiting for requests in flight until ctx ends, then closes them.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	for i := len(s.groups) - 1; i >= 0; i-- {
		errs = append(errs, s.groups[i].Shutdown(ctx))
	}
	s.groups = nil
	return errors.Join(errs...)
}

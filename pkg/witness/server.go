package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Options configure a witness server. Zero values take the defaults named on each field.
type Options struct {
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Registry is where the request metrics go and what /metrics serves; default a new registry.
	Registry *prometheus.Registry
	// Prefix is the URL path the endpoints live under ("/witness" serves
	// POST /witness/add-checkpoint); default none.
	Prefix string
	// Now is the clock that timestamps cosignatures; default time.Now.
	Now func() time.Time
}

// Config is what New needs: the witness's key, the logs it follows and where it keeps their
// state.
type Config struct {
	// Signer is the witness's cosignature key, with its name.
	Signer *tlog.CosignatureSigner
	// Logs are the keys of the logs it follows, each named by its origin.
	Logs []tlog.LogKey
	// Store keeps the latest cosigned checkpoint of each log.
	Store Store
	Options
}

// Server is a C2SP tlog-witness.
type Server struct {
	opts   Options
	log    *slog.Logger
	signer *tlog.CosignatureSigner
	store  Store
	logs   map[string]*followedLog // by origin
	byID   map[string]*followedLog // by OriginID
}

// followedLog is a log the witness follows and the latest checkpoint of it that it cosigned.
// mu serialises the check and update of that state.
type followedLog struct {
	key tlog.LogKey

	mu   sync.Mutex
	size uint64
	hash []byte
	note []byte // nil until the first cosignature
}

// Open serves the witness in dir, a directory written by Init: its key, the logs of its config,
// and the state in its StateDir.
func Open(ctx context.Context, dir string, opts Options) (*Server, error) {
	cfg, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	cfg.Options = opts
	return New(ctx, cfg)
}

// loadDir is the Config of the witness directory dir, without options.
func loadDir(dir string) (Config, error) {
	fc, err := LoadConfig(dir)
	if err != nil {
		return Config{}, err
	}
	keys, err := logKeys(fc.Logs)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	signer, err := LoadSigner(dir)
	if err != nil {
		return Config{}, err
	}
	store, err := NewDirStore(filepath.Join(dir, StateDir))
	if err != nil {
		return Config{}, err
	}
	return Config{Signer: signer, Logs: keys, Store: store}, nil
}

// New makes a witness of a key, logs and store handed in, and reads each log's state from the
// store. A stored checkpoint that is not cosigned by this witness's key, or not of its log's
// origin, is an error: the witness does not start afresh over a state it cannot read.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Signer == nil || cfg.Store == nil {
		return nil, errors.New("witness: a key and a store are required")
	}
	opts := cfg.Options
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Prefix != "" && (!strings.HasPrefix(opts.Prefix, "/") || strings.HasSuffix(opts.Prefix, "/")) {
		return nil, fmt.Errorf("witness: prefix %q must start with / and not end with one", opts.Prefix)
	}
	s := &Server{opts: opts, log: opts.Logger, signer: cfg.Signer, store: cfg.Store,
		logs: map[string]*followedLog{}, byID: map[string]*followedLog{}}
	for _, k := range cfg.Logs {
		if _, dup := s.logs[k.Origin]; dup || k.Origin == "" {
			return nil, fmt.Errorf("witness: log origin %q is empty or listed twice", k.Origin)
		}
		l := &followedLog{key: k}
		if err := s.loadState(ctx, l); err != nil {
			return nil, err
		}
		s.logs[k.Origin], s.byID[OriginID(k.Origin)] = l, l
	}
	if len(s.logs) == 0 {
		s.log.Warn("the witness follows no log: every checkpoint will be refused as of an unknown origin")
	}
	return s, nil
}

// loadState reads the stored checkpoint of l and checks that this witness cosigned it.
func (s *Server) loadState(ctx context.Context, l *followedLog) error {
	note, err := s.store.Load(ctx, l.key.Origin)
	if err != nil || note == nil {
		return err
	}
	if _, err := s.signer.Verifier().VerifyNote(note); err != nil {
		return fmt.Errorf("stored checkpoint of log %q: %w", l.key.Origin, err)
	}
	cp, err := tlog.UnverifiedCheckpoint(note)
	if err != nil {
		return fmt.Errorf("stored checkpoint of log %q: %w", l.key.Origin, err)
	}
	if cp.Origin != l.key.Origin {
		return fmt.Errorf("stored checkpoint of log %q has origin %q", l.key.Origin, cp.Origin)
	}
	l.size, l.hash, l.note = cp.Size, cp.Hash, note
	s.log.Info("log state", "origin", l.key.Origin, "size", cp.Size)
	return nil
}

// Verifier is the verifier of the witness's cosignatures.
func (s *Server) Verifier() *tlog.CosignatureVerifier { return s.signer.Verifier() }

// Checkpoint returns the latest checkpoint of the log named origin that the witness cosigned,
// with the log's signature and the cosignature, or nil when it cosigned none (or does not follow
// that log).
func (s *Server) Checkpoint(origin string) []byte {
	l := s.logs[origin]
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.note)
}

// Handler returns the witness's HTTP API: POST <prefix>/add-checkpoint and
// GET <prefix>/<origin ID>/checkpoint, on the shared server setup (internal/httpserver):
// /healthz, /metrics, request logs, panic recovery, and request bodies bounded by
// maxRequestBody.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+s.opts.Prefix+"/add-checkpoint", s.handleAddCheckpoint)
	mux.HandleFunc("GET "+s.opts.Prefix+"/{origin}/checkpoint", s.handleCheckpoint)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpserver.Error(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
	return httpserver.Instrument("witness", mux, httpserver.Options{
		Logger:       s.log,
		MaxBodyBytes: maxRequestBody + 1,
		Registry:     s.opts.Registry,
	})
}

// Close releases the server. Every state it answered for is already stored, so there is nothing
// to flush.
func (s *Server) Close(context.Context) error { return nil }

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	l := s.byID[r.PathValue("origin")]
	var note []byte
	if l != nil {
		note = s.Checkpoint(l.key.Origin)
	}
	if note == nil {
		httpserver.Error(w, http.StatusNotFound, "no cosigned checkpoint of that log")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(note)
}

package logserver

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	tmysql "github.com/transparency-dev/tessera/storage/mysql"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Defaults of ServerConfig.
const (
	DefaultMaxBodySize        = 128 << 10
	DefaultBatchMaxSize       = maxGroup
	DefaultBatchMaxAge        = 2 * time.Millisecond
	DefaultCheckpointInterval = time.Second
	DefaultDedupWarmEntries   = 1 << 18
	DefaultPushback           = 1 << 14
)

// ServerConfig configures a log server. Zero values take the defaults named on each field.
type ServerConfig struct {
	// Dir is a log directory written by Init (key and config; POSIX tiles under Dir/data).
	Dir string
	// Storage selects the storage: "" for POSIX files under Dir/data, or
	// "mysql://user:password@tcp(host:port)/database" for MySQL/MariaDB.
	Storage string
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// MaxBodySize bounds request bodies (413 beyond); default DefaultMaxBodySize.
	MaxBodySize int64
	// BatchMaxSize and BatchMaxAge tune Tessera's sequencing batches; defaults
	// DefaultBatchMaxSize and DefaultBatchMaxAge. Entries reach Tessera in groups (all that
	// arrived while the previous group was written), so the age only needs to cover handing
	// one group over.
	BatchMaxSize uint
	BatchMaxAge  time.Duration
	// CheckpointInterval is how often the storage publishes its own checkpoint (at least
	// 100 ms for POSIX, 1 s for MySQL); default DefaultCheckpointInterval. Neither responses nor
	// GET /api/v2/checkpoint wait for it: they carry a checkpoint this server signs at the
	// integrated size. The stored one is what fsck checks.
	CheckpointInterval time.Duration
	// DedupWarmEntries is how many of the newest entries are indexed at start so that
	// resubmissions after a restart are recognised; default DefaultDedupWarmEntries.
	DedupWarmEntries int
	// Registry receives the server's Prometheus metrics and is served at /metrics; default a
	// new registry.
	Registry *prometheus.Registry
}

// Server is a Rekor v2-compatible transparency log on Tessera.
type Server struct {
	cfg      ServerConfig
	log      *slog.Logger
	logCfg   *LogConfig
	key      tlog.LogKey
	signer   note.Signer
	logID    []byte
	add      tessera.AddFn
	group    *groupCommitter
	cancel   context.CancelFunc
	reader   tessera.LogReader
	shutdown func(context.Context) error
	tiles    *tileCache
	cpu      chan struct{}
	warm     map[[32]byte]uint64
	metrics  *serverMetrics
	closeDB  func() error

	headMu sync.Mutex
	head   *treeHead

	closeOnce sync.Once
	closeErr  error
}

// treeHead is a tree size and root with the checkpoint this server signed for it, and a proof
// builder shared by the requests answered with this checkpoint (it caches the tree nodes it
// derives, so a group of entries pays for them once).
type treeHead struct {
	size uint64
	root []byte
	note []byte

	pbMu  sync.Mutex
	nodes *treeNodes
}

// inclusionProof computes the proof of leaf idx in this tree from the tiles.
func (h *treeHead) inclusionProof(ctx context.Context, idx uint64, tiles client.TileFetcherFunc) ([][]byte, error) {
	h.pbMu.Lock()
	defer h.pbMu.Unlock()
	if h.nodes == nil {
		h.nodes = newTreeNodes(h.size, tiles)
	}
	return h.nodes.inclusion(ctx, idx)
}

// NewServer opens (or creates) the log storage of an initialized log directory and starts
// Tessera's sequencer. Call Close to stop it.
func NewServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	// The storage outlives ctx until Close has committed every accepted entry.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s, err := newServer(ctx, cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	s.cancel = cancel
	return s, nil
}

func newServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.BatchMaxSize == 0 {
		cfg.BatchMaxSize = DefaultBatchMaxSize
	}
	if cfg.BatchMaxAge <= 0 {
		cfg.BatchMaxAge = DefaultBatchMaxAge
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.DedupWarmEntries <= 0 {
		cfg.DedupWarmEntries = DefaultDedupWarmEntries
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	logCfg, priv, err := loadLog(cfg.Dir)
	if err != nil {
		return nil, err
	}
	signer, err := tlog.NewNoteSigner(logCfg.Origin, priv)
	if err != nil {
		return nil, err
	}
	metrics, err := newServerMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	id := tlog.Ed25519KeyID(logCfg.Origin, pub)
	s := &Server{
		cfg: cfg, log: cfg.Logger, logCfg: logCfg, signer: signer, logID: id[:],
		key:     tlog.LogKey{Origin: logCfg.Origin, KeyID: id[:], PublicKey: pub},
		metrics: metrics,
		cpu:     make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	driver, err := s.openDriver(ctx)
	if err != nil {
		return nil, err
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(s.cfg.BatchMaxSize, s.cfg.BatchMaxAge).
		WithCheckpointInterval(s.cfg.CheckpointInterval).
		WithPushback(DefaultPushback).
		WithAntispam(tessera.DefaultAntispamInMemorySize, nil)
	appender, shutdown, reader, err := tessera.NewAppender(ctx, driver, opts)
	if err != nil {
		s.closeStorage()
		return nil, fmt.Errorf("starting log storage: %w", err)
	}
	s.group = newGroupCommitter(appender.Add, s.metrics.observeGroup)
	s.add, s.shutdown = s.group.Add, shutdown
	s.reader = trimmedReader{reader}
	s.tiles = newTileCache(s.reader.ReadTile, 1024)
	if err := s.warmDedup(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	if _, err := s.currentHead(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// openDriver returns the Tessera storage driver that cfg.Storage selects.
func (s *Server) openDriver(ctx context.Context) (tessera.Driver, error) {
	spec := s.cfg.Storage
	switch {
	case spec == "" || strings.HasPrefix(spec, "posix:"):
		dir := filepath.Join(s.cfg.Dir, DataDir)
		if p := strings.TrimPrefix(spec, "posix:"); p != "" {
			dir = p
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating storage directory: %w", err)
		}
		d, err := posix.New(ctx, posix.Config{Path: dir})
		if err != nil {
			return nil, fmt.Errorf("opening POSIX storage in %s: %w", dir, err)
		}
		return d, nil
	case strings.HasPrefix(spec, "mysql://"):
		db, d, err := openMySQL(ctx, spec)
		if err != nil {
			return nil, err
		}
		s.closeDB = db.Close
		// Tessera's MySQL driver publishes checkpoints at most once a second.
		s.cfg.CheckpointInterval = max(s.cfg.CheckpointInterval, time.Second)
		return d, nil
	}
	return nil, fmt.Errorf("unknown storage %q: want empty (POSIX files), posix:/path or mysql://user:password@tcp(host:port)/db", spec)
}

// openMySQL connects to the MySQL/MariaDB storage at spec (mysql://user:pw@tcp(host:port)/db),
// creates the log tables if needed, and opens Tessera's driver on it.
func openMySQL(ctx context.Context, spec string) (*sql.DB, *tmysql.Storage, error) {
	mc, err := mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
	if err != nil {
		return nil, nil, fmt.Errorf("parsing MySQL storage address: %w", err)
	}
	mc.ParseTime = true
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return nil, nil, fmt.Errorf("opening MySQL storage: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := ensureMySQLSchema(ctx, db); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("MySQL storage at %s: %w", mc.Addr, err)
	}
	d, err := tmysql.New(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("opening MySQL storage at %s: %w", mc.Addr, err)
	}
	return db, d, nil
}

func (s *Server) closeStorage() {
	if s.closeDB != nil {
		_ = s.closeDB()
	}
}

// Close waits for entries already accepted to be committed to by a published checkpoint, then
// releases the storage. Later calls return the first call's result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.close(ctx) })
	return s.closeErr
}

func (s *Server) close(ctx context.Context) error {
	var err error
	if s.shutdown != nil {
		err = s.shutdown(ctx)
	}
	if s.group != nil {
		s.group.close()
	}
	s.closeStorage()
	if s.cancel != nil {
		s.cancel()
	}
	return err
}

// LogKey is the verification key of this log.
func (s *Server) LogKey() tlog.LogKey { return s.key }

// warmDedup indexes the newest entries so that identical resubmissions after a restart are
// answered with the existing index. Entries added while running are de-duplicated by Tessera.
func (s *Server) warmDedup(ctx context.Context) error {
	size, err := s.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading tree size: %w", err)
	}
	from := uint64(0)
	if size > uint64(s.cfg.DedupWarmEntries) {
		from = size - uint64(s.cfg.DedupWarmEntries)
	}
	s.warm = make(map[[32]byte]uint64, size-from)
	err = forEachEntry(ctx, s.reader.ReadEntryBundle, from, size, func(i uint64, data []byte) error {
		s.warm[sha256.Sum256(data)] = i
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexing entries for de-duplication: %w", err)
	}
	return nil
}

// forEachEntry calls f on each entry in [from, to) of a log whose tree has at least to entries.
func forEachEntry(ctx context.Context, readBundle client.EntryBundleFetcherFunc, from, to uint64, f func(uint64, []byte) error) error {
	for i := from; i < to; {
		bundleIdx := i / layout.EntryBundleWidth
		b, err := client.GetEntryBundle(ctx, readBundle, bundleIdx, to)
		if err != nil {
			return fmt.Errorf("reading entry bundle %d: %w", bundleIdx, err)
		}
		start := bundleIdx * layout.EntryBundleWidth
		for j := i - start; j < uint64(len(b.Entries)) && start+j < to; j++ {
			if err := f(start+j, b.Entries[j]); err != nil {
				return err
			}
			i = start + j + 1
		}
		if i < start+layout.EntryBundleWidth && i < to {
			return fmt.Errorf("entry bundle %d holds %d entries, tree size %d needs more", bundleIdx, len(b.Entries), to)
		}
	}
	return nil
}

// currentHead returns a signed checkpoint for the current integrated tree.
func (s *Server) currentHead(ctx context.Context) (*treeHead, error) {
	size, err := s.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading tree size: %w", err)
	}
	return s.headAtLeast(ctx, size)
}

// headAtLeast returns a signed checkpoint for a tree of at least min entries, computing it from
// the tiles once per integrated size.
func (s *Server) headAtLeast(ctx context.Context, min uint64) (*treeHead, error) {
	s.headMu.Lock()
	defer s.headMu.Unlock()
	if s.head != nil && s.head.size >= min {
		return s.head, nil
	}
	size, err := s.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading tree size: %w", err)
	}
	if size < min {
		return nil, fmt.Errorf("integrated tree size %d is below %d", size, min)
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if size > 0 {
		nodes, err := client.FetchRangeNodes(ctx, size, s.tiles.read)
		if err != nil {
			return nil, fmt.Errorf("reading tree of size %d: %w", size, err)
		}
		rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
		r, err := rf.NewRange(0, size, nodes)
		if err != nil {
			return nil, fmt.Errorf("building tree of size %d: %w", size, err)
		}
		if root, err = r.GetRootHash(nil); err != nil {
			return nil, fmt.Errorf("hashing tree of size %d: %w", size, err)
		}
	}
	n, err := tlog.SignCheckpoint(s.signer, size, root)
	if err != nil {
		return nil, err
	}
	s.head = &treeHead{size: size, root: root, note: n}
	s.metrics.treeSize.Set(float64(size))
	return s.head, nil
}

// Handler returns the HTTP API: POST /api/v2/log/entries, the tlog-tiles read API under
// /api/v2/, /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/log/entries", s.handleAdd)
	mux.HandleFunc("GET /api/v2/checkpoint", s.handleCheckpoint)
	mux.HandleFunc("GET /api/v2/tile/entries/{path...}", s.handleEntryBundle)
	mux.HandleFunc("GET /api/v2/tile/{level}/{path...}", s.handleTile)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler(s.cfg.Registry))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return s.recoverer(mux)
}

// recoverer turns a handler panic into a 500 and a log line, so one bad request cannot stop the
// server.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "value", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Serve listens on addr and serves the log until ctx is done, then shuts down gracefully:
// in-flight requests finish (up to 30 s) and accepted entries are committed.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("log server listening", "addr", ln.Addr().String(), "origin", s.logCfg.Origin, "url", s.logCfg.URL)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = s.Close(context.Background())
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	herr := srv.Shutdown(sctx)
	cerr := s.Close(sctx)
	s.log.Info("stopped")
	return errors.Join(herr, cerr)
}

package logserver

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
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

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/cosigning"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// Defaults of Options.
const (
	DefaultMaxBodySize        = 128 << 10
	DefaultBatchMaxSize       = maxGroup
	DefaultBatchMaxAge        = 2 * time.Millisecond
	DefaultCheckpointInterval = time.Second
	DefaultDedupWarmEntries   = 1 << 18
	DefaultPushback           = 1 << 14
	DefaultWitnessTimeout     = cosigning.DefaultTimeout
)

// Options configure a log server. Zero values take the defaults named on each field.
type Options struct {
	// Storage selects the storage Open opens: "" for POSIX files under the log directory's data/,
	// posix:/path, "mysql://user:password@tcp(host:port)/database" for MySQL/MariaDB, or
	// "aws://?db=<DSN>&bucket=B[&prefix=P][&endpoint=URL][&region=R][&path-style=true]" for
	// Tessera's AWS driver (MySQL/MariaDB sequencing, tiles and bundles in an S3-compatible bucket),
	// on which several servers can serve one log.
	Storage string
	// V1Storage selects the storage of the Rekor v1 tree, in the same forms; default derived
	// from Storage: the log directory's data-v1/ for "", posix:<path>-v1 for posix:<path>, and
	// the database <database>_v1 on the same server for MySQL (create it first). Its search
	// index and integrated times are kept in the log directory's v1index.db for files, and in
	// the v1 tree's database for mysql:// and aws:// storage.
	V1Storage string
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
	// integrated size (with a WitnessPolicy, they do: see there). The stored one is what fsck
	// checks.
	CheckpointInterval time.Duration
	// DedupWarmEntries is how many of the newest entries are indexed at start so that
	// resubmissions after a restart are recognised; default DefaultDedupWarmEntries.
	DedupWarmEntries int
	// Registry receives the server's Prometheus metrics and is served at /metrics; default a
	// new registry.
	Registry *prometheus.Registry
	// WitnessPolicy, when set, is a C2SP tlog-policy file in the form Tessera reads (a URL on
	// every witness line): each checkpoint the storage publishes is first submitted to its
	// witnesses, and that published checkpoint, with their cosignatures, is then what
	// GET /api/v2/checkpoint serves and what entries' inclusion proofs carry (instead of one this
	// server signs at the integrated size). Default none.
	WitnessPolicy []byte
	// WitnessTimeout bounds each attempt to gather the policy's cosignatures; default
	// DefaultWitnessTimeout.
	WitnessTimeout time.Duration
	// WitnessFailOpen publishes a checkpoint whose cosignatures do not meet the policy's quorum
	// (without the missing ones) instead of holding it back; default false: fail closed.
	WitnessFailOpen bool
}

// Config is what New needs: the checkpoint key with its origin, and the storage.
type Config struct {
	// Origin is the checkpoint origin (the hostname of the log's URL) and Key its Ed25519 key.
	Origin string
	Key    ed25519.PrivateKey
	// Driver is the Tessera storage driver, opened by the caller; Close does not close what
	// the driver was built on.
	Driver tessera.Driver
	Options
}

// Server is a Rekor v2-compatible transparency log on Tessera.
type Server struct {
	cfg      Options
	log      *slog.Logger
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
	// v1 is the Rekor v1 tree, opened by Open (nil for New).
	v1 *v1Log

	headMu sync.Mutex
	head   *treeHead
	// witnessed is set when the published checkpoint, cosigned by witnesses, is the head;
	// headRead is when it was last read from the storage.
	witnessed bool
	headRead  time.Time

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

// Open opens the log in dir, a directory written by Init: its key, and its storage as
// opts.Storage selects (created on first use). Call Close to stop it.
func Open(ctx context.Context, dir string, opts Options) (*Server, error) {
	logCfg, priv, err := loadLog(dir)
	if err != nil {
		return nil, err
	}
	// The storage outlives ctx until Close has committed every accepted entry.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	driver, closeDB, err := openDriver(sctx, dir, &opts)
	if err != nil {
		cancel()
		return nil, err
	}
	s, err := newServer(sctx, Config{Origin: logCfg.Origin, Key: priv, Driver: driver, Options: opts})
	if err != nil {
		if closeDB != nil {
			_ = closeDB()
		}
		cancel()
		return nil, err
	}
	s.cancel, s.closeDB = cancel, closeDB
	if s.v1, err = openV1(sctx, dir, logCfg, &s.cfg); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// New starts a log server on a storage driver and key handed in, and Tessera's sequencer on
// it. Call Close to stop it.
func New(ctx context.Context, cfg Config) (*Server, error) {
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

func newServer(ctx context.Context, c Config) (*Server, error) {
	cfg := c.Options
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
	if c.Driver == nil || c.Key == nil {
		return nil, errors.New("log server: a storage driver and a key are required")
	}
	signer, err := tlog.NewNoteSigner(c.Origin, c.Key)
	if err != nil {
		return nil, err
	}
	metrics, err := newServerMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	pub := c.Key.Public().(ed25519.PublicKey)
	id := tlog.Ed25519KeyID(c.Origin, pub)
	s := &Server{
		cfg: cfg, log: cfg.Logger, signer: signer, logID: id[:],
		key:     tlog.LogKey{Origin: c.Origin, KeyID: id[:], PublicKey: pub},
		metrics: metrics,
		cpu:     make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	opts := appendOptions(signer, &s.cfg, c.Driver)
	if len(cfg.WitnessPolicy) > 0 {
		if err := s.withWitnesses(opts); err != nil {
			return nil, err
		}
	}
	appender, shutdown, reader, err := tessera.NewAppender(ctx, c.Driver, opts)
	if err != nil {
		return nil, fmt.Errorf("starting log storage: %w", err)
	}
	s.group = newGroupCommitter(appender.Add, s.metrics.observeGroup)
	s.add, s.shutdown = s.group.Add, shutdown
	s.reader = storageReader(c.Driver, reader)
	s.tiles = newTileCache(s.reader.ReadTile, 1024)
	if err := s.warmDedup(ctx); err != nil {
		_ = s.Close(ctx)
		return nil, err
	}
	if _, err := s.currentHead(ctx); err != nil && !errors.Is(err, errNotWitnessed) {
		_ = s.Close(ctx)
		return nil, err
	}
	return s, nil
}

// appendOptions are Tessera's options for a tree on driver whose checkpoints signer signs. A
// driver that several servers share brings an antispam index they share too.
func appendOptions(signer note.Signer, cfg *Options, driver tessera.Driver) *tessera.AppendOptions {
	return tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(cfg.BatchMaxSize, cfg.BatchMaxAge).
		WithCheckpointInterval(cfg.CheckpointInterval).
		WithPushback(DefaultPushback).
		WithAntispam(tessera.DefaultAntispamInMemorySize, storage.SharedAntispam(driver))
}

// storageReader is the reader of a tree on driver: Tessera's, or what the driver puts in its
// place (storage.AWS reads from its bucket); trimmed to exact widths.
func storageReader(driver tessera.Driver, r tessera.LogReader) tessera.LogReader {
	if d, ok := driver.(interface {
		WrapReader(tessera.LogReader) tessera.LogReader
	}); ok {
		r = d.WrapReader(r)
	}
	return trimmedReader{r}
}

// openDriver returns the Tessera storage driver that opts.Storage selects for the log in dir,
// and a function that closes what it was built on (nil for files).
func openDriver(ctx context.Context, dir string, opts *Options) (tessera.Driver, func() error, error) {
	return openStorage(ctx, filepath.Join(dir, DataDir), opts.Storage, opts)
}

// openStorage opens the storage spec names (see Options.Storage), with data as the POSIX
// directory of the empty spec.
func openStorage(ctx context.Context, data, spec string, opts *Options) (tessera.Driver, func() error, error) {
	switch {
	case spec == "" || strings.HasPrefix(spec, "posix:"):
		if p := strings.TrimPrefix(spec, "posix:"); p != "" {
			data = p
		}
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, nil, fmt.Errorf("creating storage directory: %w", err)
		}
		d, err := posix.New(ctx, posix.Config{Path: data})
		if err != nil {
			return nil, nil, fmt.Errorf("opening POSIX storage in %s: %w", data, err)
		}
		return d, nil, nil
	case strings.HasPrefix(spec, "mysql://"):
		db, d, err := openMySQL(ctx, spec)
		if err != nil {
			return nil, nil, err
		}
		// Tessera's MySQL driver publishes checkpoints at most once a second.
		opts.CheckpointInterval = max(opts.CheckpointInterval, time.Second)
		return d, db.Close, nil
	case strings.HasPrefix(spec, storage.AWSScheme):
		d, err := storage.OpenAWS(ctx, spec)
		if err != nil {
			return nil, nil, err
		}
		// Tessera's AWS driver publishes checkpoints at most once a second.
		opts.CheckpointInterval = max(opts.CheckpointInterval, time.Second)
		return d, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown storage %q: want empty (POSIX files), posix:/path, mysql://user:password@tcp(host:port)/db or aws://?db=<DSN>&bucket=<bucket>", spec)
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
	if s.v1 != nil {
		if verr := s.v1.close(ctx); err == nil {
			err = verr
		}
	}
	if s.closeDB != nil {
		_ = s.closeDB()
	}
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
	return forEachEntryIn(ctx, readBundle, from, to, to, f)
}

// forEachEntryIn calls f on each entry in [from, to) of a log whose tree has size entries
// (at least to): the bundles read are those of that tree (a partial bundle of a smaller tree
// may be gone).
func forEachEntryIn(ctx context.Context, readBundle client.EntryBundleFetcherFunc, from, to, size uint64, f func(uint64, []byte) error) error {
	for i := from; i < to; {
		bundleIdx := i / layout.EntryBundleWidth
		b, err := client.GetEntryBundle(ctx, readBundle, bundleIdx, size)
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

// currentHead returns a signed checkpoint for the current integrated tree, or with a witness
// policy the newest witnessed one.
func (s *Server) currentHead(ctx context.Context) (*treeHead, error) {
	if s.witnessed {
		return s.witnessedHead(ctx, 0)
	}
	size, err := s.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading tree size: %w", err)
	}
	return s.headAtLeast(ctx, size)
}

// headAtLeast returns a signed checkpoint for a tree of at least min entries, computing it from
// the tiles once per integrated size.
func (s *Server) headAtLeast(ctx context.Context, min uint64) (*treeHead, error) {
	if s.witnessed {
		return s.witnessedHead(ctx, min)
	}
	h, err := newerHead(ctx, &s.headMu, &s.head, min, s.reader, s.tiles.read, func(size uint64, root []byte) ([]byte, error) {
		return tlog.SignCheckpoint(s.signer, size, root)
	})
	if err != nil {
		return nil, err
	}
	s.metrics.treeSize.Set(float64(h.size))
	return h, nil
}

// newerHead returns *head when it covers min entries. Else it waits for the tree to hold min
// entries, without holding mu (a reader of the current head must not wait behind an append
// waiting for integration), then, under mu, signs with sign the head of the integrated size
// unless another caller stored one as new meanwhile.
func newerHead(ctx context.Context, mu *sync.Mutex, head **treeHead, min uint64, reader tessera.LogReader,
	tiles client.TileFetcherFunc, sign func(size uint64, root []byte) ([]byte, error)) (*treeHead, error) {
	mu.Lock()
	if h := *head; h != nil && h.size >= min {
		mu.Unlock()
		return h, nil
	}
	mu.Unlock()
	size, err := storage.AwaitIntegration(ctx, reader, min)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if h := *head; h != nil && h.size >= size {
		return h, nil
	}
	root, err := treeRoot(ctx, size, tiles)
	if err != nil {
		return nil, err
	}
	n, err := sign(size, root)
	if err != nil {
		return nil, err
	}
	*head = &treeHead{size: size, root: root, note: n}
	return *head, nil
}

// IntegrationTimeout bounds how long an append waits for its entry to be integrated into the
// tree (storage.IntegrationTimeout).
const IntegrationTimeout = storage.IntegrationTimeout

// awaitIntegration returns the integrated tree size once it is at least want, polling the
// storage, or fails after IntegrationTimeout.
func (s *Server) awaitIntegration(ctx context.Context, want uint64) (uint64, error) {
	return storage.AwaitIntegration(ctx, s.reader, want)
}

// treeRoot computes the root hash of the tree of the given size from its tiles.
func treeRoot(ctx context.Context, size uint64, tiles client.TileFetcherFunc) ([]byte, error) {
	if size == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	nodes, err := client.FetchRangeNodes(ctx, size, tiles)
	if err != nil {
		return nil, fmt.Errorf("reading tree of size %d: %w", size, err)
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r, err := rf.NewRange(0, size, nodes)
	if err != nil {
		return nil, fmt.Errorf("building tree of size %d: %w", size, err)
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return nil, fmt.Errorf("hashing tree of size %d: %w", size, err)
	}
	return root, nil
}

// Handler returns the HTTP API: POST /api/v2/log/entries and the tlog-tiles read API under
// /api/v2/, the Rekor v1 API under /api/v1/ when the server was opened by Open, on the shared server setup (internal/httpserver): /healthz (503 when the storage
// cannot be read), /metrics with the log's own metrics, request logs, panic recovery, and
// request bodies bounded by Options.MaxBodySize.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/log/entries", s.handleAdd)
	mux.HandleFunc("GET /api/v2/checkpoint", s.handleCheckpoint)
	mux.HandleFunc("GET /api/v2/tile/entries/{path...}", s.handleEntryBundle)
	mux.HandleFunc("GET /api/v2/tile/{level}/{path...}", s.handleTile)
	if s.v1 != nil {
		s.routeV1(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return httpserver.Instrument("log", mux, httpserver.Options{
		Logger:       s.log,
		MaxBodyBytes: s.cfg.MaxBodySize + 1,
		Registry:     s.cfg.Registry,
		Health:       s.health,
	})
}

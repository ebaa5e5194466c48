package ctlog

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/ctonly"
	"github.com/transparency-dev/tessera/storage/posix"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/cosigning"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// Paths of the RFC 6962 write API.
const (
	AddChainPath    = "/ct/v1/add-chain"
	AddPreChainPath = "/ct/v1/add-pre-chain"
	GetRootsPath    = "/ct/v1/get-roots"
	// MaxRequestSize bounds an add-chain body.
	MaxRequestSize = 256 << 10
	// MaxChainLength bounds the certificates in a submitted chain.
	MaxChainLength = 8
)

// Errors a submission is refused with; the HTTP API answers them with 400.
var (
	ErrBadChain   = errors.New("bad certificate chain")
	ErrBadRequest = errors.New("bad add-chain request")
)

// OIDPoison is the critical precertificate poison extension (RFC 6962 section 3.1).
var OIDPoison = ctx509.OIDExtensionCTPoison

// Server is a running CT log.
type Server struct {
	key      crypto.Signer
	logID    [32]byte
	logKey   tlog.LogKey
	roots    []*ctx509.Certificate
	appender *tessera.Appender
	reader   tessera.LogReader
	addCT    func(context.Context, *ctonly.Entry) tessera.IndexFuture
	shutdown func(context.Context) error
	cancel   context.CancelFunc
	tiles    http.FileSystem
	handler  http.Handler
	logger   *slog.Logger
	now      func() time.Time

	// verifiedLinks holds [sha256(child) || sha256(parent)] of CA links already verified.
	verifiedLinks sync.Map
	linkCount     atomic.Int64
}

// maxCachedLinks bounds verifiedLinks.
const maxCachedLinks = 1024

// Options configure Open and New.
type Options struct {
	// RootsPEM are the roots the log accepts chains to. With Open they override the state
	// directory's roots.pem; with New, none means any chain whose signatures verify up to a
	// self-signed CA.
	RootsPEM []byte
	// BatchMaxAge bounds how long an entry waits to be sequenced (25 ms by default). Each batch
	// costs a few fsyncs, so a longer age trades latency for throughput.
	BatchMaxAge time.Duration
	// Logger receives the log's messages and request logs; nil discards them.
	Logger *slog.Logger
	// WitnessPolicy, when set, is a C2SP tlog-policy file in the form Tessera reads (a URL on
	// every witness line): each checkpoint the log publishes under /checkpoint is first
	// submitted to its witnesses and published with their cosignatures. Default none.
	WitnessPolicy []byte
	// WitnessTimeout bounds each attempt to gather the policy's cosignatures; default
	// cosigning.DefaultTimeout.
	WitnessTimeout time.Duration
	// Storage selects the storage Open opens: "" for POSIX files under the state directory's
	// log/, or aws://?db=<MySQL DSN, URL-escaped>&bucket=B[&prefix=P][&endpoint=URL][&region=R][&path-style=true]
	// for Tessera's AWS driver (MariaDB/MySQL sequencing, tiles and checkpoint in an
	// S3-compatible bucket, served from there), the form the transparency log takes.
	Storage string
	// WitnessFailOpen publishes a checkpoint whose cosignatures do not meet the policy's quorum
	// (without the missing ones) instead of holding it back; default false: fail closed.
	WitnessFailOpen bool
}

// Config is what New makes a CT log of: its key and its storage.
type Config struct {
	// Key signs SCTs and checkpoints: ECDSA P-256.
	Key crypto.Signer
	// Origin is the first line of the log's checkpoints.
	Origin string
	// Storage is the Tessera driver the entries are appended to (posix.New, or another).
	Storage tessera.Driver
	// Tiles are the files Storage publishes (checkpoint, tile/...), which the log serves
	// read-only under /checkpoint and /tile/.
	Tiles http.FileSystem
	Options
}

// Open starts the CT log stored in dir (written by Init), on the storage opts.Storage selects
// (POSIX files under dir/log by default). Close it to flush and stop.
func Open(ctx context.Context, dir string, opts Options) (*Server, error) {
	key, err := pki.ReadPrivateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	if !isP256(key) {
		return nil, fmt.Errorf("CT log key %s: ECDSA P-256 required", filepath.Join(dir, KeyFile))
	}
	origin, err := os.ReadFile(filepath.Join(dir, OriginFile))
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint origin: %w", err)
	}
	if opts.RootsPEM == nil {
		opts.RootsPEM, err = os.ReadFile(filepath.Join(dir, RootsFile))
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("reading accepted roots: %w", err)
		}
	}
	driver, tiles, err := openStorage(ctx, dir, opts.Storage)
	if err != nil {
		return nil, err
	}
	return New(ctx, Config{Key: key, Origin: strings.TrimSpace(string(origin)), Storage: driver,
		Tiles: tiles, Options: opts})
}

// openStorage opens the storage spec names (see Options.Storage) for the log in dir, and the
// files it publishes.
func openStorage(ctx context.Context, dir, spec string) (tessera.Driver, http.FileSystem, error) {
	switch {
	case spec == "":
		driver, err := posix.New(ctx, posix.Config{Path: filepath.Join(dir, LogDir)})
		if err != nil {
			return nil, nil, fmt.Errorf("opening log storage: %w", err)
		}
		return driver, http.Dir(filepath.Join(dir, LogDir)), nil
	case strings.HasPrefix(spec, storage.AWSScheme):
		// The SCT is signed once the entry is sequenced in the database: the leaf index it
		// carries is final then, and the tiles follow as the driver integrates.
		driver, err := storage.OpenAWS(ctx, spec)
		if err != nil {
			return nil, nil, err
		}
		return driver, driver.Objects, nil
	}
	return nil, nil, fmt.Errorf("unknown storage %q: want empty (POSIX files under the state directory) or aws://?db=<DSN>&bucket=<bucket>", spec)
}

// New starts a CT log on the key and storage of cfg. Close it to flush and stop.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Key == nil || !isP256(cfg.Key) {
		return nil, errors.New("CT log key: ECDSA P-256 required")
	}
	if cfg.Storage == nil || cfg.Tiles == nil {
		return nil, errors.New("CT log: no storage")
	}
	id, err := pki.LogID(cfg.Key.Public())
	if err != nil {
		return nil, err
	}
	signer, err := newTreeHeadSigner(cfg.Origin, cfg.Key, time.Now)
	if err != nil {
		return nil, err
	}
	logKey, err := tlog.TreeHeadLogKey(cfg.Origin, cfg.Key.Public().(*ecdsa.PublicKey))
	if err != nil {
		return nil, err
	}
	roots, err := parseRoots(cfg.RootsPEM)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(roots) == 0 {
		logger.Warn("no accepted roots configured: accepting any chain that verifies up to a self-signed CA")
	}
	if cfg.BatchMaxAge == 0 {
		cfg.BatchMaxAge = 25 * time.Millisecond
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// A chain logged again is answered with the first entry's SCT: Tessera's in-memory
	// antispam index finds what this process logged, and a storage that several front-ends
	// share brings an index they share.
	appendOpts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithCTLayout().
		WithBatching(256, cfg.BatchMaxAge).
		WithCheckpointInterval(time.Second).
		WithAntispam(tessera.DefaultAntispamInMemorySize, storage.SharedAntispam(cfg.Storage))
	if len(cfg.WitnessPolicy) > 0 {
		if _, err := cosigning.Apply(appendOpts, cosigning.Options{
			Policy: cfg.WitnessPolicy, Timeout: cfg.WitnessTimeout, FailOpen: cfg.WitnessFailOpen}); err != nil {
			cancel()
			return nil, fmt.Errorf("CT log: %w", err)
		}
	}
	appender, shutdown, reader, err := tessera.NewAppender(lctx, cfg.Storage, appendOpts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting log appender: %w", err)
	}
	l := &Server{
		key: cfg.Key, logID: id, logKey: logKey, roots: roots, appender: appender, reader: reader,
		addCT:    tessera.NewCertificateTransparencyAppender(appender),
		shutdown: shutdown, cancel: cancel, tiles: cfg.Tiles, logger: logger, now: time.Now,
	}
	l.handler = httpserver.Instrument("ct", l.api(), httpserver.Options{Logger: logger})
	return l, nil
}

func isP256(key crypto.Signer) bool {
	pub, ok := key.Public().(*ecdsa.PublicKey)
	return ok && pub.Curve.Params().Name == "P-256"
}

// parseRoots parses the accepted roots (none when rootsPEM is empty).
func parseRoots(rootsPEM []byte) ([]*ctx509.Certificate, error) {
	if len(rootsPEM) == 0 {
		return nil, nil
	}
	parsed, err := pki.ParseCertificates(rootsPEM)
	if err != nil {
		return nil, fmt.Errorf("accepted roots: %w", err)
	}
	var roots []*ctx509.Certificate
	for _, c := range parsed {
		r, err := ctx509.ParseCertificate(c.Raw)
		if err != nil && ctx509.IsFatal(err) {
			return nil, fmt.Errorf("accepted root %q: %w", c.Subject.CommonName, err)
		}
		roots = append(roots, r)
	}
	return roots, nil
}

// Close integrates what was added and stops the log.
func (l *Server) Close(ctx context.Context) error {
	defer l.cancel()
	if err := l.shutdown(ctx); err != nil {
		return fmt.Errorf("stopping CT log: %w", err)
	}
	return nil
}

// PublicKey is the key SCTs are signed with.
func (l *Server) PublicKey() crypto.PublicKey { return l.key.Public() }

// LogKey is the key the log's checkpoints verify under (RFC 6962 tree head note signatures),
// named by their origin: what a witness following the log is configured with.
func (l *Server) LogKey() tlog.LogKey { return l.logKey }

// LogID is the log's RFC 6962 ID (SHA-256 of its DER public key).
func (l *Server) LogID() [32]byte { return l.logID }

// Handler serves add-chain, add-pre-chain and get-roots, the static tiles and checkpoint
// read-only under /checkpoint and /tile/, and /healthz and /metrics (metrics named
// cosign_like_ct_...).
func (l *Server) Handler() http.Handler { return l.handler }

// api is the log's own part of Handler.
func (l *Server) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+AddChainPath, func(w http.ResponseWriter, r *http.Request) { l.handleAdd(w, r, false) })
	mux.HandleFunc("POST "+AddPreChainPath, func(w http.ResponseWriter, r *http.Request) { l.handleAdd(w, r, true) })
	mux.HandleFunc("GET "+GetRootsPath, func(w http.ResponseWriter, _ *http.Request) {
		// RFC 6962 section 4.7: the accepted roots, base64 DER (empty when any root is accepted).
		out := struct {
			Certificates [][]byte `json:"certificates"`
		}{Certificates: [][]byte{}}
		for _, r := range l.roots {
			out.Certificates = append(out.Certificates, r.Raw)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	files := http.FileServer(l.tiles)
	mux.Handle("GET /checkpoint", files)
	mux.Handle("GET /tile/", files)
	return mux
}

func (l *Server) handleAdd(w http.ResponseWriter, r *http.Request, precert bool) {
	body, err := httpserver.ReadBody(w, r, MaxRequestSize)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, httpserver.ErrBodyTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		httpserver.Error(w, code, "%v", err)
		return
	}
	chain, err := ParseAddChainRequest(body)
	if err != nil {
		httpserver.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	sct, err := l.Add(r.Context(), chain, precert)
	if err != nil {
		if errors.Is(err, ErrBadChain) || errors.Is(err, ErrBadRequest) {
			httpserver.Error(w, http.StatusBadRequest, "%v", err)
			return
		}
		l.logger.Error("adding to CT log", "error", err)
		if errors.Is(err, tessera.ErrPushback) {
			w.Header().Set("Retry-After", "1")
		}
		httpserver.Error(w, http.StatusServiceUnavailable, "the log could not store the entry")
		return
	}
	sig, err := cttls.Marshal(sct.Signature)
	if err != nil {
		httpserver.Error(w, http.StatusInternalServerError, "encoding SCT signature failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ct.AddChainResponse{
		SCTVersion: sct.SCTVersion,
		ID:         sct.LogID.KeyID[:],
		Timestamp:  sct.Timestamp,
		Extensions: encodeExtensions(sct.Extensions),
		Signature:  sig,
	})
}

// ParseAddChainRequest decodes an RFC 6962 add-chain body ({"chain": [base64 DER, ...]}) and
// parses each certificate. Errors wrap ErrBadRequest.
func ParseAddChainRequest(body []byte) ([]*ctx509.Certificate, error) {
	var req ct.AddChainRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadRequest)
	}
	if len(req.Chain) == 0 {
		return nil, fmt.Errorf("%w: empty chain", ErrBadRequest)
	}
	if len(req.Chain) > MaxChainLength {
		return nil, fmt.Errorf("%w: chain of %d certificates exceeds %d", ErrBadRequest, len(req.Chain), MaxChainLength)
	}
	chain := make([]*ctx509.Certificate, len(req.Chain))
	for i, der := range req.Chain {
		c, err := ctx509.ParseCertificate(der)
		if err != nil && ctx509.IsFatal(err) {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrBadRequest, i, err)
		}
		if c == nil {
			return nil, fmt.Errorf("%w: certificate %d does not parse", ErrBadRequest, i)
		}
		chain[i] = c
	}
	return chain, nil
}

// Add checks a chain and logs its first certificate (a precertificate when precert is true),
// returning the signed SCT once the entry is durably sequenced. A certificate the log already
// holds (as the antispam index knows) is not logged again: its SCT names the first entry, with
// that entry's timestamp.
func (l *Server) Add(ctx context.Context, chain []*ctx509.Certificate, precert bool) (*ct.SignedCertificateTimestamp, error) {
	if err := l.checkChain(chain, precert); err != nil {
		return nil, err
	}
	fingerprints := make([][32]byte, 0, len(chain)-1)
	for _, c := range chain[1:] {
		fingerprints = append(fingerprints, sha256.Sum256(c.Raw))
	}
	entry := &ctonly.Entry{
		Timestamp:         uint64(l.now().UnixMilli()),
		IsPrecert:         precert,
		Certificate:       chain[0].Raw,
		FingerprintsChain: fingerprints,
	}
	if precert {
		tbs, err := ctx509.BuildPrecertTBS(chain[0].RawTBSCertificate, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: removing poison: %v", ErrBadChain, err)
		}
		keyHash := sha256.Sum256(chain[1].RawSubjectPublicKeyInfo)
		entry.Certificate = tbs
		entry.Precertificate = chain[0].Raw
		entry.IssuerKeyHash = keyHash[:]
	}
	idx, err := l.addCT(ctx, entry)()
	if err != nil {
		return nil, fmt.Errorf("storing entry: %w", err)
	}
	if idx.IsDup {
		// The SCT of the entry logged first: its leaf, with its timestamp, is in the tree.
		logged, err := l.readLogged(ctx, idx.Index)
		if err != nil {
			return nil, fmt.Errorf("reading entry %d, which this chain's certificate was logged as: %w", idx.Index, err)
		}
		if logged.identity != [32]byte(entry.Identity()) {
			return nil, fmt.Errorf("entry %d, which the antispam index names for this chain, holds another certificate", idx.Index)
		}
		entry.Timestamp = logged.timestamp
	}
	var leaf ct.MerkleTreeLeaf
	if rest, err := cttls.Unmarshal(entry.MerkleTreeLeaf(idx.Index), &leaf); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("re-reading the Merkle tree leaf: %v", err)
	}
	sct := ct.SignedCertificateTimestamp{
		SCTVersion: ct.V1,
		LogID:      ct.LogID{KeyID: l.logID},
		Timestamp:  entry.Timestamp,
		Extensions: leaf.TimestampedEntry.Extensions,
	}
	input, err := ct.SerializeSCTSignatureInput(sct, ct.LogEntry{Leaf: leaf})
	if err != nil {
		return nil, fmt.Errorf("serialising SCT input: %w", err)
	}
	digest := sha256.Sum256(input)
	sig, err := l.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing SCT: %w", err)
	}
	sct.Signature = ct.DigitallySigned{
		Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA},
		Signature: sig,
	}
	return &sct, nil
}

// checkChain requires each certificate to be signed by the next, the issuers to be CAs, the
// last to be an accepted root (or self-signed when no roots are configured), the poison
// extension exactly on a precertificate leaf, and every certificate valid now.
func (l *Server) checkChain(chain []*ctx509.Certificate, precert bool) error {
	if precert && len(chain) < 2 {
		return fmt.Errorf("%w: a precertificate needs its issuer in the chain", ErrBadChain)
	}
	now := l.now()
	for i, c := range chain {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("%w: certificate %d (%q) is not valid now", ErrBadChain, i, c.Subject.CommonName)
		}
		poisoned := hasExtension(c, OIDPoison)
		if i == 0 && poisoned != precert {
			if precert {
				return fmt.Errorf("%w: precertificate lacks the critical poison extension", ErrBadChain)
			}
			return fmt.Errorf("%w: precertificate submitted to add-chain (use add-pre-chain)", ErrBadChain)
		}
		if i > 0 && poisoned {
			return fmt.Errorf("%w: issuer certificate %d carries the poison extension", ErrBadChain, i)
		}
		if i+1 < len(chain) {
			if err := l.checkSignedBy(c, chain[i+1], i > 0); err != nil {
				return fmt.Errorf("%w: certificate %d is not signed by certificate %d: %v", ErrBadChain, i, i+1, err)
			}
		}
	}
	last := chain[len(chain)-1]
	if len(l.roots) == 0 {
		if !bytes.Equal(last.RawIssuer, last.RawSubject) || last.CheckSignatureFrom(last) != nil {
			return fmt.Errorf("%w: chain does not end in a self-signed root", ErrBadChain)
		}
		return nil
	}
	for _, root := range l.roots {
		if bytes.Equal(root.Raw, last.Raw) {
			return nil
		}
		if bytes.Equal(root.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(root) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: chain does not lead to a root this log accepts", ErrBadChain)
}

// checkSignedBy checks that parent signed c. Links between CA certificates (cache set) are
// remembered once verified, since every submission repeats them.
func (l *Server) checkSignedBy(c, parent *ctx509.Certificate, cache bool) error {
	var key [64]byte
	if cache {
		a, b := sha256.Sum256(c.Raw), sha256.Sum256(parent.Raw)
		copy(key[:32], a[:])
		copy(key[32:], b[:])
		if _, ok := l.verifiedLinks.Load(key); ok {
			return nil
		}
	}
	if err := c.CheckSignatureFrom(parent); err != nil {
		return err
	}
	if cache && l.linkCount.Add(1) <= maxCachedLinks {
		l.verifiedLinks.Store(key, struct{}{})
	}
	return nil
}

func hasExtension(c *ctx509.Certificate, oid []int) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e.Critical
		}
	}
	return false
}

func encodeExtensions(ext ct.CTExtensions) string {
	return base64.StdEncoding.EncodeToString(ext)
}

package logserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// v1Log is the Rekor v1 tree: a Tessera log of its own, signed by the v1 ECDSA key, with the
// search index and integrated times beside it.
type v1Log struct {
	key      *v1Key
	origin   string // "<host> - <tree ID>"
	signer   *v1NoteSigner
	add      tessera.AddFn
	group    *groupCommitter
	shutdown func(context.Context) error
	reader   tessera.LogReader
	tiles    *tileCache
	index    v1Index
	closeDB  func() error
	// stopFill ends the loop that records entries a crashed front-end left unrecorded (nil
	// unless the index is shared), and fillDone is closed when it has.
	stopFill context.CancelFunc
	fillDone chan struct{}

	headMu sync.Mutex
	head   *treeHead
}

// v1StorageSpec is the storage of the v1 tree that opts select (see Options.V1Storage).
func v1StorageSpec(opts *Options) (string, error) {
	switch spec := opts.Storage; {
	case opts.V1Storage != "":
		return opts.V1Storage, nil
	case spec == "":
		return "", nil
	case strings.HasPrefix(spec, "posix:"):
		return strings.TrimSuffix(spec, "/") + "-v1", nil
	case strings.HasPrefix(spec, "mysql://"):
		mc, err := mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return "", fmt.Errorf("parsing MySQL storage address: %w", err)
		}
		mc.DBName += "_v1"
		return "mysql://" + mc.FormatDSN(), nil
	case strings.HasPrefix(spec, storage.AWSScheme):
		return v1AWSSpec(spec)
	}
	return opts.Storage, nil // openStorage names what is wrong with it
}

// openV1 opens the v1 tree of the log in dir and reconciles its index with the tree.
func openV1(ctx context.Context, dir string, cfg *LogConfig, opts *Options) (*v1Log, error) {
	key, err := loadV1Key(dir, cfg)
	if err != nil {
		return nil, err
	}
	spec, err := v1StorageSpec(opts)
	if err != nil {
		return nil, err
	}
	// The index first: a bbolt file's lock keeps a second process (log reindex) off a served log.
	index, shared, err := openV1IndexFor(ctx, dir, spec, opts)
	if err != nil {
		return nil, err
	}
	v1opts := *opts
	driver, closeDB, err := openStorage(ctx, filepath.Join(dir, V1DataDir), spec, &v1opts)
	if err != nil {
		_ = index.close()
		return nil, fmt.Errorf("v1 tree: %w", err)
	}
	l := &v1Log{key: key, origin: fmt.Sprintf("%s - %d", cfg.Origin, key.treeID), signer: newV1NoteSigner(cfg.Origin, key), closeDB: closeDB, index: index}
	appender, shutdown, reader, err := tessera.NewAppender(ctx, driver, appendOptions(l.signer, &v1opts, driver))
	if err != nil {
		l.close(ctx)
		return nil, fmt.Errorf("starting the v1 tree's storage: %w", err)
	}
	l.group = newGroupCommitter(appender.Add, func(int, time.Duration) {})
	l.add, l.shutdown = l.group.Add, shutdown
	l.reader = storageReader(driver, reader)
	l.tiles = newTileCache(l.reader.ReadTile, 1024)
	size, err := l.size(ctx)
	if err != nil {
		l.close(ctx)
		return nil, err
	}
	n, err := l.index.reconcile(ctx, size, l.readEntries, time.Now())
	if err != nil {
		l.close(ctx)
		return nil, err
	}
	if n > 0 {
		opts.Logger.InfoContext(ctx, "v1 index: recorded entries the tree holds", "entries", n, "tree_size", size)
	}
	if _, err := l.headAtLeast(ctx, size); err != nil {
		l.close(ctx)
		return nil, err
	}
	if shared {
		fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		l.stopFill, l.fillDone = stop, make(chan struct{})
		go l.fillOrphans(fctx, opts.Logger, size)
	}
	return l, nil
}

// openV1IndexFor opens the v1 index of the log in dir whose v1 tree is on storage spec: in the
// tree's database when it has one (shared is then true), importing the v1index.db an earlier
// version kept there; else the bbolt file in dir.
func openV1IndexFor(ctx context.Context, dir, spec string, opts *Options) (index v1Index, shared bool, err error) {
	dsn, shared, err := sqlV1IndexDSN(spec)
	if err != nil {
		return nil, false, err
	}
	path := filepath.Join(dir, V1IndexFile)
	if !shared {
		b, err := openBoltV1Index(path)
		return b, false, err
	}
	x, err := openSQLV1Index(ctx, dsn)
	if err != nil {
		return nil, false, err
	}
	n, err := x.importBolt(ctx, path)
	if err != nil {
		_ = x.close()
		return nil, false, err
	}
	if n > 0 {
		opts.Logger.InfoContext(ctx, "v1 index: imported the entries of the log directory's index into the database", "entries", n, "file", path, "renamed_to", path+".imported")
	}
	return x, true, nil
}

// orphanAge is how long an integrated entry may stay unrecorded before another front-end
// records it: longer than any front-end takes from integrating an entry to recording it, so
// that only entries whose front-end died in between are recorded this way.
var orphanAge = 30 * time.Second

// fillOrphans records, every orphanAge, the entries integrated at least orphanAge ago that no
// front-end recorded (their front-end died between the two): until then they are found by
// index, not by UUID or search.
func (l *v1Log) fillOrphans(ctx context.Context, logger *slog.Logger, size uint64) {
	defer close(l.fillDone)
	t := time.NewTicker(orphanAge)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		size = l.sweep(ctx, logger, size)
	}
}

// sweep records the entries of a tree of size entries that no front-end recorded, within
// 10*orphanAge (a stalled database connection does not stop later sweeps; each window
// reconciled is kept), and returns the tree size the next sweep covers.
func (l *v1Log) sweep(ctx context.Context, logger *slog.Logger, size uint64) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 10*orphanAge)
	defer cancel()
	n, err := l.index.reconcile(ctx, size, l.readEntries, time.Now())
	switch {
	case errors.Is(err, context.Canceled): // the log is closing
		return size
	case err != nil:
		logger.WarnContext(ctx, "v1 index: recording entries no front-end recorded", "error", err.Error())
		return size
	case n > 0:
		logger.InfoContext(ctx, "v1 index: recorded entries no front-end recorded", "entries", n, "tree_size", size)
	}
	next, err := l.size(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			logger.WarnContext(ctx, "v1 index: reading the tree size to record entries no front-end recorded", "error", err.Error())
		}
		return size
	}
	return next
}

// stopFilling ends the loop of fillOrphans, if it runs.
func (l *v1Log) stopFilling() {
	if l.stopFill != nil {
		l.stopFill()
		<-l.fillDone
		l.stopFill = nil
	}
}

func (l *v1Log) close(ctx context.Context) error {
	var err error
	l.stopFilling()
	if l.shutdown != nil {
		err = l.shutdown(ctx)
	}
	if l.group != nil {
		l.group.close()
	}
	if l.index != nil {
		if cerr := l.index.close(); err == nil {
			err = cerr
		}
	}
	if l.closeDB != nil {
		_ = l.closeDB()
	}
	return err
}

func (l *v1Log) size(ctx context.Context) (uint64, error) {
	size, err := l.reader.IntegratedSize(ctx)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("reading the v1 tree size: %w", err)
	}
	return size, nil
}

// readEntries reads entries [from, to) of the v1 tree, from the bundles of its integrated size.
func (l *v1Log) readEntries(ctx context.Context, from, to uint64, f func(uint64, []byte) error) error {
	size, err := l.size(ctx)
	if err != nil {
		return err
	}
	if to > size {
		return fmt.Errorf("entries up to %d are beyond the v1 tree of size %d", to, size)
	}
	return forEachEntryIn(ctx, l.reader.ReadEntryBundle, from, to, size, f)
}

// headAtLeast returns a checkpoint, signed by the v1 key, of a tree of at least min entries.
func (l *v1Log) headAtLeast(ctx context.Context, min uint64) (*treeHead, error) {
	h, err := newerHead(ctx, &l.headMu, &l.head, min, l.reader, l.tiles.read, func(size uint64, root []byte) ([]byte, error) {
		n, err := note.Sign(&note.Note{Text: tlog.CheckpointBody(l.origin, size, root)}, l.signer)
		if err != nil {
			return nil, fmt.Errorf("signing the v1 checkpoint: %w", err)
		}
		return n, nil
	})
	if err != nil {
		return nil, fmt.Errorf("v1 tree: %w", err)
	}
	return h, nil
}

// current is the checkpoint of the current integrated tree.
func (l *v1Log) current(ctx context.Context) (*treeHead, error) {
	size, err := l.size(ctx)
	if err != nil {
		return nil, err
	}
	return l.headAtLeast(ctx, size)
}

// errV1NotFound reports an entry the v1 tree does not hold.
var errV1NotFound = errors.New("entry not found")

// entryAt builds the log entry at idx: its body from the tree, its integrated time from the
// index, a fresh signed entry timestamp and an inclusion proof in the current tree, checked
// before it is returned. It returns the entry UUID too.
func (l *v1Log) entryAt(ctx context.Context, idx uint64) (string, *tlog.V1LogEntry, error) {
	head, err := l.current(ctx)
	if err != nil {
		return "", nil, err
	}
	if idx >= head.size {
		return "", nil, fmt.Errorf("%w: log index %d is beyond the tree of size %d", errV1NotFound, idx, head.size)
	}
	var body []byte
	if err := l.readEntries(ctx, idx, idx+1, func(_ uint64, b []byte) error { body = b; return nil }); err != nil {
		return "", nil, err
	}
	return l.entryWithProof(ctx, head, idx, body)
}

// entryWithProof builds the log entry of body at idx with a proof in head's tree.
func (l *v1Log) entryWithProof(ctx context.Context, head *treeHead, idx uint64, body []byte) (string, *tlog.V1LogEntry, error) {
	leaf := tlog.LeafHash(body)
	recorded, integrated, err := l.recorded(ctx, idx, body)
	if err != nil {
		return "", nil, err
	}
	if !bytes.Equal(recorded, leaf) {
		return "", nil, fmt.Errorf("the v1 index records leaf hash %x for entry %d, the tree holds %x (run log reindex)", recorded, idx, leaf)
	}
	hashes, err := head.inclusionProof(ctx, idx, l.tiles.read)
	if err != nil {
		return "", nil, fmt.Errorf("computing inclusion proof: %w", err)
	}
	if err := tlog.VerifyInclusion(idx, head.size, leaf, hashes, head.root); err != nil {
		return "", nil, err
	}
	e := &tlog.V1LogEntry{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: integrated,
		LogID:          l.key.logID,
		LogIndex:       int64(idx),
	}
	set, err := l.signer.Sign(tlog.V1SETPayload(e.Body, e.IntegratedTime, e.LogID, e.LogIndex))
	if err != nil {
		return "", nil, fmt.Errorf("signing the entry timestamp: %w", err)
	}
	proof := &tlog.V1InclusionProof{
		Checkpoint: string(head.note),
		LogIndex:   int64(idx),
		RootHash:   hex.EncodeToString(head.root),
		TreeSize:   int64(head.size),
		Hashes:     make([]string, len(hashes)),
	}
	for i, h := range hashes {
		proof.Hashes[i] = hex.EncodeToString(h)
	}
	e.Verification = &tlog.V1Verification{SignedEntryTimestamp: set, InclusionProof: proof}
	return tlog.V1EntryUUID(l.key.treeID, leaf), e, nil
}

// recorded returns the leaf hash and integrated time the index records for the entry at idx,
// whose body the tree holds, first recording it if no front-end has (its front-end stopped
// between integrating and recording it): from then on every front-end answers the same time.
func (l *v1Log) recorded(ctx context.Context, idx uint64, body []byte) ([]byte, int64, error) {
	leaf, integrated, ok, err := l.index.entry(ctx, idx)
	if err == nil && !ok {
		_, err = l.index.fill(ctx, []uint64{idx}, func(ctx context.Context, _, _ uint64, f func(uint64, []byte) error) error {
			return f(idx, body)
		}, time.Now())
		if err == nil {
			leaf, integrated, ok, err = l.index.entry(ctx, idx)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the v1 index: %w", err)
	}
	if !ok {
		return nil, 0, fmt.Errorf("the v1 index holds no record of entry %d (run log reindex)", idx)
	}
	return leaf, integrated, nil
}

// lookup returns the log index of the entry with this leaf hash.
func (l *v1Log) lookup(ctx context.Context, leaf []byte) (uint64, error) {
	idx, ok, err := l.index.lookupLeaf(ctx, leaf)
	if err != nil {
		return 0, fmt.Errorf("reading the v1 index: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("%w: no entry has leaf hash %x", errV1NotFound, leaf)
	}
	return idx, nil
}

// consistency returns the consistency proof from the tree of first entries to that of last (at
// most the integrated size), and the root of the latter. The proof is verified before it is
// returned.
func (l *v1Log) consistency(ctx context.Context, first, last uint64) ([][]byte, []byte, error) {
	root2, err := treeRoot(ctx, last, l.tiles.read)
	if err != nil {
		return nil, nil, err
	}
	pb, err := client.NewProofBuilder(ctx, last, l.tiles.read)
	if err != nil {
		return nil, nil, fmt.Errorf("reading tree of size %d: %w", last, err)
	}
	hashes, err := pb.ConsistencyProof(ctx, first, last)
	if err != nil {
		return nil, nil, fmt.Errorf("consistency proof %d to %d: %w", first, last, err)
	}
	root1, err := treeRoot(ctx, first, l.tiles.read)
	if err != nil {
		return nil, nil, err
	}
	if err := tlog.VerifyConsistency(first, last, hashes, root1, root2); err != nil {
		return nil, nil, err
	}
	return hashes, root2, nil
}

// Reindex rebuilds the search index of the Rekor v1 tree of the log in dir from the tree
// (integrated times recorded before are kept; entries without one get the present time). The
// log must not be served meanwhile: a served bbolt index is locked, but no front-end on a
// database is stopped by it. It returns the number of entries indexed.
func Reindex(ctx context.Context, dir string, opts Options) (uint64, error) {
	cfg, _, err := loadLog(dir)
	if err != nil {
		return 0, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.CheckpointInterval = max(opts.CheckpointInterval, DefaultCheckpointInterval)
	if opts.BatchMaxSize == 0 {
		opts.BatchMaxSize = DefaultBatchMaxSize
	}
	if opts.BatchMaxAge <= 0 {
		opts.BatchMaxAge = DefaultBatchMaxAge
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := openV1(ctx, dir, cfg, &opts)
	if err != nil {
		return 0, err
	}
	l.stopFilling() // the rebuild alone writes the index
	size, err := l.size(ctx)
	if err == nil {
		size, err = l.index.rebuild(ctx, size, l.readEntries, time.Now())
	}
	if cerr := l.close(ctx); err == nil {
		err = cerr
	}
	return size, err
}

package logserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// Buckets of the v1 index.
var (
	// bucketEntries maps a log index (8 bytes, big endian) to its leaf hash and integrated
	// time (32 bytes, then 8 bytes of Unix seconds, big endian).
	bucketEntries = []byte("entries")
	// bucketLeaves maps a leaf hash to its log index.
	bucketLeaves = []byte("leaves")
	// bucketSearch holds one key per search index key and entry: the index key, 0x00, the log
	// index (8 bytes); the value is empty.
	bucketSearch = []byte("search")
	// bucketMeta holds metaIndexed: the tree size through which every entry is recorded.
	bucketMeta  = []byte("meta")
	metaIndexed = []byte("indexed")
)

// maxSearchResults bounds the entries one index key yields to a search.
const maxSearchResults = 1 << 16

// v1Index is the Rekor v1 tree's search index and per-entry integrated times. It is written
// only after an entry is integrated, so it never names an entry that is not in the tree; what a
// crash left unwritten is filled in from the tree by reconcile (on open) and fill (on read).
// A log on files keeps it in a bbolt file beside the tree (boltV1Index); a log on a database
// keeps it in that database (sqlV1Index), where every front-end shares it.
type v1Index interface {
	// record stores an integrated entry: its leaf hash, integrated time and search keys. An
	// entry already recorded keeps its integrated time.
	record(ctx context.Context, idx uint64, leaf []byte, integrated int64, keys []string) error
	// lookupLeaf returns the log index of the entry with this leaf hash; ok is false when the
	// index holds none.
	lookupLeaf(ctx context.Context, leaf []byte) (idx uint64, ok bool, err error)
	// entry returns the leaf hash and integrated time recorded for idx; ok is false when none is.
	entry(ctx context.Context, idx uint64) (leaf []byte, integrated int64, ok bool, err error)
	// leafHashes returns the leaf hashes recorded for idxs (ascending), leaving out indexes with
	// no record.
	leafHashes(ctx context.Context, idxs []uint64) ([][]byte, error)
	// search returns the log indexes of the entries under an index key, in log order, at most
	// maxSearchResults of them.
	search(ctx context.Context, key string) ([]uint64, error)
	// reconcile makes the index hold every entry of a tree of size entries, recording those a
	// crash left unrecorded with now as their integrated time (no client was answered for
	// them). It returns how many entries it recorded.
	reconcile(ctx context.Context, size uint64, read entryReader, now time.Time) (int, error)
	// fill records the entries at the given indexes (ascending) from the tree, keeping an
	// integrated time already recorded.
	fill(ctx context.Context, idxs []uint64, read entryReader, now time.Time) (int, error)
	// rebuild mends the index from the tree of size entries: leaf hashes are the tree's, the
	// search keys the tree yields are added (those recorded are kept: an in-toto statement's
	// subjects come with the submitted entry and cannot be read back from the tree), records
	// past the tree are dropped, and integrated times recorded are kept (entries without one
	// get now). It returns the number of entries indexed.
	rebuild(ctx context.Context, size uint64, read entryReader, now time.Time) (uint64, error)
	// ping reports whether the index can be read.
	ping(ctx context.Context) error
	close() error
}

// boltV1Index is the v1 index in a bbolt file, which one process at a time holds open.
type boltV1Index struct {
	db *bolt.DB
}

func openBoltV1Index(path string) (*boltV1Index, error) {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("the v1 index %s is locked by another process (is the log being served?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the v1 index %s: %w", path, err)
	}
	// Entries integrated together arrive together: a short delay gathers them into one
	// transaction without holding a lone entry back (bbolt's default is 10 ms).
	db.MaxBatchDelay = time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketLeaves, bucketSearch, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("preparing the v1 index %s: %w", path, err)
	}
	return &boltV1Index{db: db}, nil
}

func (x *boltV1Index) close() error { return x.db.Close() }

func (x *boltV1Index) ping(context.Context) error {
	return x.db.View(func(*bolt.Tx) error { return nil })
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func searchKey(key string, idx uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(key), 0), idx)
}

// record stores an integrated entry. Concurrent calls share one transaction (and one fsync).
func (x *boltV1Index) record(_ context.Context, idx uint64, leaf []byte, integrated int64, keys []string) error {
	return x.db.Batch(func(tx *bolt.Tx) error { return putEntry(tx, idx, leaf, integrated, keys) })
}

// putEntry records entry idx, keeping an integrated time already recorded for it.
func putEntry(tx *bolt.Tx, idx uint64, leaf []byte, integrated int64, keys []string) error {
	entries := tx.Bucket(bucketEntries)
	if v := entries.Get(be64(idx)); len(v) == 40 {
		integrated = int64(binary.BigEndian.Uint64(v[32:]))
	}
	v := binary.BigEndian.AppendUint64(append([]byte(nil), leaf...), uint64(integrated))
	if err := entries.Put(be64(idx), v); err != nil {
		return err
	}
	// A leaf hash keeps naming the copy first recorded (a tree whose dedup failed may hold an
	// entry twice): the one its UUID was first answered with.
	if leaves := tx.Bucket(bucketLeaves); leaves.Get(leaf) == nil {
		if err := leaves.Put(leaf, be64(idx)); err != nil {
			return err
		}
	}
	search := tx.Bucket(bucketSearch)
	for _, k := range keys {
		if err := search.Put(searchKey(k, idx), nil); err != nil {
			return err
		}
	}
	return nil
}

func (x *boltV1Index) lookupLeaf(_ context.Context, leaf []byte) (idx uint64, ok bool, err error) {
	err = x.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketLeaves).Get(leaf); len(v) == 8 {
			idx, ok = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	return idx, ok, err
}

func (x *boltV1Index) entry(_ context.Context, idx uint64) (leaf []byte, integrated int64, ok bool, err error) {
	err = x.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketEntries).Get(be64(idx)); len(v) == 40 {
			leaf, integrated, ok = append([]byte(nil), v[:32]...), int64(binary.BigEndian.Uint64(v[32:])), true
		}
		return nil
	})
	return leaf, integrated, ok, err
}

// leafHashes reads the leaf hashes in one transaction.
func (x *boltV1Index) leafHashes(_ context.Context, idxs []uint64) ([][]byte, error) {
	out := make([][]byte, 0, len(idxs))
	err := x.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries)
		for _, i := range idxs {
			if v := b.Get(be64(i)); len(v) == 40 {
				out = append(out, append([]byte(nil), v[:32]...))
			}
		}
		return nil
	})
	return out, err
}

func (x *boltV1Index) search(_ context.Context, key string) ([]uint64, error) {
	prefix := append([]byte(key), 0)
	var out []uint64
	err := x.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSearch).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, _ = c.Next() {
			if len(out) == maxSearchResults {
				break
			}
			out = append(out, binary.BigEndian.Uint64(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}

// entryReader reads entries [from, to) of the tree, calling f on each.
type entryReader func(ctx context.Context, from, to uint64, f func(uint64, []byte) error) error

// reconcile also removes records past the tree, which a storage that lost its last writes could
// leave: one process alone writes this index, and reconcile runs before it serves.
func (x *boltV1Index) reconcile(ctx context.Context, size uint64, read entryReader, now time.Time) (int, error) {
	var from uint64
	var missing []uint64
	err := x.db.Update(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaIndexed); len(v) == 8 {
			from = min(binary.BigEndian.Uint64(v), size)
		}
		entries := tx.Bucket(bucketEntries)
		c := entries.Cursor()
		for k, v := c.Seek(be64(size)); k != nil; k, v = c.Seek(be64(size)) {
			if err := dropEntry(tx, binary.BigEndian.Uint64(k), v); err != nil {
				return err
			}
		}
		next := from
		for k, _ := c.Seek(be64(from)); k != nil; k, _ = c.Next() {
			i := binary.BigEndian.Uint64(k)
			for ; next < i; next++ {
				missing = append(missing, next)
			}
			next = i + 1
		}
		for ; next < size; next++ {
			missing = append(missing, next)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reconciling the v1 index: %w", err)
	}
	if n, err := x.fill(ctx, missing, read, now); err != nil {
		return n, err
	}
	err = x.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaIndexed, be64(size)) })
	return len(missing), err
}

// dropEntry removes the record of idx (whose entries value is v) and its search keys.
func dropEntry(tx *bolt.Tx, idx uint64, v []byte) error {
	if err := tx.Bucket(bucketEntries).Delete(be64(idx)); err != nil {
		return err
	}
	if leaves := tx.Bucket(bucketLeaves); len(v) >= 32 && bytes.Equal(leaves.Get(v[:32]), be64(idx)) {
		if err := leaves.Delete(v[:32]); err != nil {
			return err
		}
	}
	// Search keys end with the index: a scan finds them without knowing the keys.
	c := tx.Bucket(bucketSearch).Cursor()
	suffix := be64(idx)
	var drop [][]byte
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if bytes.HasSuffix(k, suffix) && len(k) > 8 && k[len(k)-9] == 0 {
			drop = append(drop, append([]byte(nil), k...))
		}
	}
	for _, k := range drop {
		if err := tx.Bucket(bucketSearch).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (x *boltV1Index) fill(ctx context.Context, idxs []uint64, read entryReader, now time.Time) (int, error) {
	done := 0
	for len(idxs) > 0 {
		// Contiguous runs are read together.
		n := 1
		for n < len(idxs) && idxs[n] == idxs[n-1]+1 && n < 4096 {
			n++
		}
		run := idxs[:n]
		idxs = idxs[n:]
		err := x.db.Update(func(tx *bolt.Tx) error {
			return read(ctx, run[0], run[0]+uint64(len(run)), func(i uint64, body []byte) error {
				return recordFromTree(tx, i, body, now.Unix())
			})
		})
		if err != nil {
			return done, fmt.Errorf("recording entries %d to %d in the v1 index: %w", run[0], run[len(run)-1], err)
		}
		done += len(run)
	}
	return done, nil
}

// recordFromTree records entry i, read from the tree, keeping an integrated time already
// recorded for it.
func recordFromTree(tx *bolt.Tx, i uint64, body []byte, integrated int64) error {
	return putEntry(tx, i, tlog.LeafHash(body), integrated, treeIndexKeys(body))
}

// treeIndexKeys are the search keys of an entry read from the tree. The log only appends what
// Canonicalize accepted; an entry this version cannot read is still found by UUID and index,
// not by search.
func treeIndexKeys(body []byte) []string {
	e, err := rekortypes.Parse(body)
	if err != nil {
		return nil
	}
	return e.IndexKeys
}

func (x *boltV1Index) rebuild(ctx context.Context, size uint64, read entryReader, now time.Time) (uint64, error) {
	err := x.db.Update(func(tx *bolt.Tx) error {
		// Search keys are kept: those of an in-toto statement's subjects come with the
		// submitted entry and cannot be read back from the tree.
		if err := tx.DeleteBucket(bucketLeaves); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(bucketLeaves); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(metaIndexed, be64(0))
	})
	if err != nil {
		return 0, fmt.Errorf("clearing the v1 index: %w", err)
	}
	const chunk = 1 << 14
	for from := uint64(0); from < size; from += chunk {
		to := min(from+chunk, size)
		err := x.db.Update(func(tx *bolt.Tx) error {
			return read(ctx, from, to, func(i uint64, body []byte) error { return recordFromTree(tx, i, body, now.Unix()) })
		})
		if err != nil {
			return from, fmt.Errorf("indexing entries %d to %d: %w", from, to, err)
		}
	}
	if _, err := x.reconcile(ctx, size, read, now); err != nil {
		return size, err
	}
	return size, nil
}

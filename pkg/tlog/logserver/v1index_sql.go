package logserver

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	bolt "go.etcd.io/bbolt"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// sqlV1Schema holds the v1 index in the v1 tree's database: one row per recorded entry, one per
// search key and entry (by the SHA-256 of the key, so that a key of any length fits a primary
// key), and named watermarks.
var sqlV1Schema = []string{
	"CREATE TABLE IF NOT EXISTS `V1Entries` (`idx` BIGINT UNSIGNED NOT NULL, `leaf` BINARY(32) NOT NULL, `integrated` BIGINT NOT NULL, PRIMARY KEY (`idx`), KEY (`leaf`))",
	"CREATE TABLE IF NOT EXISTS `V1Search` (`keyHash` BINARY(32) NOT NULL, `idx` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`keyHash`, `idx`), KEY (`idx`))",
	"CREATE TABLE IF NOT EXISTS `V1IndexMeta` (`name` VARCHAR(32) NOT NULL, `value` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`name`))",
}

// Watermarks of V1IndexMeta: the tree size through which every entry is recorded, and whether
// a v1index.db of the log directory has been imported.
const (
	sqlMetaIndexed  = "indexed"
	sqlMetaImported = "imported"
)

// sqlChunk bounds the rows of one statement.
const sqlChunk = 1024

// sqlV1Index is the v1 index in tables of the v1 tree's MySQL or MariaDB database, which every
// front-end on that database reads and writes. While the log is served rows are only inserted,
// never replaced: the first integrated time recorded for an entry is the one every front-end
// answers, whichever of them recorded it.
type sqlV1Index struct {
	db *sql.DB
}

// sqlV1IndexDSN is the DSN of the database that holds the v1 index of storage spec (the v1 tree's
// own), and false for storage on files.
func sqlV1IndexDSN(spec string) (string, bool, error) {
	switch {
	case strings.HasPrefix(spec, "mysql://"):
		return strings.TrimPrefix(spec, "mysql://"), true, nil
	case strings.HasPrefix(spec, storage.AWSScheme):
		s, err := storage.ParseAWS(spec)
		return s.DSN, err == nil, err
	}
	return "", false, nil
}

func openSQLV1Index(ctx context.Context, dsn string) (*sqlV1Index, error) {
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the v1 index database address: %w", err)
	}
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("opening the v1 index database: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	for _, stmt := range sqlV1Schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("creating the v1 index tables in the database %s at %s: %w", mc.DBName, mc.Addr, err)
		}
	}
	return &sqlV1Index{db: db}, nil
}

func (x *sqlV1Index) close() error { return x.db.Close() }

// sqlV1Row is one entry to record.
type sqlV1Row struct {
	idx        uint64
	leaf       []byte
	integrated int64
	keys       []string
}

// insert records rows in one transaction. A row already recorded is left as it is, unless
// replaceLeaf (rebuild): then its leaf hash is replaced by the tree's, its integrated time kept.
func (x *sqlV1Index) insert(ctx context.Context, rows []sqlV1Row, replaceLeaf bool) error {
	if len(rows) == 0 {
		return nil
	}
	// Front-ends inserting search keys of one key at once can deadlock in InnoDB; the
	// transaction it rolls back is tried again.
	var err error
	for range 3 {
		if err = x.insertOnce(ctx, rows, replaceLeaf); !retryableSQL(err) {
			break
		}
	}
	return err
}

// retryableSQL reports a MySQL deadlock or lock wait timeout: the transaction was rolled back and
// may be run again.
func retryableSQL(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

func (x *sqlV1Index) insertOnce(ctx context.Context, rows []sqlV1Row, replaceLeaf bool) error {
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), sqlChunk)]
		rows = rows[len(chunk):]
		verb, tail := "INSERT IGNORE INTO", ""
		if replaceLeaf {
			verb, tail = "INSERT INTO", " ON DUPLICATE KEY UPDATE `leaf` = VALUES(`leaf`)"
		}
		args := make([]any, 0, 3*len(chunk))
		var keyArgs []any
		for _, r := range chunk {
			args = append(args, r.idx, r.leaf, r.integrated)
			for _, k := range r.keys {
				h := sha256.Sum256([]byte(k))
				keyArgs = append(keyArgs, h[:], r.idx)
			}
		}
		stmt := verb + " `V1Entries` (`idx`, `leaf`, `integrated`) VALUES " + placeholders(len(chunk), 3) + tail
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			return err
		}
		for len(keyArgs) > 0 {
			part := keyArgs[:min(len(keyArgs), 2*sqlChunk)]
			keyArgs = keyArgs[len(part):]
			if _, err := tx.ExecContext(ctx, "INSERT IGNORE INTO `V1Search` (`keyHash`, `idx`) VALUES "+placeholders(len(part)/2, 2), part...); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// placeholders is "(?, ?), (?, ?)" for rows of width columns.
func placeholders(rows, width int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

func (x *sqlV1Index) record(ctx context.Context, idx uint64, leaf []byte, integrated int64, keys []string) error {
	return x.insert(ctx, []sqlV1Row{{idx: idx, leaf: leaf, integrated: integrated, keys: keys}}, false)
}

// lookupLeaf returns the first index with the leaf hash (a tree whose dedup failed may hold an
// entry twice).
func (x *sqlV1Index) lookupLeaf(ctx context.Context, leaf []byte) (uint64, bool, error) {
	var idx uint64
	err := x.db.QueryRowContext(ctx, "SELECT `idx` FROM `V1Entries` WHERE `leaf` = ? ORDER BY `idx` LIMIT 1", leaf).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return idx, err == nil, err
}

func (x *sqlV1Index) entry(ctx context.Context, idx uint64) ([]byte, int64, bool, error) {
	var leaf []byte
	var integrated int64
	err := x.db.QueryRowContext(ctx, "SELECT `leaf`, `integrated` FROM `V1Entries` WHERE `idx` = ?", idx).Scan(&leaf, &integrated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, false, nil
	}
	return leaf, integrated, err == nil, err
}

func (x *sqlV1Index) leafHashes(ctx context.Context, idxs []uint64) ([][]byte, error) {
	found := make(map[uint64][]byte, len(idxs))
	for rest := idxs; len(rest) > 0; {
		chunk := rest[:min(len(rest), sqlChunk)]
		rest = rest[len(chunk):]
		args := make([]any, len(chunk))
		for i, v := range chunk {
			args[i] = v
		}
		rows, err := x.db.QueryContext(ctx, "SELECT `idx`, `leaf` FROM `V1Entries` WHERE `idx` IN "+placeholders(1, len(chunk)), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var idx uint64
			var leaf []byte
			if err := rows.Scan(&idx, &leaf); err != nil {
				rows.Close()
				return nil, err
			}
			found[idx] = leaf
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, 0, len(found))
	for _, i := range idxs {
		if leaf, ok := found[i]; ok {
			out = append(out, leaf)
		}
	}
	return out, nil
}

func (x *sqlV1Index) search(ctx context.Context, key string) ([]uint64, error) {
	h := sha256.Sum256([]byte(key))
	return x.indexes(ctx, "SELECT `idx` FROM `V1Search` WHERE `keyHash` = ? ORDER BY `idx` LIMIT ?", h[:], maxSearchResults)
}

// indexes runs a query of one column of log indexes.
func (x *sqlV1Index) indexes(ctx context.Context, query string, args ...any) ([]uint64, error) {
	rows, err := x.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var idx uint64
		if err := rows.Scan(&idx); err != nil {
			return nil, err
		}
		out = append(out, idx)
	}
	return out, rows.Err()
}

func (x *sqlV1Index) meta(ctx context.Context, name string) (uint64, bool, error) {
	var v uint64
	err := x.db.QueryRowContext(ctx, "SELECT `value` FROM `V1IndexMeta` WHERE `name` = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// raiseMeta sets a watermark to v unless it is already higher.
func (x *sqlV1Index) raiseMeta(ctx context.Context, name string, v uint64) error {
	_, err := x.db.ExecContext(ctx, "INSERT INTO `V1IndexMeta` (`name`, `value`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `value` = GREATEST(`value`, VALUES(`value`))", name, v)
	return err
}

// reconcile records the entries from the watermark to size that no front-end recorded. Unlike
// the bbolt file it removes nothing past size: another front-end may record an entry integrated
// after this one read the size, and the database does not lose its last writes the way files
// on a crashed machine may.
func (x *sqlV1Index) reconcile(ctx context.Context, size uint64, read entryReader, now time.Time) (int, error) {
	from, _, err := x.meta(ctx, sqlMetaIndexed)
	if err != nil {
		return 0, fmt.Errorf("reconciling the v1 index: %w", err)
	}
	var missing []uint64
	for lo := from; lo < size; lo += 1 << 16 {
		hi := min(lo+1<<16, size)
		have, err := x.indexes(ctx, "SELECT `idx` FROM `V1Entries` WHERE `idx` >= ? AND `idx` < ? ORDER BY `idx`", lo, hi)
		if err != nil {
			return 0, fmt.Errorf("reconciling the v1 index: %w", err)
		}
		next := lo
		for _, i := range have {
			for ; next < i; next++ {
				missing = append(missing, next)
			}
			next = i + 1
		}
		for ; next < hi; next++ {
			missing = append(missing, next)
		}
	}
	if n, err := x.fill(ctx, missing, read, now); err != nil {
		return n, err
	}
	if err := x.raiseMeta(ctx, sqlMetaIndexed, size); err != nil {
		return len(missing), fmt.Errorf("reconciling the v1 index: %w", err)
	}
	return len(missing), nil
}

func (x *sqlV1Index) fill(ctx context.Context, idxs []uint64, read entryReader, now time.Time) (int, error) {
	done := 0
	for len(idxs) > 0 {
		n := 1
		for n < len(idxs) && idxs[n] == idxs[n-1]+1 && n < sqlChunk {
			n++
		}
		run := idxs[:n]
		idxs = idxs[n:]
		rows, err := treeRows(ctx, read, run[0], run[0]+uint64(n), now)
		if err == nil {
			err = x.insert(ctx, rows, false)
		}
		if err != nil {
			return done, fmt.Errorf("recording entries %d to %d in the v1 index: %w", run[0], run[n-1], err)
		}
		done += n
	}
	return done, nil
}

// treeRows reads entries [from, to) from the tree as rows to record.
func treeRows(ctx context.Context, read entryReader, from, to uint64, now time.Time) ([]sqlV1Row, error) {
	rows := make([]sqlV1Row, 0, to-from)
	err := read(ctx, from, to, func(i uint64, body []byte) error {
		rows = append(rows, sqlV1Row{idx: i, leaf: tlog.LeafHash(body), integrated: now.Unix(), keys: treeIndexKeys(body)})
		return nil
	})
	return rows, err
}

// rebuild replaces the search keys and leaf hashes with the tree's, and drops records past it.
// Every front-end must be stopped meanwhile.
func (x *sqlV1Index) rebuild(ctx context.Context, size uint64, read entryReader, now time.Time) (uint64, error) {
	for _, stmt := range []string{"DELETE FROM `V1Search`", "DELETE FROM `V1IndexMeta` WHERE `name` = '" + sqlMetaIndexed + "'"} {
		if _, err := x.db.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("clearing the v1 index: %w", err)
		}
	}
	if _, err := x.db.ExecContext(ctx, "DELETE FROM `V1Entries` WHERE `idx` >= ?", size); err != nil {
		return 0, fmt.Errorf("clearing the v1 index: %w", err)
	}
	for from := uint64(0); from < size; from += sqlChunk {
		to := min(from+sqlChunk, size)
		rows, err := treeRows(ctx, read, from, to, now)
		if err == nil {
			err = x.insert(ctx, rows, true)
		}
		if err != nil {
			return from, fmt.Errorf("indexing entries %d to %d: %w", from, to, err)
		}
	}
	if err := x.raiseMeta(ctx, sqlMetaIndexed, size); err != nil {
		return size, fmt.Errorf("indexing: %w", err)
	}
	return size, nil
}

// importBolt copies the integrated times and search keys of a v1index.db at path, which a log
// kept before its index moved into the database, once: integrated times are known only there.
// It returns the number of entries imported (0 when there is no file or it was imported).
func (x *sqlV1Index) importBolt(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if _, done, err := x.meta(ctx, sqlMetaImported); err != nil || done {
		return 0, err
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("opening %s to import it into the database: %w", path, err)
	}
	defer b.Close()
	var rows []sqlV1Row
	err = b.View(func(tx *bolt.Tx) error {
		entries, search := tx.Bucket(bucketEntries), tx.Bucket(bucketSearch)
		if entries == nil || search == nil {
			return nil
		}
		byIdx := map[uint64]int{}
		err := entries.ForEach(func(k, v []byte) error {
			if len(k) == 8 && len(v) == 40 {
				byIdx[binary.BigEndian.Uint64(k)] = len(rows)
				rows = append(rows, sqlV1Row{idx: binary.BigEndian.Uint64(k), leaf: append([]byte(nil), v[:32]...), integrated: int64(binary.BigEndian.Uint64(v[32:]))})
			}
			return nil
		})
		if err != nil {
			return err
		}
		return search.ForEach(func(k, _ []byte) error {
			if len(k) < 9 || k[len(k)-9] != 0 {
				return nil
			}
			if i, ok := byIdx[binary.BigEndian.Uint64(k[len(k)-8:])]; ok {
				rows[i].keys = append(rows[i].keys, string(k[:len(k)-9]))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	n := len(rows)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), sqlChunk)]
		rows = rows[len(chunk):]
		if err := x.insert(ctx, chunk, false); err != nil {
			return 0, fmt.Errorf("importing %s into the database: %w", path, err)
		}
	}
	if err := x.raiseMeta(ctx, sqlMetaImported, 1); err != nil {
		return 0, err
	}
	return n, nil
}

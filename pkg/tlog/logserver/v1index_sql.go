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

// sqlV1Schema holds the v1 index in the v1 tree's database: one row per recorded entry; one per
// leaf hash, naming the index of the entry first recorded with it (a tree whose dedup failed may
// hold an entry twice, and its UUID keeps naming the copy first answered); one per search key
// and entry (by the SHA-256 of the key, so that a key of any length fits a primary key); and
// named watermarks. Each table has its primary key alone: a secondary index would cost every
// append a write that only log reindex, offline, would read.
var sqlV1Schema = []string{
	"CREATE TABLE IF NOT EXISTS `V1Entries` (`idx` BIGINT UNSIGNED NOT NULL, `leaf` BINARY(32) NOT NULL, `integrated` BIGINT NOT NULL, PRIMARY KEY (`idx`))",
	"CREATE TABLE IF NOT EXISTS `V1Leaves` (`leaf` BINARY(32) NOT NULL, `idx` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`leaf`))",
	"CREATE TABLE IF NOT EXISTS `V1Search` (`keyHash` BINARY(32) NOT NULL, `idx` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`keyHash`, `idx`))",
	"CREATE TABLE IF NOT EXISTS `V1IndexMeta` (`name` VARCHAR(32) NOT NULL, `value` BIGINT UNSIGNED NOT NULL, PRIMARY KEY (`name`))",
}

// sqlMetaIndexed names the watermark of V1IndexMeta: the tree size through which every entry is
// recorded.
const sqlMetaIndexed = "indexed"

// How a row of V1Entries already there meets the same index inserted again: kept as recorded
// (while served), its leaf hash replaced by the tree's (rebuild), or the earlier of the two
// integrated times kept (import of v1index.db files).
const (
	keepRecorded = " ON DUPLICATE KEY UPDATE `idx` = `idx`"
	replaceLeaf  = " ON DUPLICATE KEY UPDATE `leaf` = VALUES(`leaf`)"
	earliestTime = " ON DUPLICATE KEY UPDATE `integrated` = LEAST(`integrated`, VALUES(`integrated`))"
)

// sqlChunk bounds the rows of one statement.
const sqlChunk = 1024

// sqlWindow bounds the log indexes reconcile reads at a time.
const sqlWindow = 1 << 16

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

func (x *sqlV1Index) ping(ctx context.Context) error { return x.db.PingContext(ctx) }

// sqlV1Row is one entry to record.
type sqlV1Row struct {
	idx        uint64
	leaf       []byte
	integrated int64
	keys       []string
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execRows runs "head VALUES (?, ...), ... tail" over args, width values a row, at most sqlChunk
// rows a statement.
func execRows(ctx context.Context, db execer, head, tail string, width int, args []any) error {
	for len(args) > 0 {
		part := args[:min(len(args), width*sqlChunk)]
		args = args[len(part):]
		if _, err := db.ExecContext(ctx, head+" VALUES "+placeholders(len(part)/width, width)+tail, part...); err != nil {
			return err
		}
	}
	return nil
}

// insert records rows in one transaction, a row of V1Entries already there meeting its index
// again as onEntry says (keepRecorded, replaceLeaf, earliestTime); the leaf hashes and search
// keys of rows are only added.
func (x *sqlV1Index) insert(ctx context.Context, rows []sqlV1Row, onEntry string) error {
	if len(rows) == 0 {
		return nil
	}
	// Front-ends inserting search keys of one key at once can deadlock in InnoDB; the
	// transaction it rolls back is tried again.
	var err error
	for range 3 {
		if err = x.insertOnce(ctx, rows, onEntry); !retryableSQL(err) {
			break
		}
	}
	return err
}

// retryableSQL reports a deadlock InnoDB broke by rolling the transaction back (ER_LOCK_DEADLOCK):
// it may be run again at once. A lock wait timeout is not retried: it has already waited
// innodb_lock_wait_timeout.
func retryableSQL(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

func (x *sqlV1Index) insertOnce(ctx context.Context, rows []sqlV1Row, onEntry string) error {
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	entries := make([]any, 0, 3*len(rows))
	leaves := make([]any, 0, 2*len(rows))
	var keys []any
	for _, r := range rows {
		entries = append(entries, r.idx, r.leaf, r.integrated)
		leaves = append(leaves, r.leaf, r.idx)
		for _, k := range r.keys {
			h := sha256.Sum256([]byte(k))
			keys = append(keys, h[:], r.idx)
		}
	}
	if err := execRows(ctx, tx, "INSERT INTO `V1Entries` (`idx`, `leaf`, `integrated`)", onEntry, 3, entries); err != nil {
		return err
	}
	if err := execRows(ctx, tx, "INSERT INTO `V1Leaves` (`leaf`, `idx`)", keepRecorded, 2, leaves); err != nil {
		return err
	}
	if err := execRows(ctx, tx, "INSERT INTO `V1Search` (`keyHash`, `idx`)", keepRecorded, 2, keys); err != nil {
		return err
	}
	return tx.Commit()
}

// placeholders is "(?, ?), (?, ?)" for rows of width columns.
func placeholders(rows, width int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

func (x *sqlV1Index) record(ctx context.Context, idx uint64, leaf []byte, integrated int64, keys []string) error {
	return x.insert(ctx, []sqlV1Row{{idx: idx, leaf: leaf, integrated: integrated, keys: keys}}, keepRecorded)
}

// lookupLeaf returns the index V1Leaves names: the copy of the entry first recorded.
func (x *sqlV1Index) lookupLeaf(ctx context.Context, leaf []byte) (uint64, bool, error) {
	var idx uint64
	err := x.db.QueryRowContext(ctx, "SELECT `idx` FROM `V1Leaves` WHERE `leaf` = ?", leaf).Scan(&idx)
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

// reconcile records the entries from the watermark to size that no front-end recorded, a window
// of sqlWindow indexes at a time, raising the watermark after each. Unlike the bbolt file it
// removes nothing past size: another front-end may record an entry integrated after this one
// read the size, and the database does not lose its last writes the way files on a crashed
// machine may.
func (x *sqlV1Index) reconcile(ctx context.Context, size uint64, read entryReader, now time.Time) (int, error) {
	from, _, err := x.meta(ctx, sqlMetaIndexed)
	if err != nil {
		return 0, fmt.Errorf("reconciling the v1 index: %w", err)
	}
	done := 0
	for lo := from; lo < size; lo += sqlWindow {
		hi := min(lo+sqlWindow, size)
		have, err := x.indexes(ctx, "SELECT `idx` FROM `V1Entries` WHERE `idx` >= ? AND `idx` < ? ORDER BY `idx`", lo, hi)
		if err != nil {
			return done, fmt.Errorf("reconciling the v1 index: %w", err)
		}
		var missing []uint64
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
		n, err := x.fill(ctx, missing, read, now)
		done += n
		if err != nil {
			return done, err
		}
		if err := x.raiseMeta(ctx, sqlMetaIndexed, hi); err != nil {
			return done, fmt.Errorf("reconciling the v1 index: %w", err)
		}
	}
	return done, nil
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
			err = x.insert(ctx, rows, keepRecorded)
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

// rebuild mends the index from the tree: records and search keys past it are dropped, each
// record's leaf hash is the tree's, each leaf hash names a copy the tree holds, and the search
// keys the tree yields are added. Search keys already recorded are kept: those of an in-toto
// statement's subjects come with the submitted entry and cannot be read back from the tree.
// Every front-end must be stopped meanwhile.
func (x *sqlV1Index) rebuild(ctx context.Context, size uint64, read entryReader, now time.Time) (uint64, error) {
	for _, stmt := range []string{"DELETE FROM `V1Entries` WHERE `idx` >= ?", "DELETE FROM `V1Search` WHERE `idx` >= ?", "DELETE FROM `V1Leaves` WHERE `idx` >= ?"} {
		if _, err := x.db.ExecContext(ctx, stmt, size); err != nil {
			return 0, fmt.Errorf("clearing the v1 index past the tree: %w", err)
		}
	}
	for from := uint64(0); from < size; from += sqlChunk {
		to := min(from+sqlChunk, size)
		rows, err := treeRows(ctx, read, from, to, now)
		if err == nil {
			err = x.insert(ctx, rows, replaceLeaf)
		}
		if err != nil {
			return from, fmt.Errorf("indexing entries %d to %d: %w", from, to, err)
		}
	}
	// A leaf hash naming a record whose leaf hash was wrong names, once dropped, the first copy.
	stale := "DELETE `l` FROM `V1Leaves` `l` JOIN `V1Entries` `e` ON `e`.`idx` = `l`.`idx` WHERE `e`.`leaf` <> `l`.`leaf`"
	missing := "INSERT IGNORE INTO `V1Leaves` (`leaf`, `idx`) SELECT `leaf`, MIN(`idx`) FROM `V1Entries` GROUP BY `leaf`"
	for _, stmt := range []string{stale, missing} {
		if _, err := x.db.ExecContext(ctx, stmt); err != nil {
			return size, fmt.Errorf("indexing leaf hashes: %w", err)
		}
	}
	if err := x.raiseMeta(ctx, sqlMetaIndexed, size); err != nil {
		return size, fmt.Errorf("indexing: %w", err)
	}
	return size, nil
}

// importBolt copies the integrated times, leaf hashes and search keys of the v1index.db at path,
// which a front-end of a version before the index moved into the database kept (one per
// front-end, each with the entries it appended and those it reconciled at its start), then
// renames the file to path.imported. An entry in several files, or already in the database,
// keeps the earliest integrated time: the one answered when it was appended, which any later
// reconcile of another front-end follows. It returns the number of entries in the file (0 when
// there is none).
func (x *sqlV1Index) importBolt(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	b, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("opening %s to import it into the database: %w", path, err)
	}
	n := 0
	err = b.View(func(tx *bolt.Tx) error {
		entries, search := tx.Bucket(bucketEntries), tx.Bucket(bucketSearch)
		if entries == nil || search == nil {
			return nil
		}
		var rows []sqlV1Row
		c := entries.Cursor()
		for k, v := c.First(); ; k, v = c.Next() {
			if k != nil && len(k) == 8 && len(v) == 40 {
				rows = append(rows, sqlV1Row{idx: binary.BigEndian.Uint64(k), leaf: append([]byte(nil), v[:32]...), integrated: int64(binary.BigEndian.Uint64(v[32:]))})
			}
			if len(rows) == sqlChunk || (k == nil && len(rows) > 0) {
				if err := x.insert(ctx, rows, earliestTime); err != nil {
					return err
				}
				n += len(rows)
				rows = rows[:0]
			}
			if k == nil {
				break
			}
		}
		var keys []any
		c = search.Cursor()
		for k, _ := c.First(); ; k, _ = c.Next() {
			if k != nil && len(k) >= 9 && k[len(k)-9] == 0 {
				h := sha256.Sum256(k[:len(k)-9])
				keys = append(keys, h[:], binary.BigEndian.Uint64(k[len(k)-8:]))
			}
			if len(keys) == 2*sqlChunk || (k == nil && len(keys) > 0) {
				if err := execRows(ctx, x.db, "INSERT INTO `V1Search` (`keyHash`, `idx`)", keepRecorded, 2, keys); err != nil {
					return err
				}
				keys = keys[:0]
			}
			if k == nil {
				return nil
			}
		}
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("importing %s into the database: %w", path, err)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return n, fmt.Errorf("imported %s into the database, but renaming it: %w", path, err)
	}
	return n, nil
}

package logserver

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/fsck"
	"golang.org/x/mod/sumdb/note"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	tstorage "github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// FsckResult describes a successful check of a log's storage.
type FsckResult struct {
	// Checkpoint is the published checkpoint the storage was checked against.
	Checkpoint *tlog.Checkpoint
}

// Fsck checks the storage of the log in dir (POSIX files under dir when storage is empty, else a
// mysql:// or aws:// spec as Options.Storage takes): the stored checkpoint verifies with the log
// key, every entry bundle re-hashes to the level-0 tiles, every tile re-hashes from the level
// below, and the tree rebuilt from the entries has the checkpoint's root.
func Fsck(ctx context.Context, dir, storage string) (*FsckResult, error) {
	key, err := LoadLogKey(dir)
	if err != nil {
		return nil, err
	}
	vkey, err := note.NewEd25519VerifierKey(key.Origin, key.PublicKey.(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	var fetcher fsck.Fetcher
	switch {
	case storage == "":
		fetcher = client.FileFetcher{Root: filepath.Join(dir, DataDir)}
	case strings.HasPrefix(storage, "posix:"):
		fetcher = client.FileFetcher{Root: strings.TrimPrefix(storage, "posix:")}
	case strings.HasPrefix(storage, "mysql://"):
		db, d, err := openMySQL(ctx, storage)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		fetcher = trimmedReader{d}
	case strings.HasPrefix(storage, tstorage.AWSScheme):
		objs, err := tstorage.OpenS3Objects(ctx, storage)
		if err != nil {
			return nil, err
		}
		fetcher = objs
	default:
		return nil, fmt.Errorf("unknown storage %q", storage)
	}
	raw, err := fetcher.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the published checkpoint: %w", err)
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
	if err != nil {
		return nil, fmt.Errorf("published checkpoint: %w", err)
	}
	f := fsck.New(key.Origin, verifier, fetcher, bundleLeafHashes, fsck.Opts{N: 2})
	if err := f.Check(ctx); err != nil {
		return nil, fmt.Errorf("log storage in %s is damaged: %w", dir, err)
	}
	return &FsckResult{Checkpoint: cp}, nil
}

// bundleLeafHashes returns the RFC 6962 leaf hashes of the entries in a tlog-tiles bundle.
func bundleLeafHashes(b []byte) ([][]byte, error) {
	var eb api.EntryBundle
	if err := eb.UnmarshalText(b); err != nil {
		return nil, fmt.Errorf("parsing entry bundle: %w", err)
	}
	out := make([][]byte, len(eb.Entries))
	for i, e := range eb.Entries {
		out[i] = tlog.LeafHash(e)
	}
	return out, nil
}

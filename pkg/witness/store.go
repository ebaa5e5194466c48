package witness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Store keeps the latest cosigned checkpoint of each log. The server calls it for one log at a
// time (never twice at once for the same origin).
type Store interface {
	// Load returns the latest cosigned checkpoint note stored for origin, or nil and no error
	// when there is none.
	Load(ctx context.Context, origin string) ([]byte, error)
	// Save replaces the note stored for origin. When it returns nil the note must survive a
	// crash of the process (and, for a store on disk, of the machine).
	Save(ctx context.Context, origin string, note []byte) error
}

// OriginID is how the witness names a log in its URLs and state files: the hex SHA-256 of the
// origin.
func OriginID(origin string) string {
	h := sha256.Sum256([]byte(origin))
	return hex.EncodeToString(h[:])
}

// DirStore is a Store of one file per log, named by OriginID, in a directory. Save writes
// through fsutil.WriteFileDurable: a temporary file flushed to the disk, renamed over the old
// one, and the directory flushed.
type DirStore struct {
	dir string
}

// NewDirStore returns the store in dir, creating the directory if needed.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating witness state directory: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// Load reads the note of origin; a missing file is no note.
func (s *DirStore) Load(_ context.Context, origin string) ([]byte, error) {
	data, err := limitio.ReadFile(filepath.Join(s.dir, OriginID(origin)), tlog.MaxNoteSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the state of log %q: %w", origin, err)
	}
	return data, nil
}

// Save replaces the note of origin durably.
func (s *DirStore) Save(_ context.Context, origin string, note []byte) error {
	if err := fsutil.WriteFileDurable(filepath.Join(s.dir, OriginID(origin)), note, 0o644); err != nil {
		return fmt.Errorf("saving the state of log %q: %w", origin, err)
	}
	return nil
}

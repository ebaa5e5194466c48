package logclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// ErrLogInconsistent reports a log that forked (two views that no consistency proof joins,
// including two different checkpoints of one size) or rolled back (a checkpoint smaller than one
// already seen). The message names both checkpoints.
var ErrLogInconsistent = errors.New("transparency log is inconsistent with the checkpoint seen before")

// DefaultStateDir is where the last verified checkpoint of each log is kept:
// $XDG_STATE_HOME/cosign-like, else ~/.local/state/cosign-like.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cosign-like"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "cosign-like"), nil
}

// stateFile is the file holding the last verified checkpoint of the log with key k.
func stateFile(stateDir string, k tlog.LogKey) (string, error) {
	var id []byte
	switch pub := k.PublicKey.(type) {
	case ed25519.PublicKey:
		sum := sha256.Sum256(append([]byte(k.Origin+"\n"), pub...))
		id = sum[:]
	case *ecdsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("%w: %v", tlog.ErrUnsupportedKey, err)
		}
		sum := sha256.Sum256(der)
		id = sum[:]
	default:
		return "", fmt.Errorf("%w: %T", tlog.ErrUnsupportedKey, k.PublicKey)
	}
	return filepath.Join(stateDir, "tlog", hex.EncodeToString(id)+".checkpoint"), nil
}

// CheckConsistency fetches and verifies the checkpoint of the log at baseURL, then checks it
// against the last checkpoint kept for that log under stateDir (see RecordCheckpoint). It returns
// the new checkpoint.
func CheckConsistency(ctx context.Context, baseURL string, key tlog.LogKey, stateDir string, opts ...ClientOption) (*tlog.Checkpoint, error) {
	cp, _, err := CheckConsistencyAny(ctx, baseURL, []tlog.LogKey{key}, stateDir, opts...)
	return cp, err
}

// CheckConsistencyAny is CheckConsistency for a log listed with several keys: the one that signs
// its checkpoint is used, and returned.
func CheckConsistencyAny(ctx context.Context, baseURL string, keys []tlog.LogKey, stateDir string, opts ...ClientOption) (*tlog.Checkpoint, tlog.LogKey, error) {
	c, err := NewClient(baseURL, opts...)
	if err != nil {
		return nil, tlog.LogKey{}, err
	}
	cp, key, err := c.SignedCheckpoint(ctx, keys)
	if err != nil {
		return nil, tlog.LogKey{}, err
	}
	if err := RecordCheckpoint(ctx, c, key, stateDir, cp); err != nil {
		return nil, tlog.LogKey{}, err
	}
	return cp, key, nil
}

// RecordCheckpoint checks a checkpoint of the log (already verified with key) against the one
// kept under stateDir, and keeps the newer one. Equal sizes need equal roots; a larger checkpoint
// needs a consistency proof from the kept one, from c; a smaller one is a
// rollback. Every failure wraps ErrLogInconsistent and names both checkpoints; the kept
// checkpoint is then left as it was.
func RecordCheckpoint(ctx context.Context, c ConsistencyProver, key tlog.LogKey, stateDir string, cp *tlog.Checkpoint) error {
	path, err := stateFile(stateDir, key)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return writeState(path, cp.Raw)
	case err != nil:
		return fmt.Errorf("reading kept checkpoint: %w", err)
	}
	old, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
	if err != nil {
		return fmt.Errorf("kept checkpoint %s does not verify with the log key: %w", path, err)
	}
	switch {
	case cp.Size == old.Size:
		if !bytes.Equal(cp.Hash, old.Hash) {
			return fmt.Errorf("%w: split view: two checkpoints of size %d with different roots: kept %s, new %s", ErrLogInconsistent, cp.Size, old, cp)
		}
		return nil
	case cp.Size < old.Size:
		return fmt.Errorf("%w: rollback: new checkpoint %s is smaller than kept checkpoint %s", ErrLogInconsistent, cp, old)
	}
	proof, err := c.ConsistencyProof(ctx, old.Size, cp.Size)
	if err != nil {
		return fmt.Errorf("%w: no consistency proof from kept checkpoint %s to new %s: %w", ErrLogInconsistent, old, cp, err)
	}
	if err := tlog.VerifyConsistency(old.Size, cp.Size, proof, old.Hash, cp.Hash); err != nil {
		return fmt.Errorf("%w: fork: kept checkpoint %s and new checkpoint %s: %w", ErrLogInconsistent, old, cp, err)
	}
	return writeState(path, cp.Raw)
}

// ConsistencyProver gives consistency proofs between two tree sizes of one log: the tiles of
// the Rekor v2 API (Client) or the proof endpoint of the Rekor v1 API (V1Client).
type ConsistencyProver interface {
	ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error)
}

// writeState replaces the kept checkpoint atomically.
func writeState(path string, raw []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, raw, 0o600); err != nil {
		return fmt.Errorf("writing checkpoint state: %w", err)
	}
	return nil
}

package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// maxRequestBody bounds an add-checkpoint body: the old size line, 63 proof lines and a note.
const maxRequestBody = tlog.MaxNoteSize + 64*64

// Errors of AddCheckpoint, one per answer of C2SP tlog-witness (ConflictError is the fourth).
var (
	// ErrBadRequest reports a malformed body or checkpoint, or an old size above the
	// checkpoint's (400).
	ErrBadRequest = errors.New("bad add-checkpoint request")
	// ErrUnknownLog reports a checkpoint of an origin the witness does not follow (404).
	ErrUnknownLog = errors.New("unknown log")
	// ErrNotSignedByLog reports a checkpoint that no signature of its log's key verifies (403).
	ErrNotSignedByLog = errors.New("checkpoint not signed by the log's key")
	// ErrInconsistent reports a consistency proof that does not verify (422).
	ErrInconsistent = errors.New("checkpoint not consistent with the latest cosigned one")
)

// ConflictError is an add-checkpoint that does not start from the latest cosigned checkpoint
// (409): its old size is not Size, or it has Size with another root hash.
type ConflictError struct {
	// Size is the size of the latest checkpoint of the log the witness cosigned (0 for none).
	Size uint64
	// Reason says which.
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict with the latest cosigned checkpoint (size %d): %s", e.Size, e.Reason)
}

// AddCheckpoint checks a request as C2SP tlog-witness says, in its order: the origin is followed
// (ErrUnknownLog), a signature of the log's key verifies (ErrNotSignedByLog), the old size is at
// most the checkpoint's (ErrBadRequest), the old size is the latest cosigned one
// (*ConflictError), the proof proves consistency from it (ErrInconsistent; a proof from size 0
// and a proof between equal sizes must be empty), and equal sizes have equal root hashes
// (*ConflictError). It then cosigns the checkpoint, stores it (with the log's signature and the
// cosignature) and only then returns the cosignature. The check and the update are one step for
// each log.
func (s *Server) AddCheckpoint(ctx context.Context, req *tlog.AddCheckpointRequest) (*tlog.Cosignature, error) {
	unverified, err := tlog.UnverifiedCheckpoint(req.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	l := s.logs[unverified.Origin]
	if l == nil {
		return nil, fmt.Errorf("%w: origin %q", ErrUnknownLog, unverified.Origin)
	}
	cp, err := tlog.TrimCheckpoint(req.Checkpoint, []tlog.LogKey{l.key})
	if err != nil {
		if errors.Is(err, tlog.ErrUnknownKey) || errors.Is(err, tlog.ErrBadSignature) || errors.Is(err, tlog.ErrOriginMismatch) {
			return nil, fmt.Errorf("%w: %w", ErrNotSignedByLog, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if req.OldSize > cp.Size {
		return nil, fmt.Errorf("%w: old size %d is larger than the checkpoint's %d", ErrBadRequest, req.OldSize, cp.Size)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if req.OldSize != l.size {
		return nil, &ConflictError{Size: l.size, Reason: fmt.Sprintf("old size %d", req.OldSize)}
	}
	if err := l.consistent(req, cp); err != nil {
		s.log.Warn("refused a checkpoint signed by its log", "origin", cp.Origin, "old", req.OldSize,
			"size", cp.Size, "error", err.Error(), "checkpoint", base64.StdEncoding.EncodeToString(cp.Raw))
		return nil, err
	}
	c, err := s.signer.Cosign(cp.Body(), s.opts.Now())
	if err != nil {
		return nil, err
	}
	note := tlog.CosignedNote(cp.Raw, c)
	// The state is on the disk before anyone sees the cosignature.
	if err := s.store.Save(ctx, cp.Origin, note); err != nil {
		return nil, err
	}
	l.size, l.hash, l.note = cp.Size, cp.Hash, note
	return c, nil
}

// consistent checks that cp extends l's latest cosigned checkpoint, of size req.OldSize.
func (l *followedLog) consistent(req *tlog.AddCheckpointRequest, cp *tlog.Checkpoint) error {
	switch {
	case req.OldSize == 0 && len(req.Proof) != 0:
		return fmt.Errorf("%w: a proof from size 0 must be empty, got %d hashes", ErrInconsistent, len(req.Proof))
	case req.OldSize == 0 && cp.Size > 0:
		return nil
	case req.OldSize == cp.Size:
		if len(req.Proof) != 0 {
			return fmt.Errorf("%w: a proof between equal sizes must be empty, got %d hashes", ErrInconsistent, len(req.Proof))
		}
		if cp.Size == 0 {
			// Nothing may be cosigned at size 0 but the empty tree.
			if err := tlog.VerifyConsistency(0, 0, nil, cp.Hash, cp.Hash); err != nil {
				return fmt.Errorf("%w: %w", ErrInconsistent, err)
			}
			return nil
		}
		if !bytes.Equal(cp.Hash, l.hash) {
			return &ConflictError{Size: l.size, Reason: fmt.Sprintf("the same size with another root hash (%s)", cp)}
		}
		return nil
	}
	if err := tlog.VerifyConsistency(req.OldSize, cp.Size, req.Proof, l.hash, cp.Hash); err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	return nil
}

func (s *Server) handleAddCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := httpserver.ReadBody(w, r, maxRequestBody)
	if errors.Is(err, httpserver.ErrBodyTooLarge) {
		httpserver.Error(w, http.StatusRequestEntityTooLarge, "%v", err)
		return
	}
	if err != nil {
		httpserver.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	req, err := tlog.ParseAddCheckpointRequest(body)
	if err != nil {
		httpserver.Error(w, http.StatusBadRequest, "%v", err)
		return
	}
	c, err := s.AddCheckpoint(r.Context(), req)
	var conflict *ConflictError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(c.Line())
	case errors.As(err, &conflict):
		w.Header().Set("Content-Type", tlog.TreeSizeMediaType)
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(strconv.FormatUint(conflict.Size, 10) + "\n"))
	case errors.Is(err, ErrBadRequest):
		httpserver.Error(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrUnknownLog):
		httpserver.Error(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrNotSignedByLog):
		httpserver.Error(w, http.StatusForbidden, "%v", err)
	case errors.Is(err, ErrInconsistent):
		httpserver.Error(w, http.StatusUnprocessableEntity, "%v", err)
	default:
		s.log.Error("add-checkpoint", "error", err.Error())
		httpserver.Error(w, http.StatusInternalServerError, "internal error")
	}
}

package logserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/transparency-dev/tessera"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/cosigning"
)

// errNotWitnessed reports that no checkpoint published with the witnesses' cosignatures covers
// the entries asked for yet.
var errNotWitnessed = errors.New("no witnessed checkpoint covers the entry yet")

// withWitnesses has the storage submit each checkpoint it publishes to the witnesses of
// Options.WitnessPolicy (package cosigning).
func (s *Server) withWitnesses(opts *tessera.AppendOptions) error {
	timeout, err := cosigning.Apply(opts, cosigning.Options{
		Policy: s.cfg.WitnessPolicy, Timeout: s.cfg.WitnessTimeout, FailOpen: s.cfg.WitnessFailOpen})
	if err != nil {
		return err
	}
	s.cfg.WitnessTimeout = timeout
	s.witnessed = true
	return nil
}

// witnessPoll is how often the published checkpoint is read again while a request waits for one
// covering its entry.
func (s *Server) witnessPoll() time.Duration {
	return min(max(s.cfg.CheckpointInterval/4, 10*time.Millisecond), 250*time.Millisecond)
}

// witnessWait is how long an entry's answer waits for a witnessed checkpoint covering it: two
// publication rounds, each a checkpoint interval and a witness timeout.
func (s *Server) witnessWait() time.Duration {
	return 2 * (s.cfg.CheckpointInterval + s.cfg.WitnessTimeout)
}

// witnessedHead returns the newest checkpoint the storage published, with its witnesses'
// cosignatures, once it covers at least min entries: it waits for one up to witnessWait, and
// gives errNotWitnessed beyond. With min 0 it does not wait.
func (s *Server) witnessedHead(ctx context.Context, min uint64) (*treeHead, error) {
	deadline := time.Now().Add(s.witnessWait())
	for {
		h, err := s.readPublished(ctx, min)
		if err != nil {
			return nil, err
		}
		if h != nil && h.size >= min {
			return h, nil
		}
		if min == 0 || time.Now().After(deadline) {
			size := "none"
			if h != nil {
				size = fmt.Sprintf("size %d", h.size)
			}
			return nil, fmt.Errorf("%w (index %d; newest witnessed checkpoint: %s)", errNotWitnessed, int64(min)-1, size)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.witnessPoll()):
		}
	}
}

// readPublished returns the head from the published checkpoint, read again from the storage
// unless the head already covers min entries (min > 0) or was read within witnessPoll. The
// checkpoint must carry this log's signature; it is served as published, cosignatures included.
// It is nil while the storage has published none.
func (s *Server) readPublished(ctx context.Context, min uint64) (*treeHead, error) {
	s.headMu.Lock()
	defer s.headMu.Unlock()
	if s.head != nil && ((min > 0 && s.head.size >= min) || time.Since(s.headRead) < s.witnessPoll()) {
		return s.head, nil
	}
	raw, err := s.reader.ReadCheckpoint(ctx)
	if errors.Is(err, os.ErrNotExist) || (err == nil && raw == nil) {
		s.headRead = time.Now()
		return s.head, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the published checkpoint: %w", err)
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{s.key})
	if err != nil {
		return nil, fmt.Errorf("the published checkpoint: %w", err)
	}
	s.headRead = time.Now()
	if s.head == nil || cp.Size > s.head.size {
		s.head = &treeHead{size: cp.Size, root: cp.Hash, note: raw}
		s.metrics.treeSize.Set(float64(cp.Size))
	}
	return s.head, nil
}

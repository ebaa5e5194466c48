package logserver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// grpcCodes maps HTTP statuses to the gRPC codes grpc-gateway would report.
var grpcCodes = map[int]int{400: 3, 404: 5, 405: 12, 409: 6, 413: 3, 500: 13, 503: 14}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(tlog.ErrorBody{Code: grpcCodes[status], Message: msg})
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, outcome := s.add1(w, r)
	s.metrics.requests.WithLabelValues(outcome).Inc()
	if status == http.StatusCreated {
		s.metrics.latency.Observe(time.Since(start).Seconds())
	}
}

// add1 serves one create-entry request and returns its status and a metrics label.
func (s *Server) add1(w http.ResponseWriter, r *http.Request) (int, string) {
	ctx := r.Context()
	body, err := httpserver.ReadBody(w, r, s.cfg.MaxBodySize)
	if err != nil {
		if errors.Is(err, httpserver.ErrBodyTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", s.cfg.MaxBodySize))
			return http.StatusRequestEntityTooLarge, "too_large"
		}
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return http.StatusBadRequest, "invalid"
	}
	release, err := s.acquireCPU(ctx)
	if err != nil {
		return 499, "canceled"
	}
	req, err := tlog.ParseCreateEntryRequest(body)
	if err == nil {
		err = req.Verify()
	}
	release()
	if err != nil {
		s.log.DebugContext(ctx, "rejected entry", "error", err.Error())
		writeError(w, http.StatusBadRequest, err.Error())
		return http.StatusBadRequest, "invalid"
	}
	canon, err := req.CanonicalBody()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return http.StatusBadRequest, "invalid"
	}
	if idx, ok := s.warm[sha256.Sum256(canon)]; ok {
		return s.duplicate(w, idx), "duplicate"
	}
	entry := tessera.NewEntry(canon)
	idx, err := s.add(ctx, entry)()
	switch {
	case errors.Is(err, tessera.ErrPushback):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "log is busy, retry later")
		return http.StatusServiceUnavailable, "pushback"
	case errors.Is(err, context.Canceled):
		return 499, "canceled"
	case err != nil:
		s.log.ErrorContext(ctx, "appending entry failed", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "appending entry failed")
		return http.StatusInternalServerError, "error"
	case idx.IsDup:
		// The first copy may be sequenced and not yet integrated (Tessera's AWS driver): the
		// client reads it back at this index next.
		if _, err := s.awaitIntegration(ctx, idx.Index+1); err != nil {
			s.log.ErrorContext(ctx, "duplicate entry not integrated", "index", idx.Index, "error", err.Error())
			writeError(w, http.StatusServiceUnavailable, "an equivalent entry has index "+strconv.FormatUint(idx.Index, 10)+" but is not integrated yet, retry later")
			return http.StatusServiceUnavailable, "error"
		}
		return s.duplicate(w, idx.Index), "duplicate"
	}
	release, err = s.acquireCPU(ctx)
	if err != nil {
		return 499, "canceled"
	}
	out, err := s.answer(ctx, idx.Index, canon)
	release() // before writing: a slow reader must not hold a slot
	if errors.Is(err, errNotWitnessed) {
		s.log.WarnContext(ctx, "entry appended but not yet witnessed", "index", idx.Index, "error", err.Error())
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "entry appended at index "+strconv.FormatUint(idx.Index, 10)+" but no checkpoint cosigned by the log's witnesses covers it yet")
		return http.StatusServiceUnavailable, "unwitnessed"
	}
	if err != nil {
		s.log.ErrorContext(ctx, "building the answer failed", "index", idx.Index, "error", err.Error())
		writeError(w, http.StatusInternalServerError, "entry appended at index "+strconv.FormatUint(idx.Index, 10)+" but its inclusion proof failed")
		return http.StatusInternalServerError, "error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out)
	return http.StatusCreated, "created"
}

// answer is the encoded TransparencyLogEntry of an appended entry.
func (s *Server) answer(ctx context.Context, idx uint64, body []byte) ([]byte, error) {
	tle, err := s.entryWithProof(ctx, idx, body)
	if err != nil {
		return nil, err
	}
	return marshalEntry(tle)
}

// acquireCPU bounds the requests doing CPU-heavy work (parsing, signature verification, proofs,
// encoding) at once. Requests beyond the bound wait off the run queue, so the storage writer,
// which alternates short CPU bursts with fsyncs, is scheduled promptly after each one instead of
// queueing behind hundreds of request goroutines.
func (s *Server) acquireCPU(ctx context.Context) (func(), error) {
	select {
	case s.cpu <- struct{}{}:
		return func() { <-s.cpu }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Server) duplicate(w http.ResponseWriter, idx uint64) int {
	w.Header().Set(tlog.LogIndexHeader, strconv.FormatUint(idx, 10))
	writeError(w, http.StatusConflict, fmt.Sprintf("an equivalent entry already exists in the transparency log with index %d", idx))
	return http.StatusConflict
}

// entryWithProof builds the TransparencyLogEntry of an integrated entry: its inclusion proof in
// the current tree, checked against the checkpoint before it is returned.
func (s *Server) entryWithProof(ctx context.Context, idx uint64, body []byte) (*rekorv1.TransparencyLogEntry, error) {
	head, err := s.headAtLeast(ctx, idx+1)
	if err != nil {
		return nil, err
	}
	hashes, err := head.inclusionProof(ctx, idx, s.tiles.read)
	if err != nil {
		return nil, fmt.Errorf("computing inclusion proof: %w", err)
	}
	if err := tlog.VerifyInclusion(idx, head.size, tlog.LeafHash(body), hashes, head.root); err != nil {
		return nil, err
	}
	return &rekorv1.TransparencyLogEntry{
		LogIndex:          int64(idx),
		LogId:             &commonv1.LogId{KeyId: s.logID},
		KindVersion:       &rekorv1.KindVersion{Kind: tlog.HashedRekordKind, Version: tlog.HashedRekordVersion},
		CanonicalizedBody: body,
		InclusionProof: &rekorv1.InclusionProof{
			LogIndex:   int64(idx),
			RootHash:   head.root,
			TreeSize:   int64(head.size),
			Hashes:     hashes,
			Checkpoint: &rekorv1.Checkpoint{Envelope: string(head.note)},
		},
	}, nil
}

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	head, err := s.currentHead(r.Context())
	if errors.Is(err, errNotWitnessed) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "no checkpoint cosigned by the log's witnesses yet")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "reading checkpoint failed", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "reading checkpoint failed")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(head.note)
}

func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) {
	level, index, p, err := layout.ParseTileLevelIndexPartial(r.PathValue("level"), r.PathValue("path"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("bad tile path %q: %v", r.URL.Path, err))
		return
	}
	s.serveStatic(w, r, level, index, p, func(ctx context.Context) ([]byte, error) { return s.tiles.read(ctx, level, index, p) })
}

func (s *Server) handleEntryBundle(w http.ResponseWriter, r *http.Request) {
	index, p, err := layout.ParseTileIndexPartial(r.PathValue("path"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("bad entry bundle path %q: %v", r.URL.Path, err))
		return
	}
	s.serveStatic(w, r, 0, index, p, func(ctx context.Context) ([]byte, error) { return s.reader.ReadEntryBundle(ctx, index, p) })
}

// tileCovered reports whether the tree of the given size holds the tile (or entry bundle, at
// level 0) at level and index with width p (0: full).
func tileCovered(size, level, index uint64, p uint8) bool {
	w := uint64(p)
	if w == 0 {
		w = layout.TileWidth
	}
	var nodes uint64 // complete nodes at tree level 8*level
	if level < 8 {
		nodes = size >> (layout.TileHeight * level)
	}
	return index <= nodes/layout.TileWidth && index*layout.TileWidth+w <= nodes
}

// serveStatic serves an immutable tile or bundle: full and partial resources never change once
// written (C2SP tlog-tiles), so they may be cached for a long time. Only resources inside the
// integrated tree are served: a file written by a batch that was interrupted before it committed
// could still be replaced.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, level, index uint64, p uint8, read func(context.Context) ([]byte, error)) {
	size, err := s.reader.IntegratedSize(r.Context())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.ErrorContext(r.Context(), "reading tree size failed", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "reading tree size failed")
		return
	}
	if !tileCovered(size, level, index, p) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("not found: %s is beyond the tree of size %d", r.URL.Path, size))
		return
	}
	b, err := read(r.Context())
	if errors.Is(err, os.ErrNotExist) || (err == nil && b == nil) {
		writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "reading resource failed", "path", r.URL.Path, "error", err.Error())
		writeError(w, http.StatusInternalServerError, "reading "+r.URL.Path+" failed")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(b)
}

// health reports whether the storage of both trees, and the v1 index, can be read, for
// /healthz.
func (s *Server) health(ctx context.Context) error {
	if _, err := s.reader.IntegratedSize(ctx); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage unavailable: %w", err)
	}
	if s.v1 != nil {
		if _, err := s.v1.size(ctx); err != nil {
			return fmt.Errorf("v1 tree storage unavailable: %w", err)
		}
		if err := s.v1.index.ping(ctx); err != nil {
			return fmt.Errorf("v1 index unavailable: %w", err)
		}
	}
	return nil
}

// tileCache keeps tiles in memory (bounded, FIFO eviction). A tile of a given width never
// changes once written (C2SP tlog-tiles), partial ones included.
type tileCache struct {
	read0 client.TileFetcherFunc
	max   int

	mu    sync.Mutex
	tiles map[[3]uint64][]byte
	order [][3]uint64
}

func newTileCache(f client.TileFetcherFunc, max int) *tileCache {
	return &tileCache{read0: f, max: max, tiles: map[[3]uint64][]byte{}}
}

func (c *tileCache) read(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	k := [3]uint64{level, index, uint64(p)}
	c.mu.Lock()
	t, ok := c.tiles[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := c.read0(ctx, level, index, p)
	want := int(p) * sha256.Size
	if p == 0 {
		want = layout.TileWidth * sha256.Size
	}
	if err != nil || len(t) != want {
		return t, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.tiles[k]; !ok {
		c.tiles[k] = t
		c.order = append(c.order, k)
		if len(c.order) > c.max {
			delete(c.tiles, c.order[0])
			c.order = c.order[1:]
		}
	}
	return t, nil
}

// trimmedReader makes a storage's reads exact: a partial tile or bundle of width p holds exactly
// p hashes or entries, and a full one exactly 256, as tlog-tiles requires. (Tessera's MySQL driver
// answers a partial request with the largest tile or bundle it has.)
type trimmedReader struct {
	tessera.LogReader
}

func (r trimmedReader) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	t, err := r.LogReader.ReadTile(ctx, level, index, p)
	if p != 0 && errors.Is(err, os.ErrNotExist) {
		// A partial tile is removed once the full one is published; a checkpoint older than
		// the newest (a witnessed one) still needs its prefix.
		t, err = r.LogReader.ReadTile(ctx, level, index, 0)
	}
	if err != nil {
		return nil, err
	}
	want := int(p) * sha256.Size
	if p == 0 {
		want = layout.TileWidth * sha256.Size
	}
	if len(t) < want {
		return nil, fmt.Errorf("tile %d/%d has %d bytes, want %d: %w", level, index, len(t), want, os.ErrNotExist)
	}
	return t[:want], nil
}

func (r trimmedReader) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	b, err := r.LogReader.ReadEntryBundle(ctx, index, p)
	if p != 0 && errors.Is(err, os.ErrNotExist) {
		b, err = r.LogReader.ReadEntryBundle(ctx, index, 0)
	}
	if err != nil {
		return nil, err
	}
	want := int(p)
	if p == 0 {
		want = layout.EntryBundleWidth
	}
	off := 0
	for n := 0; n < want; n++ {
		if off+2 > len(b) {
			return nil, fmt.Errorf("entry bundle %d holds %d entries, want %d: %w", index, n, want, os.ErrNotExist)
		}
		off += 2 + int(binary.BigEndian.Uint16(b[off:]))
		if off > len(b) {
			return nil, fmt.Errorf("entry bundle %d is truncated", index)
		}
	}
	return b[:off], nil
}

package logserver

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/tessera"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// v1EntriesPath is where the v1 API's entries live; an entry's URL is this and its UUID.
const v1EntriesPath = "/api/v1/log/entries"

// routeV1 adds the Rekor v1 API to mux.
func (s *Server) routeV1(mux *http.ServeMux) {
	mux.HandleFunc("POST "+v1EntriesPath, s.v1Add)
	mux.HandleFunc("GET "+v1EntriesPath, s.v1GetByIndex)
	mux.HandleFunc("GET "+v1EntriesPath+"/{entryUUID}", s.v1GetByUUID)
	mux.HandleFunc("POST "+v1EntriesPath+"/retrieve", s.v1Retrieve)
	mux.HandleFunc("GET /api/v1/log", s.v1LogInfo)
	mux.HandleFunc("GET /api/v1/log/publicKey", s.v1PublicKey)
	mux.HandleFunc("GET /api/v1/log/proof", s.v1Proof)
	mux.HandleFunc("POST /api/v1/index/retrieve", s.v1SearchIndex)
}

// v1Error writes an error as Rekor v1 does: {code: the HTTP status, message}.
func v1Error(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(tlog.ErrorBody{Code: status, Message: fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// v1Internal logs an internal failure and answers 500 (or nothing for a client gone).
func (s *Server) v1Internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.ErrorContext(r.Context(), what+" failed", "error", err.Error())
	v1Error(w, http.StatusInternalServerError, "%s failed", what)
}

// v1Body reads a bounded request body: false when it has answered (413, 400).
func (s *Server) v1Body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := httpserver.ReadBody(w, r, s.cfg.MaxBodySize)
	if errors.Is(err, httpserver.ErrBodyTooLarge) {
		v1Error(w, http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", s.cfg.MaxBodySize)
		return nil, false
	}
	if err != nil {
		v1Error(w, http.StatusBadRequest, "reading request body: %v", err)
		return nil, false
	}
	return body, true
}

// decodeStrict decodes one JSON object, refusing unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func (s *Server) v1Add(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, ok := s.v1Body(w, r)
	if !ok {
		return
	}
	release, err := s.acquireCPU(ctx)
	if err != nil {
		return
	}
	e, err := rekortypes.Canonicalize(body, rekortypes.Limits{MaxBody: s.cfg.MaxBodySize})
	release()
	if err != nil {
		s.log.DebugContext(ctx, "rejected v1 entry", "error", err.Error())
		v1Error(w, http.StatusBadRequest, "error processing entry: %v", err)
		return
	}
	l := s.v1
	leaf := tlog.LeafHash(e.Body)
	if idx, err := l.lookup(ctx, leaf); err == nil {
		s.v1Duplicate(w, idx, leaf)
		return
	} else if !errors.Is(err, errV1NotFound) {
		s.v1Internal(w, r, "reading the v1 index", err)
		return
	}
	idx, err := l.add(ctx, tessera.NewEntry(e.Body))()
	switch {
	case errors.Is(err, tessera.ErrPushback):
		w.Header().Set("Retry-After", "1")
		v1Error(w, http.StatusServiceUnavailable, "log is busy, retry later")
		return
	case err != nil:
		s.v1Internal(w, r, "appending the entry", err)
		return
	case idx.IsDup:
		// The entry's first submission may have been integrated by a front-end that stopped
		// before recording it: recording it now lets the client find it by UUID.
		if _, _, err := l.recorded(ctx, idx.Index, e.Body); err != nil {
			s.v1Internal(w, r, fmt.Sprintf("duplicate of entry %d but recording it", idx.Index), err)
			return
		}
		s.v1Duplicate(w, idx.Index, leaf)
		return
	}
	// Tessera's AWS driver gives the index once the entry is sequenced; it is recorded only
	// once the tree holds it, so the index never names an entry that is not in the tree.
	head, err := l.headAtLeast(ctx, idx.Index+1)
	if err != nil {
		s.v1Internal(w, r, fmt.Sprintf("entry appended at index %d but signing a checkpoint", idx.Index), err)
		return
	}
	if err := l.index.record(ctx, idx.Index, leaf, time.Now().Unix(), e.IndexKeys); err != nil {
		s.v1Internal(w, r, fmt.Sprintf("entry appended at index %d but indexing it", idx.Index), err)
		return
	}
	release, err = s.acquireCPU(ctx)
	if err != nil {
		return
	}
	uuid, entry, err := l.entryWithProof(ctx, head, idx.Index, e.Body)
	release()
	if err != nil {
		s.v1Internal(w, r, fmt.Sprintf("entry appended at index %d but its proof", idx.Index), err)
		return
	}
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", v1EntriesPath+"/"+uuid)
	writeJSON(w, http.StatusCreated, map[string]*tlog.V1LogEntry{uuid: entry})
}

func (s *Server) v1Duplicate(w http.ResponseWriter, idx uint64, leaf []byte) {
	uuid := tlog.V1EntryUUID(s.v1.key.treeID, leaf)
	w.Header().Set("Location", v1EntriesPath+"/"+uuid)
	w.Header().Set(tlog.LogIndexHeader, strconv.FormatUint(idx, 10))
	v1Error(w, http.StatusConflict, "an equivalent entry already exists in the transparency log with UUID %s", uuid)
}

// v1WriteEntry answers one entry as a LogEntry (a map from its UUID).
func (s *Server) v1WriteEntry(w http.ResponseWriter, r *http.Request, idx uint64) {
	uuid, e, err := s.v1.entryAt(r.Context(), idx)
	if errors.Is(err, errV1NotFound) {
		v1Error(w, http.StatusNotFound, "%v", err)
		return
	}
	if err != nil {
		s.v1Internal(w, r, "reading the entry", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*tlog.V1LogEntry{uuid: e})
}

func (s *Server) v1GetByIndex(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("logIndex")
	idx, err := strconv.ParseUint(raw, 10, 63)
	if err != nil {
		v1Error(w, http.StatusBadRequest, "logIndex %q: want a decimal integer of at least 0", raw)
		return
	}
	s.v1WriteEntry(w, r, idx)
}

// v1IndexOfUUID resolves an entry UUID (64 or 80 hex digits) to a log index.
func (s *Server) v1IndexOfUUID(ctx context.Context, uuid string) (uint64, int, error) {
	treeID, leaf, err := tlog.ParseV1EntryUUID(uuid)
	if err != nil {
		return 0, http.StatusBadRequest, err
	}
	if treeID != 0 && treeID != s.v1.key.treeID {
		return 0, http.StatusNotFound, fmt.Errorf("%w: tree ID %d is not this log's (%d)", errV1NotFound, treeID, s.v1.key.treeID)
	}
	idx, err := s.v1.lookup(ctx, leaf)
	if errors.Is(err, errV1NotFound) {
		return 0, http.StatusNotFound, err
	}
	if err != nil {
		return 0, http.StatusInternalServerError, err
	}
	return idx, 0, nil
}

func (s *Server) v1GetByUUID(w http.ResponseWriter, r *http.Request) {
	idx, status, err := s.v1IndexOfUUID(r.Context(), r.PathValue("entryUUID"))
	if status == http.StatusInternalServerError {
		s.v1Internal(w, r, "reading the v1 index", err)
		return
	}
	if err != nil {
		v1Error(w, status, "%v", err)
		return
	}
	s.v1WriteEntry(w, r, idx)
}

func (s *Server) v1Retrieve(w http.ResponseWriter, r *http.Request) {
	body, ok := s.v1Body(w, r)
	if !ok {
		return
	}
	var q tlog.V1SearchLogQuery
	if err := decodeStrict(body, &q); err != nil {
		v1Error(w, http.StatusBadRequest, "parsing the search query: %v", err)
		return
	}
	if n := len(q.EntryUUIDs) + len(q.LogIndexes) + len(q.Entries); n > tlog.V1MaxSearchQueries {
		v1Error(w, http.StatusUnprocessableEntity, "more than max allowed %d entries in request (got %d)", tlog.V1MaxSearchQueries, n)
		return
	}
	var idxs []uint64
	for _, u := range q.EntryUUIDs {
		idx, status, err := s.v1IndexOfUUID(r.Context(), u)
		switch status {
		case 0:
			idxs = append(idxs, idx)
		case http.StatusNotFound:
		case http.StatusInternalServerError:
			s.v1Internal(w, r, "reading the v1 index", err)
			return
		default:
			v1Error(w, status, "entry UUID %q: %v", u, err)
			return
		}
	}
	for i, p := range q.Entries {
		e, err := rekortypes.Canonicalize(p, rekortypes.Limits{MaxBody: s.cfg.MaxBodySize})
		if err != nil {
			v1Error(w, http.StatusBadRequest, "entries[%d]: %v", i, err)
			return
		}
		idx, err := s.v1.lookup(r.Context(), tlog.LeafHash(e.Body))
		if err == nil {
			idxs = append(idxs, idx)
		} else if !errors.Is(err, errV1NotFound) {
			s.v1Internal(w, r, "reading the v1 index", err)
			return
		}
	}
	for _, i := range q.LogIndexes {
		if i < 0 {
			v1Error(w, http.StatusBadRequest, "logIndexes: %d is below 0", i)
			return
		}
		idxs = append(idxs, uint64(i))
	}
	out := []map[string]*tlog.V1LogEntry{}
	for _, idx := range idxs {
		uuid, e, err := s.v1.entryAt(r.Context(), idx)
		if errors.Is(err, errV1NotFound) {
			continue
		}
		if err != nil {
			s.v1Internal(w, r, "reading the entry", err)
			return
		}
		out = append(out, map[string]*tlog.V1LogEntry{uuid: e})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) v1LogInfo(w http.ResponseWriter, r *http.Request) {
	head, err := s.v1.current(r.Context())
	if err != nil {
		s.v1Internal(w, r, "reading the checkpoint", err)
		return
	}
	writeJSON(w, http.StatusOK, tlog.V1LogInfo{
		RootHash:       hex.EncodeToString(head.root),
		TreeSize:       int64(head.size),
		SignedTreeHead: string(head.note),
		TreeID:         strconv.FormatInt(s.v1.key.treeID, 10),
	})
}

var decimalPattern = regexp.MustCompile(`^[0-9]+$`)

// v1TreeID checks an optional treeID query parameter: false when it has answered.
func (s *Server) v1TreeID(w http.ResponseWriter, r *http.Request) bool {
	tid := r.URL.Query().Get("treeID")
	if tid == "" {
		return true
	}
	if !decimalPattern.MatchString(tid) {
		v1Error(w, http.StatusBadRequest, "treeID %q: want a decimal integer", tid)
		return false
	}
	if tid != strconv.FormatInt(s.v1.key.treeID, 10) {
		v1Error(w, http.StatusNotFound, "tree %s is not served by this log (its tree is %d)", tid, s.v1.key.treeID)
		return false
	}
	return true
}

func (s *Server) v1PublicKey(w http.ResponseWriter, r *http.Request) {
	if !s.v1TreeID(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.v1.key.pubPEM)
}

func (s *Server) v1Proof(w http.ResponseWriter, r *http.Request) {
	if !s.v1TreeID(w, r) {
		return
	}
	q := r.URL.Query()
	first := uint64(1)
	if raw := q.Get("firstSize"); raw != "" {
		v, err := strconv.ParseUint(raw, 10, 63)
		if err != nil || v < 1 {
			v1Error(w, http.StatusBadRequest, "firstSize %q: want a decimal integer of at least 1", raw)
			return
		}
		first = v
	}
	raw := q.Get("lastSize")
	last, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || last < 1 {
		v1Error(w, http.StatusBadRequest, "lastSize %q: want a decimal integer of at least 1", raw)
		return
	}
	if first > last {
		v1Error(w, http.StatusBadRequest, "firstSize(%d) must be less than lastSize(%d)", first, last)
		return
	}
	head, err := s.v1.current(r.Context())
	if err != nil {
		s.v1Internal(w, r, "reading the checkpoint", err)
		return
	}
	if last > head.size {
		v1Error(w, http.StatusBadRequest, "the tree size requested(%d) was greater than what is currently observable(%d)", last, head.size)
		return
	}
	hashes, root, err := s.v1.consistency(r.Context(), first, last)
	if err != nil {
		s.v1Internal(w, r, "computing the consistency proof", err)
		return
	}
	p := tlog.V1ConsistencyProof{RootHash: hex.EncodeToString(root), Hashes: make([]string, len(hashes))}
	for i, h := range hashes {
		p.Hashes[i] = hex.EncodeToString(h)
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) v1SearchIndex(w http.ResponseWriter, r *http.Request) {
	body, ok := s.v1Body(w, r)
	if !ok {
		return
	}
	var q tlog.V1SearchIndex
	if err := decodeStrict(body, &q); err != nil {
		v1Error(w, http.StatusBadRequest, "parsing the search query: %v", err)
		return
	}
	if q.Operator != "" && q.Operator != "and" && q.Operator != "or" {
		v1Error(w, http.StatusBadRequest, "operator %q: want \"and\" or \"or\"", q.Operator)
		return
	}
	var keys []string
	if q.Hash != "" {
		k, err := rekortypes.HashIndexKey(q.Hash)
		if err != nil {
			v1Error(w, http.StatusBadRequest, "hash: %v", err)
			return
		}
		keys = append(keys, k)
	}
	if q.PublicKey != nil {
		if len(q.PublicKey.Content) == 0 {
			v1Error(w, http.StatusBadRequest, "publicKey: content is required (the key, base64)")
			return
		}
		k, err := rekortypes.PublicKeyIndexKey(q.PublicKey.Format, q.PublicKey.Content)
		if err != nil {
			v1Error(w, http.StatusBadRequest, "publicKey: %v", err)
			return
		}
		keys = append(keys, k)
	}
	if q.Email != "" {
		if at := strings.IndexByte(q.Email, '@'); at <= 0 || at == len(q.Email)-1 || len(q.Email) > 512 {
			v1Error(w, http.StatusBadRequest, "email %q is not an email address", q.Email)
			return
		}
		keys = append(keys, rekortypes.EmailIndexKey(q.Email))
	}
	var result []uint64
	for i, k := range keys {
		idxs, err := s.v1.index.search(r.Context(), k)
		if err != nil {
			s.v1Internal(w, r, "searching the index", err)
			return
		}
		if i == 0 {
			result = idxs
		} else if q.Operator == "and" {
			result = intersect(result, idxs)
		} else {
			result = union(result, idxs)
		}
	}
	leaves, err := s.v1.index.leafHashes(r.Context(), result)
	if err != nil {
		s.v1Internal(w, r, "reading the index", err)
		return
	}
	out := make([]string, 0, len(leaves))
	for _, leaf := range leaves {
		out = append(out, tlog.V1EntryUUID(s.v1.key.treeID, leaf))
	}
	writeJSON(w, http.StatusOK, out)
}

// intersect and union combine ascending lists of log indexes.
func intersect(a, b []uint64) []uint64 {
	var out []uint64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

func union(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

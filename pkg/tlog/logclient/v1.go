package logclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// maxSearchResponse bounds the answer of an index search.
const maxSearchResponse = 8 << 20

// V1Client talks to a log's Rekor v1 API (under baseURL/api/v1/): entries, their signed entry
// timestamps and inclusion proofs, and the search index.
type V1Client struct {
	base *url.URL
	http *http.Client
}

// NewV1Client returns a client of the Rekor v1 API of the log at baseURL. It takes the options
// of NewClient.
func NewV1Client(baseURL string, opts ...ClientOption) (*V1Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/") + "/api/v1/")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("log URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	c := &Client{http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return &V1Client{base: u, http: netutil.Client(c.http, c.idle)}, nil
}

// V1Entry is one Rekor v1 log entry as the log serves it.
type V1Entry struct {
	// UUID is the entry ID the log names it by (tree ID and leaf hash, hex).
	UUID string
	// Body is the canonical entry body.
	Body           []byte
	IntegratedTime int64
	LogID          []byte
	LogIndex       int64
	// SET is the signed entry timestamp.
	SET []byte
	// Proof is the inclusion proof, with its checkpoint; nil when the log gave none.
	Proof *rekorv1.InclusionProof
}

// v1EntryJSON is Rekor v1's LogEntryAnon.
type v1EntryJSON struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogID          string `json:"logID"`
	LogIndex       int64  `json:"logIndex"`
	Verification   struct {
		InclusionProof *struct {
			Checkpoint string   `json:"checkpoint"`
			Hashes     []string `json:"hashes"`
			LogIndex   int64    `json:"logIndex"`
			RootHash   string   `json:"rootHash"`
			TreeSize   int64    `json:"treeSize"`
		} `json:"inclusionProof"`
		SignedEntryTimestamp string `json:"signedEntryTimestamp"`
	} `json:"verification"`
}

// LeafHashHex is the hex leaf hash of the entry: the last 64 characters of its UUID.
func (e *V1Entry) LeafHashHex() string { return hex.EncodeToString(tlog.LeafHash(e.Body)) }

// TransparencyLogEntry renders the entry as a bundle carries it: kind and version from the
// body, the SET as the inclusion promise, and the inclusion proof.
func (e *V1Entry) TransparencyLogEntry() (*rekorv1.TransparencyLogEntry, error) {
	parsed, err := rekortypes.Parse(e.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: %w", ErrBadResponse, e.UUID, err)
	}
	return &rekorv1.TransparencyLogEntry{
		LogIndex:          e.LogIndex,
		LogId:             &commonv1.LogId{KeyId: e.LogID},
		KindVersion:       &rekorv1.KindVersion{Kind: parsed.Kind, Version: parsed.APIVersion},
		IntegratedTime:    e.IntegratedTime,
		InclusionPromise:  &rekorv1.InclusionPromise{SignedEntryTimestamp: e.SET},
		InclusionProof:    e.Proof,
		CanonicalizedBody: e.Body,
	}, nil
}

// decodeV1Entries reads Rekor v1's {"<uuid>": LogEntryAnon} answer; each entry's UUID must end
// in its body's leaf hash.
func decodeV1Entries(raw []byte) ([]*V1Entry, error) {
	var m map[string]v1EntryJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: decoding entries: %v", ErrBadResponse, err)
	}
	var out []*V1Entry
	for uuid, j := range m {
		e := &V1Entry{UUID: uuid, IntegratedTime: j.IntegratedTime, LogIndex: j.LogIndex}
		var err error
		if e.Body, err = base64.StdEncoding.DecodeString(j.Body); err != nil {
			return nil, fmt.Errorf("%w: entry %s: body is not base64", ErrBadResponse, uuid)
		}
		if e.LogID, err = hex.DecodeString(j.LogID); err != nil {
			return nil, fmt.Errorf("%w: entry %s: logID is not hex", ErrBadResponse, uuid)
		}
		if e.SET, err = base64.StdEncoding.DecodeString(j.Verification.SignedEntryTimestamp); err != nil {
			return nil, fmt.Errorf("%w: entry %s: signedEntryTimestamp is not base64", ErrBadResponse, uuid)
		}
		if p := j.Verification.InclusionProof; p != nil {
			e.Proof = &rekorv1.InclusionProof{LogIndex: p.LogIndex, TreeSize: p.TreeSize, Checkpoint: &rekorv1.Checkpoint{Envelope: p.Checkpoint}}
			if e.Proof.RootHash, err = hex.DecodeString(p.RootHash); err != nil {
				return nil, fmt.Errorf("%w: entry %s: rootHash is not hex", ErrBadResponse, uuid)
			}
			for _, h := range p.Hashes {
				b, err := hex.DecodeString(h)
				if err != nil {
					return nil, fmt.Errorf("%w: entry %s: proof hash is not hex", ErrBadResponse, uuid)
				}
				e.Proof.Hashes = append(e.Proof.Hashes, b)
			}
		}
		if !strings.HasSuffix(strings.ToLower(uuid), e.LeafHashHex()) {
			return nil, fmt.Errorf("%w: entry %s: its body's leaf hash is %s", ErrBadResponse, uuid, e.LeafHashHex())
		}
		out = append(out, e)
	}
	return out, nil
}

// do sends one request to path under the API root and returns the status and the answer
// (bounded by limit).
func (c *V1Client) do(ctx context.Context, method, path, query string, body []byte, limit int64) (int, http.Header, []byte, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("building request for %s: %w", u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	out, tooLarge, err := readAnswer(resp.Body, limit)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading answer of %s: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		if resp.StatusCode == http.StatusNotFound {
			return resp.StatusCode, resp.Header, nil, fmt.Errorf("%s %s: %w", method, u, ErrEntryNotFound)
		}
		return resp.StatusCode, resp.Header, out, fmt.Errorf("%w: %s %s: %s", ErrLogRequest, method, u, statusMessage(resp.StatusCode, out))
	}
	if tooLarge {
		return 0, nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadResponse, u, limit)
	}
	return resp.StatusCode, resp.Header, out, nil
}

// one returns the single entry of an answer.
func one(raw []byte) (*V1Entry, error) {
	es, err := decodeV1Entries(raw)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("%w: %d entries in the answer, want 1", ErrBadResponse, len(es))
	}
	return es[0], nil
}

// Upload adds a proposed entry (as rekortypes' builders make it) and returns the logged entry;
// existed reports that the log already held it (409), in which case the entry is read back.
// The answer's body must be the canonical form of proposed.
func (c *V1Client) Upload(ctx context.Context, proposed []byte) (e *V1Entry, existed bool, err error) {
	want, err := rekortypes.Canonicalize(proposed, rekortypes.Limits{})
	if err != nil {
		return nil, false, err
	}
	status, hdr, raw, err := c.do(ctx, http.MethodPost, "log/entries", "", proposed, maxEntryResponse)
	if status == http.StatusConflict {
		e, err := c.ByUUID(ctx, hex.EncodeToString(tlog.LeafHash(want.Body)))
		if err != nil {
			return nil, true, fmt.Errorf("reading back the existing entry (%s): %w", hdr.Get("Location"), err)
		}
		return e, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if e, err = one(raw); err != nil {
		return nil, false, err
	}
	if !bytes.Equal(e.Body, want.Body) {
		return nil, false, fmt.Errorf("%w: the logged body differs from the canonical form of the proposed entry", ErrBadResponse)
	}
	return e, false, nil
}

// ByUUID fetches the entry with that UUID (64 hex characters, or 80 with the tree ID).
func (c *V1Client) ByUUID(ctx context.Context, uuid string) (*V1Entry, error) {
	_, _, raw, err := c.do(ctx, http.MethodGet, "log/entries/"+url.PathEscape(uuid), "", nil, maxEntryResponse)
	if err != nil {
		return nil, err
	}
	e, err := one(raw)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(strings.ToLower(uuid), e.LeafHashHex()) && !strings.HasSuffix(strings.ToLower(e.UUID), strings.ToLower(uuid)) {
		return nil, fmt.Errorf("%w: asked for entry %s, got %s", ErrBadResponse, uuid, e.UUID)
	}
	return e, nil
}

// ByIndex fetches the entry at a log index.
func (c *V1Client) ByIndex(ctx context.Context, index int64) (*V1Entry, error) {
	_, _, raw, err := c.do(ctx, http.MethodGet, "log/entries", "logIndex="+strconv.FormatInt(index, 10), nil, maxEntryResponse)
	if err != nil {
		return nil, err
	}
	e, err := one(raw)
	if err != nil {
		return nil, err
	}
	if e.LogIndex != index {
		return nil, fmt.Errorf("%w: asked for index %d, got entry %d", ErrBadResponse, index, e.LogIndex)
	}
	return e, nil
}

// SearchQuery is a Rekor v1 index search; the fields given are combined with Operator ("and"
// or "or"; empty: the log's default, and).
type SearchQuery struct {
	// Hash is "<algorithm>:<hex>" of an artifact (rekortypes.HashIndexKey's form).
	Hash string
	// PublicKeyFormat (x509, pgp, minisign, ssh) and PublicKey (the key file's bytes).
	PublicKeyFormat string
	PublicKey       []byte
	Email           string
	Operator        string
}

// Search asks the log's index for the UUIDs of the entries matching q.
func (c *V1Client) Search(ctx context.Context, q SearchQuery) ([]string, error) {
	req := map[string]any{}
	if q.Hash != "" {
		req["hash"] = q.Hash
	}
	if q.PublicKey != nil {
		req["publicKey"] = map[string]string{"format": q.PublicKeyFormat, "content": base64.StdEncoding.EncodeToString(q.PublicKey)}
	}
	if q.Email != "" {
		req["email"] = q.Email
	}
	if q.Operator != "" {
		req["operator"] = q.Operator
	}
	if len(req) == 0 {
		return nil, fmt.Errorf("an index search needs a hash, a public key or an email")
	}
	body, _ := json.Marshal(req)
	_, _, raw, err := c.do(ctx, http.MethodPost, "index/retrieve", "", body, maxSearchResponse)
	if err != nil {
		return nil, err
	}
	var uuids []string
	if err := json.Unmarshal(raw, &uuids); err != nil {
		return nil, fmt.Errorf("%w: decoding search answer: %v", ErrBadResponse, err)
	}
	return uuids, nil
}

// PublicKey fetches the PEM public key the log signs SETs and checkpoints with (unverified:
// compare it with the trusted root).
func (c *V1Client) PublicKey(ctx context.Context) ([]byte, error) {
	_, _, raw, err := c.do(ctx, http.MethodGet, "log/publicKey", "", nil, tlog.MaxNoteSize)
	if err != nil {
		return nil, fmt.Errorf("the log's public key: %w", err)
	}
	return raw, nil
}

// ConsistencyProof fetches the proof that the tree of size2 extends the tree of size1
// (GET /api/v1/log/proof), unverified.
func (c *V1Client) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	q := url.Values{"firstSize": {strconv.FormatUint(size1, 10)}, "lastSize": {strconv.FormatUint(size2, 10)}}
	_, _, raw, err := c.do(ctx, http.MethodGet, "log/proof", q.Encode(), nil, maxEntryResponse)
	if err != nil {
		return nil, err
	}
	var p struct {
		Hashes []string `json:"hashes"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: decoding consistency proof: %v", ErrBadResponse, err)
	}
	out := make([][]byte, 0, len(p.Hashes))
	for _, h := range p.Hashes {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%w: consistency proof hash %q is not hex", ErrBadResponse, h)
		}
		out = append(out, b)
	}
	return out, nil
}

// V1Check is what VerifyV1Entry found, step by step; the first failed step ends the check.
type V1Check struct {
	// SET and Inclusion report the steps that passed.
	SET, Inclusion bool
	// Checkpoint is the verified checkpoint the inclusion proof leads to.
	Checkpoint *tlog.Checkpoint
}

// VerifyV1Entry checks a v1 entry against the log's trusted key: its signed entry timestamp,
// then its inclusion proof under a checkpoint that key signed. keys must hold the log's ECDSA
// key (with its base URL's host as origin).
func VerifyV1Entry(e *V1Entry, keys []tlog.LogKey) (V1Check, error) {
	var res V1Check
	var key *tlog.LogKey
	for i := range keys {
		if bytes.Equal(keys[i].KeyID, e.LogID) {
			key = &keys[i]
		}
	}
	if key == nil {
		return res, fmt.Errorf("%w: entry %s names log ID %x, which is not a trusted key of this log", ErrBadResponse, e.UUID, e.LogID)
	}
	pub, ok := key.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return res, fmt.Errorf("the log's trusted key is %T: signed entry timestamps need ECDSA", key.PublicKey)
	}
	if err := tlog.VerifySET(pub, e.SET, e.Body, e.IntegratedTime, e.LogIndex, e.LogID); err != nil {
		return res, fmt.Errorf("SET: %w", err)
	}
	res.SET = true
	if e.Proof == nil {
		return res, fmt.Errorf("inclusion proof: %w: entry %s has none", ErrBadResponse, e.UUID)
	}
	tle, err := e.TransparencyLogEntry()
	if err != nil {
		return res, err
	}
	cp, err := tlog.VerifyEntry(tle, []tlog.LogKey{*key}, nil)
	if err != nil {
		return res, fmt.Errorf("inclusion proof: %w", err)
	}
	res.Inclusion, res.Checkpoint = true, cp
	return res, nil
}

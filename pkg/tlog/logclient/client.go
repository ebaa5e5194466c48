package logclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Client errors a caller may act on.
var (
	// ErrLogRequest reports a request the log answered with an error status.
	ErrLogRequest = errors.New("log request failed")
	// ErrBadResponse reports a log answer that is malformed or does not prove what it claims.
	ErrBadResponse = tlog.ErrBadResponse
	// ErrEntryNotFound reports an index beyond the log's tree.
	ErrEntryNotFound = errors.New("log entry not found")
)

// Response size limits of the client.
const (
	maxEntryResponse  = 4 << 20
	maxTileResponse   = layout.TileWidth * 32
	maxBundleResponse = layout.EntryBundleWidth * (2 + 1<<16)
)

// Client talks to one log over HTTP: submissions, checkpoints, tiles and entry bundles.
type Client struct {
	base *url.URL
	http *http.Client
	idle time.Duration
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the HTTP client; the default has a 30 s timeout.
func WithHTTPClient(c *http.Client) ClientOption { return func(cl *Client) { cl.http = c } }

// WithIdleTimeout cancels a request that makes no progress for d: connecting, sending,
// waiting for the response headers, or within one read of the body (default 30 s). It bounds
// the requests of the client WithHTTPClient sets too.
func WithIdleTimeout(d time.Duration) ClientOption { return func(cl *Client) { cl.idle = d } }

// NewClient returns a client of the log at baseURL (e.g. http://127.0.0.1:3003); the API lives
// under baseURL/api/v2/.
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/") + "/api/v2/")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("log URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	c := &Client{base: u, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	c.http = netutil.Client(c.http, c.idle)
	return c, nil
}

// get fetches path under the API root, bounded by limit. A 404 yields os.ErrNotExist.
func (c *Client) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	u := c.base.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building request for %s: %w", u, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, tooLarge, err := readAnswer(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("fetching %s: %w", u, os.ErrNotExist)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: GET %s: %s", ErrLogRequest, u, statusMessage(resp.StatusCode, b))
	case tooLarge:
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadResponse, u, limit)
	}
	return b, nil
}

// readAnswer reads a response body of at most limit bytes; a longer one is reported, for the
// caller to refuse after it has looked at the status, and gives no data.
func readAnswer(r io.Reader, limit int64) (body []byte, tooLarge bool, err error) {
	body, err = limitio.ReadAll(r, limit)
	var tle *limitio.TooLargeError
	if errors.As(err, &tle) {
		return nil, true, nil
	}
	return body, false, err
}

// statusMessage renders an error answer: its JSON message when there is one.
func statusMessage(code int, body []byte) string {
	var e tlog.ErrorBody
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return fmt.Sprintf("%d %s: %s", code, http.StatusText(code), e.Message)
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%d %s: %s", code, http.StatusText(code), strings.TrimSpace(string(body)))
}

// ReadCheckpoint fetches the log's current signed checkpoint, unverified.
func (c *Client) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return c.get(ctx, layout.CheckpointPath, tlog.MaxNoteSize)
}

// ReadTile fetches a hash tile (p > 0: partial tile of width p). A partial tile a log no longer
// keeps is cut from the full one.
func (c *Client) ReadTile(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
	t, err := c.get(ctx, layout.TilePath(level, index, p), maxTileResponse)
	if p > 0 && errors.Is(err, os.ErrNotExist) {
		if t, err = c.get(ctx, layout.TilePath(level, index, 0), maxTileResponse); err == nil && len(t) >= int(p)*32 {
			t = t[:int(p)*32]
		}
	}
	return t, err
}

// ReadEntryBundle fetches an entry bundle (p > 0: partial bundle of p entries). When a log no
// longer keeps a partial bundle, the full one is returned (it starts with the same entries).
func (c *Client) ReadEntryBundle(ctx context.Context, index uint64, p uint8) ([]byte, error) {
	b, err := c.get(ctx, layout.EntriesPath(index, p), maxBundleResponse)
	if p > 0 && errors.Is(err, os.ErrNotExist) {
		return c.get(ctx, layout.EntriesPath(index, 0), maxBundleResponse)
	}
	return b, err
}

// Checkpoint fetches the current checkpoint and verifies its signature with one of keys.
func (c *Client) Checkpoint(ctx context.Context, keys []tlog.LogKey) (*tlog.Checkpoint, error) {
	cp, _, err := c.SignedCheckpoint(ctx, keys)
	return cp, err
}

// SignedCheckpoint fetches the current checkpoint and returns it with the one of keys that signs
// it: a trusted root may list several keys under one URL (a log serving both Rekor APIs is listed
// with its v2 and its v1 key).
func (c *Client) SignedCheckpoint(ctx context.Context, keys []tlog.LogKey) (*tlog.Checkpoint, tlog.LogKey, error) {
	if len(keys) == 0 {
		return nil, tlog.LogKey{}, fmt.Errorf("%w: none given for %s", tlog.ErrUnknownKey, c.base)
	}
	raw, err := c.ReadCheckpoint(ctx)
	if err != nil {
		return nil, tlog.LogKey{}, err
	}
	cp, k, err := tlog.OpenCheckpoint(raw, keys)
	if err != nil {
		return nil, tlog.LogKey{}, fmt.Errorf("checkpoint of %s: %w", c.base, err)
	}
	return cp, *k, nil
}

// ConsistencyProof computes, from the tiles of the tree of size2, the proof that the tree of
// size1 is its prefix.
func (c *Client) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	pb, err := client.NewProofBuilder(ctx, size2, c.ReadTile)
	if err != nil {
		return nil, err
	}
	p, err := pb.ConsistencyProof(ctx, size1, size2)
	if err != nil {
		return nil, fmt.Errorf("computing consistency proof %d -> %d from tiles: %w", size1, size2, err)
	}
	return p, nil
}

// Entry reads entry index from the entry bundles and proves its inclusion in the tree of cp,
// which the caller has verified. The result carries cp as its checkpoint.
func (c *Client) Entry(ctx context.Context, index uint64, cp *tlog.Checkpoint) (*rekorv1.TransparencyLogEntry, error) {
	if index >= cp.Size {
		return nil, fmt.Errorf("%w: index %d, tree size %d", ErrEntryNotFound, index, cp.Size)
	}
	b, err := client.GetEntryBundle(ctx, c.ReadEntryBundle, index/layout.EntryBundleWidth, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("reading entry %d: %w", index, err)
	}
	off := index % layout.EntryBundleWidth
	if off >= uint64(len(b.Entries)) {
		return nil, fmt.Errorf("%w: bundle of entry %d holds %d entries", ErrBadResponse, index, len(b.Entries))
	}
	body := b.Entries[off]
	pb, err := client.NewProofBuilder(ctx, cp.Size, c.ReadTile)
	if err != nil {
		return nil, err
	}
	hashes, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("computing inclusion proof of %d from tiles: %w", index, err)
	}
	if err := tlog.VerifyInclusion(index, cp.Size, tlog.LeafHash(body), hashes, cp.Hash); err != nil {
		return nil, fmt.Errorf("%w: entry %d: %w", ErrBadResponse, index, err)
	}
	tle := &rekorv1.TransparencyLogEntry{
		LogIndex:          int64(index),
		CanonicalizedBody: body,
		InclusionProof: &rekorv1.InclusionProof{
			LogIndex: int64(index), RootHash: cp.Hash, TreeSize: int64(cp.Size), Hashes: hashes,
			Checkpoint: &rekorv1.Checkpoint{Envelope: string(cp.Raw)},
		},
	}
	if _, err := tlog.ParseHashedRekordEntry(body); err == nil {
		tle.KindVersion = &rekorv1.KindVersion{Kind: tlog.HashedRekordKind, Version: tlog.HashedRekordVersion}
	}
	return tle, nil
}

// Submit adds a hashedrekord entry to the log. The answer is checked before it is returned: its
// body is the entry of req and its inclusion proof leads to its root hash (call VerifyEntry to
// check the checkpoint signature). When the log already holds the entry, Submit reads it back
// from the tiles, with a proof in the log's current (unverified) checkpoint.
func (c *Client) Submit(ctx context.Context, req *tlog.HashedRekordRequest) (*rekorv1.TransparencyLogEntry, error) {
	want, err := req.CanonicalBody()
	if err != nil {
		return nil, err
	}
	body, err := req.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	u := c.base.JoinPath("log", "entries")
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("submitting to %s: %w", u, err)
	}
	defer resp.Body.Close()
	out, tooLarge, err := readAnswer(resp.Body, maxEntryResponse)
	if err != nil {
		return nil, fmt.Errorf("reading answer of %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusConflict && resp.Header.Get(tlog.LogIndexHeader) != "":
		idx, err := strconv.ParseUint(resp.Header.Get(tlog.LogIndexHeader), 10, 63)
		if err != nil {
			return nil, fmt.Errorf("%w: bad %s header %q", ErrBadResponse, tlog.LogIndexHeader, resp.Header.Get(tlog.LogIndexHeader))
		}
		return c.existing(ctx, idx, want)
	case resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: POST %s: %s", ErrLogRequest, u, statusMessage(resp.StatusCode, out))
	case tooLarge:
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrBadResponse, maxEntryResponse)
	}
	var tle rekorv1.TransparencyLogEntry
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(out, &tle); err != nil {
		return nil, fmt.Errorf("%w: decoding entry: %v", ErrBadResponse, err)
	}
	if err := tlog.CheckEntry(&tle, want); err != nil {
		return nil, err
	}
	return &tle, nil
}

// existing reads back an entry the log reported as already present.
func (c *Client) existing(ctx context.Context, idx uint64, want []byte) (*rekorv1.TransparencyLogEntry, error) {
	raw, err := c.ReadCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := tlog.ParseCheckpoint(noteText(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	cp.Raw = raw
	tle, err := c.Entry(ctx, idx, cp)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(tle.CanonicalizedBody, want) {
		return nil, fmt.Errorf("%w: log reported entry %d as a duplicate, but it holds another entry", ErrBadResponse, idx)
	}
	return tle, nil
}

// noteText returns the text of a signed note (up to the blank line), or the input.
func noteText(n []byte) []byte {
	if i := bytes.LastIndex(n, []byte("\n\n")); i >= 0 {
		return n[:i+1]
	}
	return n
}

// Submit adds req to the log at baseURL; see Client.Submit.
func Submit(ctx context.Context, baseURL string, req *tlog.HashedRekordRequest, opts ...ClientOption) (*rekorv1.TransparencyLogEntry, error) {
	c, err := NewClient(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	return c.Submit(ctx, req)
}

package logclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// ErrV1Conflict reports an upload the log already holds; the error is a *V1ConflictError.
var ErrV1Conflict = errors.New("an equivalent entry already exists in the log")

// V1ConflictError is the answer to an upload of an entry the log already holds.
type V1ConflictError struct {
	// UUID is the existing entry's UUID and Location its URL, as the log named them.
	UUID, Location string
	Message        string
}

func (e *V1ConflictError) Error() string {
	return fmt.Sprintf("%v: %s (%s)", ErrV1Conflict, e.UUID, e.Message)
}

func (e *V1ConflictError) Unwrap() error { return ErrV1Conflict }

// V1Entry is one Rekor v1 log entry with its UUID.
type V1Entry struct {
	UUID  string
	Entry tlog.V1LogEntry
}

// V1Client talks to a log's Rekor v1 API (baseURL/api/v1/).
type V1Client struct {
	base *url.URL
	http *http.Client
}

// NewV1Client returns a client of the Rekor v1 API of the log at baseURL; opts are those of
// NewClient.
func NewV1Client(baseURL string, opts ...ClientOption) (*V1Client, error) {
	c, err := NewClient(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	return &V1Client{base: c.base.JoinPath("..", "v1") /* …/api/v1 */, http: c.http}, nil
}

// do sends a request under the API root and decodes a 200/201 answer into out.
func (c *V1Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) (*http.Response, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var rd *bytes.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, fmt.Errorf("encoding request: %w", err)
			}
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("building request for %s: %w", u, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, tooLarge, err := readAnswer(resp.Body, maxEntryResponse*tlog.V1MaxSearchQueries)
	if err != nil {
		return resp, fmt.Errorf("reading %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusConflict:
		ce := &V1ConflictError{Location: resp.Header.Get("Location")}
		ce.UUID = ce.Location[strings.LastIndexByte(ce.Location, '/')+1:]
		var e tlog.ErrorBody
		if json.Unmarshal(b, &e) == nil {
			ce.Message = e.Message
		}
		return resp, ce
	case resp.StatusCode == http.StatusNotFound:
		return resp, fmt.Errorf("%w: %s %s: %s", ErrEntryNotFound, method, u, statusMessage(resp.StatusCode, b))
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated:
		return resp, fmt.Errorf("%w: %s %s: %s", ErrLogRequest, method, u, statusMessage(resp.StatusCode, b))
	case tooLarge:
		return resp, fmt.Errorf("%w: %s answer is too large", ErrBadResponse, u)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return resp, nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp, fmt.Errorf("%w: %s %s: %v", ErrBadResponse, method, u, err)
	}
	return resp, nil
}

// oneEntry reads a LogEntry answer, which must hold exactly one entry.
func oneEntry(m map[string]tlog.V1LogEntry) (*V1Entry, error) {
	if len(m) != 1 {
		return nil, fmt.Errorf("%w: answer holds %d entries, want 1", ErrBadResponse, len(m))
	}
	for uuid, e := range m {
		return &V1Entry{UUID: uuid, Entry: e}, nil
	}
	panic("unreachable")
}

// Upload submits a proposed entry (JSON of a Rekor v1 kind) and returns the logged entry, with
// its signed entry timestamp and inclusion proof, unverified (see VerifyV1Entry). An entry the
// log already holds yields a *V1ConflictError.
func (c *V1Client) Upload(ctx context.Context, proposed []byte) (*V1Entry, error) {
	var m map[string]tlog.V1LogEntry
	if _, err := c.do(ctx, http.MethodPost, "log/entries", nil, proposed, &m); err != nil {
		return nil, err
	}
	return oneEntry(m)
}

// GetByUUID fetches an entry by UUID (80 hex digits, or the 64-digit leaf hash).
func (c *V1Client) GetByUUID(ctx context.Context, uuid string) (*V1Entry, error) {
	var m map[string]tlog.V1LogEntry
	if _, err := c.do(ctx, http.MethodGet, "log/entries/"+url.PathEscape(uuid), nil, nil, &m); err != nil {
		return nil, err
	}
	return oneEntry(m)
}

// GetByIndex fetches the entry at a log index.
func (c *V1Client) GetByIndex(ctx context.Context, idx int64) (*V1Entry, error) {
	var m map[string]tlog.V1LogEntry
	q := url.Values{"logIndex": {strconv.FormatInt(idx, 10)}}
	if _, err := c.do(ctx, http.MethodGet, "log/entries", q, nil, &m); err != nil {
		return nil, err
	}
	return oneEntry(m)
}

// Retrieve fetches the entries a query names (at most tlog.V1MaxSearchQueries items); those
// the log does not hold are left out.
func (c *V1Client) Retrieve(ctx context.Context, q tlog.V1SearchLogQuery) ([]V1Entry, error) {
	var list []map[string]tlog.V1LogEntry
	if _, err := c.do(ctx, http.MethodPost, "log/entries/retrieve", nil, q, &list); err != nil {
		return nil, err
	}
	out := make([]V1Entry, 0, len(list))
	for _, m := range list {
		e, err := oneEntry(m)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, nil
}

// SearchIndex returns the UUIDs of the entries matching a search by artifact hash, public key
// and/or email.
func (c *V1Client) SearchIndex(ctx context.Context, q tlog.V1SearchIndex) ([]string, error) {
	var out []string
	if _, err := c.do(ctx, http.MethodPost, "index/retrieve", nil, q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// LogInfo fetches the tree's size, root, signed checkpoint and tree ID, unverified.
func (c *V1Client) LogInfo(ctx context.Context) (*tlog.V1LogInfo, error) {
	var info tlog.V1LogInfo
	if _, err := c.do(ctx, http.MethodGet, "log", nil, nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// PublicKey fetches the log's PEM public key.
func (c *V1Client) PublicKey(ctx context.Context) ([]byte, error) {
	var pem []byte
	if _, err := c.do(ctx, http.MethodGet, "log/publicKey", nil, nil, &pem); err != nil {
		return nil, err
	}
	return pem, nil
}

// ConsistencyProof fetches the proof that the tree of first entries is a prefix of the tree of
// last entries, unverified (see tlog.VerifyConsistency).
func (c *V1Client) ConsistencyProof(ctx context.Context, first, last uint64) (*tlog.V1ConsistencyProof, error) {
	var p tlog.V1ConsistencyProof
	q := url.Values{"firstSize": {strconv.FormatUint(first, 10)}, "lastSize": {strconv.FormatUint(last, 10)}}
	if _, err := c.do(ctx, http.MethodGet, "log/proof", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// VerifyV1Entry checks an entry against the trusted log keys: the key whose ID is the entry's
// log ID must be ECDSA; the entry's signed entry timestamp and inclusion proof (required) must
// verify, and its UUID must name the leaf hash of its body.
func VerifyV1Entry(e *V1Entry, keys []tlog.LogKey) (*tlog.V1EntryCheck, error) {
	var key *tlog.LogKey
	for i := range keys {
		if strings.EqualFold(hex.EncodeToString(keys[i].KeyID), e.Entry.LogID) {
			key = &keys[i]
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w: entry's log ID %s is not among the %d trusted logs", tlog.ErrBadSET, e.Entry.LogID, len(keys))
	}
	check, err := tlog.VerifyV1Entry(&e.Entry, *key, true)
	if err != nil {
		return nil, err
	}
	_, leaf, err := tlog.ParseV1EntryUUID(e.UUID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if !bytes.Equal(leaf, tlog.LeafHash(check.Body)) {
		return nil, fmt.Errorf("%w: entry UUID %s does not name its body (leaf hash %x)", ErrBadResponse, e.UUID, tlog.LeafHash(check.Body))
	}
	return check, nil
}

// DecodeV1Body returns an entry's canonical body.
func DecodeV1Body(e *tlog.V1LogEntry) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: entry body is not base64: %v", ErrBadResponse, err)
	}
	return b, nil
}

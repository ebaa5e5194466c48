package tlog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Rekor v1 API wire types, as sigstore/rekor v1.5's openapi.yaml defines them.

// V1LogEntry is one entry of a Rekor v1 LogEntry object (a map from entry UUID to this).
type V1LogEntry struct {
	// Body is the canonical entry body, base64.
	Body           string          `json:"body"`
	IntegratedTime int64           `json:"integratedTime"`
	LogID          string          `json:"logID"`
	LogIndex       int64           `json:"logIndex"`
	Verification   *V1Verification `json:"verification,omitempty"`
}

// V1Verification carries an entry's signed entry timestamp and inclusion proof.
type V1Verification struct {
	InclusionProof       *V1InclusionProof `json:"inclusionProof,omitempty"`
	SignedEntryTimestamp []byte            `json:"signedEntryTimestamp,omitempty"`
}

// V1InclusionProof is a Rekor v1 inclusion proof: hex hashes and the signed checkpoint.
type V1InclusionProof struct {
	Checkpoint string   `json:"checkpoint"`
	Hashes     []string `json:"hashes"`
	LogIndex   int64    `json:"logIndex"`
	RootHash   string   `json:"rootHash"`
	TreeSize   int64    `json:"treeSize"`
}

// V1LogInfo is the answer of GET /api/v1/log.
type V1LogInfo struct {
	RootHash       string `json:"rootHash"`
	TreeSize       int64  `json:"treeSize"`
	SignedTreeHead string `json:"signedTreeHead"`
	TreeID         string `json:"treeID"`
}

// V1ConsistencyProof is the answer of GET /api/v1/log/proof.
type V1ConsistencyProof struct {
	RootHash string   `json:"rootHash"`
	Hashes   []string `json:"hashes"`
}

// V1SearchIndex is the query of POST /api/v1/index/retrieve.
type V1SearchIndex struct {
	Email     string             `json:"email,omitempty"`
	PublicKey *V1SearchPublicKey `json:"publicKey,omitempty"`
	Hash      string             `json:"hash,omitempty"`
	// Operator is "and" or "or" (the default).
	Operator string `json:"operator,omitempty"`
}

// V1SearchPublicKey is a public key to search for, in a Rekor PKI format.
type V1SearchPublicKey struct {
	Format  string `json:"format"`
	Content []byte `json:"content,omitempty"`
}

// V1SearchLogQuery is the query of POST /api/v1/log/entries/retrieve; at most
// V1MaxSearchQueries items in all.
type V1SearchLogQuery struct {
	EntryUUIDs []string `json:"entryUUIDs,omitempty"`
	LogIndexes []int64  `json:"logIndexes,omitempty"`
	// Entries are proposed entries, found by the leaf hash of their canonical form.
	Entries []RawJSON `json:"entries,omitempty"`
}

// RawJSON is a JSON value kept as its bytes.
type RawJSON []byte

// MarshalJSON returns the bytes.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of the bytes.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// V1MaxSearchQueries bounds the items of one POST /api/v1/log/entries/retrieve (Rekor's limit).
const V1MaxSearchQueries = 10

// V1TreeIDHexLen and V1UUIDHexLen are the lengths of the two parts of an entry UUID
// ("entry ID" in Rekor): 16 hex digits of the tree ID, then the 64-hex leaf hash.
const (
	V1TreeIDHexLen = 16
	V1UUIDHexLen   = 64
)

// V1EntryUUID is the entry UUID of a leaf in tree treeID: the tree ID as 16 hex digits and the
// hex leaf hash.
func V1EntryUUID(treeID int64, leafHash []byte) string {
	return fmt.Sprintf("%016x%s", uint64(treeID), hex.EncodeToString(leafHash))
}

// ErrBadV1UUID reports an entry UUID that is neither 64 nor 80 hex digits.
var ErrBadV1UUID = errors.New("entry UUID must be 64 hex digits (leaf hash) or 80 (tree ID and leaf hash)")

// ParseV1EntryUUID splits an entry UUID into its tree ID (0 when the 64-digit form has none)
// and leaf hash.
func ParseV1EntryUUID(s string) (treeID int64, leafHash []byte, err error) {
	var tid string
	switch len(s) {
	case V1UUIDHexLen:
	case V1TreeIDHexLen + V1UUIDHexLen:
		tid, s = s[:V1TreeIDHexLen], s[V1TreeIDHexLen:]
	default:
		return 0, nil, fmt.Errorf("%w: got %d characters", ErrBadV1UUID, len(s))
	}
	leafHash, err = hex.DecodeString(s)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrBadV1UUID, err)
	}
	if tid != "" {
		u, err := strconv.ParseUint(tid, 16, 64)
		if err != nil || u == 0 || u > 1<<63-1 {
			return 0, nil, fmt.Errorf("%w: tree ID %q is not a positive 64-bit number", ErrBadV1UUID, tid)
		}
		treeID = int64(u)
	}
	return treeID, leafHash, nil
}

// V1SETPayload is what a Rekor v1 signed entry timestamp signs: the RFC 8785 JSON of the entry's
// body, integrated time, log ID and log index.
func V1SETPayload(body string, integratedTime int64, logID string, logIndex int64) []byte {
	// Keys in RFC 8785 order; base64 and hex need no escaping.
	return fmt.Appendf(nil, `{"body":%q,"integratedTime":%d,"logID":%q,"logIndex":%d}`, body, integratedTime, logID, logIndex)
}

// ErrBadSET reports a Rekor v1 signed entry timestamp that is missing, from another log, or does
// not verify.
var ErrBadSET = errors.New("signed entry timestamp does not verify")

// V1EntryCheck is a verified Rekor v1 entry.
type V1EntryCheck struct {
	Body           []byte
	IntegratedTime int64
	LogIndex       int64
	// Checkpoint is the checkpoint the inclusion proof was checked against.
	Checkpoint *Checkpoint
}

// VerifyV1Entry checks a Rekor v1 entry against the log's ECDSA key: its log ID is the key's,
// its body is canonical base64, its signed entry timestamp verifies (ECDSA ASN.1 over
// V1SETPayload), and, when it carries one, its inclusion proof verifies against its checkpoint,
// which key signs. requireProof refuses an entry without an inclusion proof.
func VerifyV1Entry(e *V1LogEntry, key LogKey, requireProof bool) (*V1EntryCheck, error) {
	pub, ok := key.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: a Rekor v1 log key is ECDSA, got %T", ErrUnsupportedKey, key.PublicKey)
	}
	if e.Verification == nil || len(e.Verification.SignedEntryTimestamp) == 0 {
		return nil, fmt.Errorf("%w: the entry carries none", ErrBadSET)
	}
	if len(key.KeyID) > 0 && !strings.EqualFold(e.LogID, hex.EncodeToString(key.KeyID)) {
		return nil, fmt.Errorf("%w: entry log ID %s, trusted log ID %x", ErrBadSET, e.LogID, key.KeyID)
	}
	body, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		return nil, fmt.Errorf("entry body is not base64: %w", err)
	}
	d := sha256.Sum256(V1SETPayload(e.Body, e.IntegratedTime, e.LogID, e.LogIndex))
	if !ecdsa.VerifyASN1(pub, d[:], e.Verification.SignedEntryTimestamp) {
		return nil, fmt.Errorf("%w: entry %d of log %s", ErrBadSET, e.LogIndex, e.LogID)
	}
	out := &V1EntryCheck{Body: body, IntegratedTime: e.IntegratedTime, LogIndex: e.LogIndex}
	p := e.Verification.InclusionProof
	if p == nil {
		if requireProof {
			return nil, fmt.Errorf("%w: entry %d carries no inclusion proof", ErrInclusionProof, e.LogIndex)
		}
		return out, nil
	}
	cp, _, err := OpenCheckpoint([]byte(p.Checkpoint), []LogKey{key})
	if err != nil {
		return nil, fmt.Errorf("entry %d's checkpoint: %w", e.LogIndex, err)
	}
	root, err := hex.DecodeString(p.RootHash)
	if err != nil || !bytes.Equal(root, cp.Hash) || uint64(p.TreeSize) != cp.Size {
		return nil, fmt.Errorf("%w: proof for tree %d root %s, checkpoint %s", ErrInclusionProof, p.TreeSize, p.RootHash, cp)
	}
	hashes := make([][]byte, len(p.Hashes))
	for i, h := range p.Hashes {
		if hashes[i], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("%w: proof hash %d is not hex", ErrInclusionProof, i)
		}
	}
	if p.LogIndex != e.LogIndex || p.LogIndex < 0 || p.TreeSize <= p.LogIndex {
		return nil, fmt.Errorf("%w: proof of index %d in tree %d for entry %d", ErrInclusionProof, p.LogIndex, p.TreeSize, e.LogIndex)
	}
	if err := VerifyInclusion(uint64(p.LogIndex), uint64(p.TreeSize), LeafHash(body), hashes, root); err != nil {
		return nil, err
	}
	out.Checkpoint = cp
	return out, nil
}

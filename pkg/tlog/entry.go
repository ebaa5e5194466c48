package tlog

import (
	"bytes"
	"errors"
	"fmt"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// ErrBadResponse reports a log entry that is malformed or does not prove what it claims.
var ErrBadResponse = errors.New("invalid response from log")

// CheckEntry checks what an entry claims without trusting the log: the body, and the inclusion
// proof against the proof's own root.
func CheckEntry(tle *rekorv1.TransparencyLogEntry, want []byte) error {
	if want != nil && !bytes.Equal(tle.GetCanonicalizedBody(), want) {
		return fmt.Errorf("%w: entry body differs from the submitted entry", ErrBadResponse)
	}
	p := tle.GetInclusionProof()
	if p == nil || p.GetCheckpoint().GetEnvelope() == "" {
		return fmt.Errorf("%w: entry has no inclusion proof with a checkpoint", ErrBadResponse)
	}
	if p.LogIndex < 0 || p.TreeSize < 0 || p.LogIndex != tle.LogIndex {
		return fmt.Errorf("%w: inclusion proof index %d, entry index %d", ErrBadResponse, p.LogIndex, tle.LogIndex)
	}
	if err := VerifyInclusion(uint64(p.LogIndex), uint64(p.TreeSize), LeafHash(tle.CanonicalizedBody), p.Hashes, p.RootHash); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// VerifyEntry checks a TransparencyLogEntry offline: its checkpoint is signed by one of keys and
// commits to the proof's tree size and root, and the inclusion proof of the canonicalized body
// verifies. When wantBody is not nil the body must equal it. It returns the checkpoint. An entry
// without a log ID (one read back from the tiles) gets the verifying key's ID, so that it can go
// into a bundle.
func VerifyEntry(tle *rekorv1.TransparencyLogEntry, keys []LogKey, wantBody []byte) (*Checkpoint, error) {
	if err := CheckEntry(tle, wantBody); err != nil {
		return nil, err
	}
	p := tle.GetInclusionProof()
	cp, key, err := OpenCheckpoint([]byte(p.GetCheckpoint().GetEnvelope()), keys)
	if err != nil {
		return nil, err
	}
	if cp.Size != uint64(p.TreeSize) || !bytes.Equal(cp.Hash, p.RootHash) {
		return nil, fmt.Errorf("%w: checkpoint %s does not match the proof's tree size %d", ErrBadResponse, cp, p.TreeSize)
	}
	if id := tle.GetLogId().GetKeyId(); len(id) > 0 && len(key.KeyID) > 0 && !bytes.Equal(id, key.KeyID) {
		return nil, fmt.Errorf("%w: entry log ID %x is not the ID %x of the key that signed its checkpoint", ErrBadResponse, id, key.KeyID)
	}
	if len(tle.GetLogId().GetKeyId()) == 0 && len(key.KeyID) > 0 {
		tle.LogId = &commonv1.LogId{KeyId: key.KeyID}
	}
	return cp, nil
}

package logclient

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// UploadV1 adds a proposed entry through the Rekor v1 API and returns the logged entry, checked
// against the trusted keys (VerifyV1Entry); existed reports that the log already held it, in
// which case the entry is read back by the UUID the log named. The logged body must be the
// canonical form of proposed. With stateDir, the entry's checkpoint is kept and checked for
// consistency with the one kept before (RecordV1Checkpoint).
func UploadV1(ctx context.Context, c *V1Client, proposed []byte, keys []tlog.LogKey, stateDir string) (e *V1Entry, check *tlog.V1EntryCheck, existed bool, err error) {
	want, err := rekortypes.Canonicalize(proposed, rekortypes.Limits{})
	if err != nil {
		return nil, nil, false, err
	}
	e, err = c.Upload(ctx, proposed)
	var conflict *V1ConflictError
	if errors.As(err, &conflict) {
		existed = true
		if e, err = c.GetByUUID(ctx, conflict.UUID); err != nil {
			return nil, nil, true, fmt.Errorf("reading back the existing entry %s: %w", conflict.UUID, err)
		}
	} else if err != nil {
		return nil, nil, false, err
	}
	check, err = CheckV1Entry(ctx, c, e, keys, stateDir)
	if err != nil {
		return nil, nil, existed, err
	}
	if string(check.Body) != string(want.Body) {
		return nil, nil, existed, fmt.Errorf("%w: the logged body of %s differs from the canonical form of the proposed entry", ErrBadResponse, e.UUID)
	}
	return e, check, existed, nil
}

// CheckV1Entry verifies an entry read from the Rekor v1 API against the trusted keys
// (VerifyV1Entry) and, with stateDir, keeps its checkpoint (RecordV1Checkpoint). Without keys
// it only decodes the entry: nothing is verified.
func CheckV1Entry(ctx context.Context, c *V1Client, e *V1Entry, keys []tlog.LogKey, stateDir string) (*tlog.V1EntryCheck, error) {
	if len(keys) == 0 {
		body, err := DecodeV1Body(&e.Entry)
		if err != nil {
			return nil, err
		}
		return &tlog.V1EntryCheck{Body: body, IntegratedTime: e.Entry.IntegratedTime, LogIndex: e.Entry.LogIndex}, nil
	}
	check, err := VerifyV1Entry(e, keys)
	if err != nil {
		return nil, err
	}
	if stateDir != "" {
		for _, k := range keys {
			if strings.EqualFold(hex.EncodeToString(k.KeyID), e.Entry.LogID) {
				if err := RecordV1Checkpoint(ctx, c, k, stateDir, check.Checkpoint); err != nil {
					return nil, err
				}
			}
		}
	}
	return check, nil
}

// RecordV1Checkpoint is RecordCheckpoint for a checkpoint of the Rekor v1 tree: a larger one
// needs a consistency proof from the kept one, from GET /api/v1/log/proof.
func RecordV1Checkpoint(ctx context.Context, c *V1Client, key tlog.LogKey, stateDir string, cp *tlog.Checkpoint) error {
	return RecordCheckpoint(ctx, v1Prover{c}, key, stateDir, cp)
}

// v1Prover gives RecordCheckpoint the Rekor v1 API's consistency proofs.
type v1Prover struct{ c *V1Client }

func (p v1Prover) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	proof, err := p.c.ConsistencyProof(ctx, size1, size2)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(proof.Hashes))
	for i, h := range proof.Hashes {
		if out[i], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("%w: consistency proof hash %d is not hex", ErrBadResponse, i)
		}
	}
	return out, nil
}

// V1TransparencyLogEntry renders a verified Rekor v1 entry as a bundle carries it: kind and
// version from the body, the SET as the inclusion promise, and the inclusion proof with its
// checkpoint.
func V1TransparencyLogEntry(e *V1Entry, check *tlog.V1EntryCheck) (*rekorv1.TransparencyLogEntry, error) {
	parsed, err := rekortypes.Parse(check.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: %w", ErrBadResponse, e.UUID, err)
	}
	logID, err := hex.DecodeString(e.Entry.LogID)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: logID is not hex", ErrBadResponse, e.UUID)
	}
	tle := &rekorv1.TransparencyLogEntry{
		LogIndex:          e.Entry.LogIndex,
		LogId:             &commonv1.LogId{KeyId: logID},
		KindVersion:       &rekorv1.KindVersion{Kind: parsed.Kind, Version: parsed.APIVersion},
		IntegratedTime:    e.Entry.IntegratedTime,
		CanonicalizedBody: check.Body,
	}
	if e.Entry.Verification == nil {
		return nil, fmt.Errorf("%w: entry %s carries no signed entry timestamp", ErrBadResponse, e.UUID)
	}
	tle.InclusionPromise = &rekorv1.InclusionPromise{SignedEntryTimestamp: e.Entry.Verification.SignedEntryTimestamp}
	if p := e.Entry.Verification.InclusionProof; p != nil {
		root, err := hex.DecodeString(p.RootHash)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: rootHash is not hex", ErrBadResponse, e.UUID)
		}
		proof := &rekorv1.InclusionProof{LogIndex: p.LogIndex, TreeSize: p.TreeSize, RootHash: root, Checkpoint: &rekorv1.Checkpoint{Envelope: p.Checkpoint}}
		for i, h := range p.Hashes {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("%w: entry %s: proof hash %d is not hex", ErrBadResponse, e.UUID, i)
			}
			proof.Hashes = append(proof.Hashes, b)
		}
		tle.InclusionProof = proof
	}
	return tle, nil
}

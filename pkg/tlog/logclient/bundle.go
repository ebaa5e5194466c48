package logclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// ErrEntryMismatch reports a log entry that does not record the bundle's signature.
var ErrEntryMismatch = tlog.ErrEntryMismatch

// maxBundleEntries bounds the tlog entries read from one bundle.
const maxBundleEntries = 32

// BundleEntryResult is the outcome of checking one tlog entry of a bundle against the log.
type BundleEntryResult struct {
	Index uint64
	// EntryCheckpoint is the checkpoint the bundle's inclusion proof is anchored in.
	EntryCheckpoint *tlog.Checkpoint
	// LogCheckpoint is the log's current checkpoint, in which the entry was found again.
	LogCheckpoint *tlog.Checkpoint
}

// VerifyBundleInLog checks that the Sigstore bundle's tlog entry is in the log at baseURL: the
// entry's inclusion proof verifies against a checkpoint signed by one of keys; its body records
// the bundle's signature, digest and certificate (hashedrekord 0.0.2); the log's current
// checkpoint verifies, is consistent with the one kept under stateDir, and the log holds the same
// entry at the same index. Entries signed by other logs are skipped; none left is an error.
func VerifyBundleInLog(ctx context.Context, bundleJSON []byte, baseURL string, keys []tlog.LogKey, stateDir string, opts ...ClientOption) ([]BundleEntryResult, error) {
	var b bundlev1.Bundle
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(bundleJSON, &b); err != nil {
		return nil, fmt.Errorf("parsing bundle: %w", err)
	}
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) == 0 {
		return nil, fmt.Errorf("bundle has no transparency log entry")
	}
	if len(entries) > maxBundleEntries {
		return nil, fmt.Errorf("bundle has %d transparency log entries, limit %d", len(entries), maxBundleEntries)
	}
	c, err := NewClient(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	var results []BundleEntryResult
	for _, tle := range entries {
		entryCP, err := tlog.VerifyEntry(tle, keys, nil)
		if errors.Is(err, tlog.ErrUnknownKey) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", tle.GetLogIndex(), err)
		}
		if err := tlog.MatchBundleEntry(&b, tle); err != nil {
			return nil, fmt.Errorf("entry %d: %w", tle.GetLogIndex(), err)
		}
		_, key, _ := tlog.OpenCheckpoint(entryCP.Raw, keys)
		logCP, err := c.Checkpoint(ctx, []tlog.LogKey{*key})
		if err != nil {
			return nil, err
		}
		if err := RecordCheckpoint(ctx, c, *key, stateDir, logCP); err != nil {
			return nil, err
		}
		idx := uint64(tle.GetLogIndex())
		if logCP.Size < entryCP.Size {
			return nil, fmt.Errorf("%w: rollback: the log's checkpoint %s is smaller than the entry's %s", ErrLogInconsistent, logCP, entryCP)
		}
		proof, err := c.ConsistencyProof(ctx, entryCP.Size, logCP.Size)
		if err == nil {
			err = tlog.VerifyConsistency(entryCP.Size, logCP.Size, proof, entryCP.Hash, logCP.Hash)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: entry checkpoint %s and log checkpoint %s: %w", ErrLogInconsistent, entryCP, logCP, err)
		}
		now, err := c.Entry(ctx, idx, logCP)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(now.CanonicalizedBody, tle.CanonicalizedBody) {
			return nil, fmt.Errorf("%w: the log holds another entry at index %d", ErrEntryMismatch, idx)
		}
		results = append(results, BundleEntryResult{Index: idx, EntryCheckpoint: entryCP, LogCheckpoint: logCP})
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("%w: none of the bundle's %d entries is signed by this log", tlog.ErrUnknownKey, len(entries))
	}
	return results, nil
}

// CheckWitnessed checks that each entry's checkpoint carries the cosignatures of policy's quorum
// (tlog.WitnessPolicy.Satisfied); a nil policy requires none.
func CheckWitnessed(results []BundleEntryResult, policy *tlog.WitnessPolicy) error {
	if policy == nil {
		return nil
	}
	for _, r := range results {
		if err := policy.Satisfied(r.EntryCheckpoint.Raw); err != nil {
			return fmt.Errorf("entry %d: the checkpoint of tree size %d: %w", r.Index, r.EntryCheckpoint.Size, err)
		}
	}
	return nil
}

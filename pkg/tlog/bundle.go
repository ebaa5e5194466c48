package tlog

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// ErrEntryMismatch reports a log entry that does not record the bundle's signature.
var ErrEntryMismatch = errors.New("log entry does not match the bundle")

// maxBundleEntries bounds the tlog entries read from one bundle.
const maxBundleEntries = 32

// BundleEntryResult is the outcome of checking one tlog entry of a bundle against the log.
type BundleEntryResult struct {
	Index uint64
	// EntryCheckpoint is the checkpoint the bundle's inclusion proof is anchored in.
	EntryCheckpoint *Checkpoint
	// LogCheckpoint is the log's current checkpoint, in which the entry was found again.
	LogCheckpoint *Checkpoint
}

// VerifyBundleInLog checks that the Sigstore bundle's tlog entry is in the log at baseURL: the
// entry's inclusion proof verifies against a checkpoint signed by one of keys; its body records
// the bundle's signature, digest and certificate (hashedrekord 0.0.2); the log's current
// checkpoint verifies, is consistent with the one kept under stateDir, and the log holds the same
// entry at the same index. Entries signed by other logs are skipped; none left is an error.
func VerifyBundleInLog(ctx context.Context, bundleJSON []byte, baseURL string, keys []LogKey, stateDir string, opts ...ClientOption) ([]BundleEntryResult, error) {
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
		entryCP, err := VerifyEntry(tle, keys, nil)
		if errors.Is(err, ErrUnknownKey) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", tle.GetLogIndex(), err)
		}
		if err := matchBundle(&b, tle); err != nil {
			return nil, fmt.Errorf("entry %d: %w", tle.GetLogIndex(), err)
		}
		_, key, _ := OpenCheckpoint(entryCP.Raw, keys)
		logCP, err := c.Checkpoint(ctx, []LogKey{*key})
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
			err = VerifyConsistency(entryCP.Size, logCP.Size, proof, entryCP.Hash, logCP.Hash)
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
		return nil, fmt.Errorf("%w: none of the bundle's %d entries is signed by this log", ErrUnknownKey, len(entries))
	}
	return results, nil
}

// matchBundle checks that a hashedrekord 0.0.2 entry records the bundle's signature, digest and
// (when the bundle carries one) certificate. Other entry kinds are refused.
func matchBundle(b *bundlev1.Bundle, tle *rekorv1.TransparencyLogEntry) error {
	kv := tle.GetKindVersion()
	if kv.GetKind() != HashedRekordKind || kv.GetVersion() != HashedRekordVersion {
		return fmt.Errorf("%w: entry kind %s %s, this log writes %s %s", ErrEntryMismatch, kv.GetKind(), kv.GetVersion(), HashedRekordKind, HashedRekordVersion)
	}
	e, err := ParseHashedRekordEntry(tle.GetCanonicalizedBody())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEntryMismatch, err)
	}
	var sig, digest []byte
	switch {
	case b.GetMessageSignature() != nil:
		sig = b.GetMessageSignature().GetSignature()
		digest = b.GetMessageSignature().GetMessageDigest().GetDigest()
	case b.GetDsseEnvelope() != nil:
		env := b.GetDsseEnvelope()
		if len(env.GetSignatures()) != 1 {
			return fmt.Errorf("%w: DSSE envelope has %d signatures, want 1", ErrEntryMismatch, len(env.GetSignatures()))
		}
		sig = env.GetSignatures()[0].GetSig()
		h := allowedKeyDetails[e.KeyDetails]
		if h == 0 {
			return fmt.Errorf("%w: key details %s", ErrEntryMismatch, e.KeyDetails)
		}
		digest = hashOf(h, bundle.PAE(env.GetPayloadType(), env.GetPayload()))
	default:
		return fmt.Errorf("%w: bundle has neither a message signature nor a DSSE envelope", ErrEntryMismatch)
	}
	if !bytes.Equal(e.Signature, sig) {
		return fmt.Errorf("%w: the entry records another signature", ErrEntryMismatch)
	}
	if !bytes.Equal(e.Digest, digest) {
		return fmt.Errorf("%w: the entry records another digest", ErrEntryMismatch)
	}
	vm := b.GetVerificationMaterial()
	var cert []byte
	if vm.GetCertificate() != nil {
		cert = vm.GetCertificate().GetRawBytes()
	} else if chain := vm.GetX509CertificateChain().GetCertificates(); len(chain) > 0 {
		cert = chain[0].GetRawBytes()
	}
	if cert != nil && (!e.IsCertificate || !bytes.Equal(e.Verifier, cert)) {
		return fmt.Errorf("%w: the entry records another certificate or key", ErrEntryMismatch)
	}
	return nil
}

func hashOf(h crypto.Hash, data []byte) []byte {
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil)
}

package tlog

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// ErrEntryMismatch reports a log entry that does not record the bundle it is checked against.
var ErrEntryMismatch = errors.New("log entry does not match the bundle")

// MatchBundleEntry checks that a hashedrekord 0.0.2 entry records the bundle's signature, digest and
// (when the bundle carries one) certificate. Other entry kinds are refused.
func MatchBundleEntry(b *bundlev1.Bundle, tle *rekorv1.TransparencyLogEntry) error {
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

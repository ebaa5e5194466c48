package cosign

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// BundleOptions gathers what makes a signature checkable by others: the signer's certificate chain
// (keyless signing), an RFC 3161 timestamp and a transparency log entry. A nil *BundleOptions adds
// none of them: the bundle then carries the signature and the public key only.
type BundleOptions struct {
	// Chain is the signing key's certificate chain, leaf first, from the CA. Nil signs with the
	// public key alone (keyed signing).
	Chain []*x509.Certificate
	// TSAURL is the timestamp authority's full timestamp URL; empty asks for no timestamp.
	TSAURL string
	// RekorURL is the transparency log that records the signature; empty writes no entry.
	RekorURL string
	// RekorV1 says the log at RekorURL speaks the Rekor v1 API: the entry is a hashedrekord
	// 0.0.1 with a signed entry timestamp, which the legacy layout can carry too.
	RekorV1 bool
	// LogKeys, when given, are the trusted keys of the log: the entry the log returns must have
	// an inclusion proof under a checkpoint signed by one of them.
	LogKeys []tlog.LogKey
	// StateDir, with LogKeys, is where the last verified checkpoint of each log is kept: the new
	// checkpoint must be consistent with it (a log that forked or rolled back is refused).
	StateDir string
}

// ErrLegacyNoLog is returned when a legacy-layout signature is asked to carry an entry of a Rekor
// v2 log: cosign's legacy annotations hold only a Rekor v1 signed entry timestamp, which a
// tile-based log does not issue.
var ErrLegacyNoLog = errors.New("the legacy layout cannot carry a Rekor v2 log entry: sign with the new bundle format, or without a log entry")

// HasSigningTime reports whether a signature made with these options carries a time a
// certificate can be checked at: an RFC 3161 timestamp, or a Rekor v1 signed entry timestamp.
func (w *BundleOptions) HasSigningTime() bool {
	return w != nil && (w.TSAURL != "" || (w.RekorURL != "" && w.RekorV1))
}

// material is the bundle's verification material for the signer: its certificate when the
// options carry a chain, else its public key.
func (w *BundleOptions) material(s signer.Signer) (*protobundle.VerificationMaterial, error) {
	if w != nil && len(w.Chain) > 0 {
		return bundle.CertificateMaterial(w.Chain[0]), nil
	}
	return bundle.KeyMaterial(s.Public())
}

// finish builds the bundle with build and adds the timestamp and log entry the options ask for.
// digest is what sig signs, made with h.
func (w *BundleOptions) finish(ctx context.Context, s signer.Signer, sig []byte, h crypto.Hash, digest []byte,
	build func(*protobundle.VerificationMaterial) *protobundle.Bundle) (*protobundle.Bundle, error) {
	vm, err := w.material(s)
	if err != nil {
		return nil, err
	}
	b := build(vm)
	if w == nil {
		return b, nil
	}
	if w.TSAURL != "" {
		ts, err := tsa.Timestamp(ctx, w.TSAURL, sig)
		if err != nil {
			return nil, fmt.Errorf("timestamping the signature at %s: %w", w.TSAURL, err)
		}
		b.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}},
		}
	}
	if w.RekorURL != "" {
		entry, err := w.logSignature(ctx, s, sig, h, digest)
		if err != nil {
			return nil, err
		}
		b.VerificationMaterial.TlogEntries = []*rekorv1.TransparencyLogEntry{entry}
	}
	return b, nil
}

// logSignature writes the signature to the transparency log as a hashedrekord entry and checks
// the entry the log returns.
func (w *BundleOptions) logSignature(ctx context.Context, s signer.Signer, sig []byte, h crypto.Hash, digest []byte) (*rekorv1.TransparencyLogEntry, error) {
	if w.RekorV1 {
		e, check, err := w.logSignatureV1(ctx, s, sig, h, digest)
		if err != nil {
			return nil, err
		}
		return logclient.V1TransparencyLogEntry(e, check)
	}
	verifier, isCert := []byte(nil), false
	if len(w.Chain) > 0 {
		verifier, isCert = w.Chain[0].Raw, true
	} else {
		der, err := x509.MarshalPKIXPublicKey(s.Public())
		if err != nil {
			return nil, fmt.Errorf("encoding the public key for the log: %w", err)
		}
		verifier = der
	}
	req, err := tlog.NewHashedRekordRequest(sig, digest, h, verifier, isCert)
	if err != nil {
		return nil, fmt.Errorf("preparing the log entry: %w", err)
	}
	entry, err := logclient.Submit(ctx, w.RekorURL, req)
	if err != nil {
		return nil, fmt.Errorf("writing to the transparency log at %s: %w", w.RekorURL, err)
	}
	if len(w.LogKeys) > 0 {
		if _, err := tlog.VerifyEntry(entry, w.LogKeys, nil); err != nil {
			return nil, fmt.Errorf("the transparency log at %s returned an entry that does not verify: %w", w.RekorURL, err)
		}
		if w.StateDir != "" {
			if _, _, err := logclient.CheckConsistencyAny(ctx, w.RekorURL, w.LogKeys, w.StateDir); err != nil {
				return nil, fmt.Errorf("transparency log at %s: %w", w.RekorURL, err)
			}
		}
	}
	return entry, nil
}

// logSignatureV1 writes the signature to the log's Rekor v1 API as a hashedrekord 0.0.1 entry
// (the PEM certificate or public key, the SHA-256 digest), as cosign does, and checks the entry
// the log returns (see uploadV1).
func (w *BundleOptions) logSignatureV1(ctx context.Context, s signer.Signer, sig []byte, h crypto.Hash, digest []byte) (*logclient.V1Entry, *tlog.V1EntryCheck, error) {
	if h != crypto.SHA256 {
		return nil, nil, fmt.Errorf("a Rekor v1 hashedrekord entry names a SHA-256 digest; this signer signs %v", h)
	}
	verifier, err := w.verifierPEM(s)
	if err != nil {
		return nil, nil, err
	}
	proposed, err := rekortypes.ProposeHashedRekord(digest, sig, verifier)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing the log entry: %w", err)
	}
	return w.uploadV1(ctx, proposed)
}

// logEnvelopeV1 writes a signed DSSE envelope (its JSON as stored) to the log's Rekor v1 API as
// an intoto 0.0.2 entry, as cosign attest does, and checks the entry the log returns.
func (w *BundleOptions) logEnvelopeV1(ctx context.Context, s signer.Signer, envelopeJSON []byte) (*logclient.V1Entry, *tlog.V1EntryCheck, error) {
	verifier, err := w.verifierPEM(s)
	if err != nil {
		return nil, nil, err
	}
	proposed, err := rekortypes.ProposeIntoto(envelopeJSON, verifier)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing the log entry: %w", err)
	}
	return w.uploadV1(ctx, proposed)
}

// verifierPEM is what a Rekor v1 entry names as the signer: the PEM certificate when signing
// keyless, else the PEM public key.
func (w *BundleOptions) verifierPEM(s signer.Signer) ([]byte, error) {
	if len(w.Chain) > 0 {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.Chain[0].Raw}), nil
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return nil, fmt.Errorf("encoding the public key for the log: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// uploadV1 writes a proposed entry to the log's Rekor v1 API and checks the entry the log
// returns: its body, and with LogKeys its SET and inclusion proof, and the consistency of its
// checkpoint with the one kept in StateDir.
func (w *BundleOptions) uploadV1(ctx context.Context, proposed []byte) (*logclient.V1Entry, *tlog.V1EntryCheck, error) {
	c, err := logclient.NewV1Client(w.RekorURL)
	if err != nil {
		return nil, nil, err
	}
	state := ""
	if len(w.LogKeys) > 0 {
		state = w.StateDir
	}
	e, check, _, err := logclient.UploadV1(ctx, c, proposed, w.LogKeys, state)
	if err != nil {
		return nil, nil, fmt.Errorf("writing to the transparency log at %s: %w", w.RekorURL, err)
	}
	if e.Entry.Verification == nil || len(e.Entry.Verification.SignedEntryTimestamp) == 0 {
		return nil, nil, fmt.Errorf("the transparency log at %s returned entry %s without a signed entry timestamp", w.RekorURL, e.UUID)
	}
	return e, check, nil
}

// legacyAnnotations returns the layer annotations of a legacy signature: the signature, the
// certificate and chain for keyless signing, the timestamp, and the entry of a Rekor v1 log
// (cosign's bundle annotation: the SET and the entry). digest is what sig signs, made with h.
// envelope is the layer of an attestation (a DSSE envelope's JSON), which a v1 log records as
// an intoto entry; nil for a signature, which it records as a hashedrekord entry.
func (w *BundleOptions) legacyAnnotations(ctx context.Context, s signer.Signer, sig []byte, h crypto.Hash, digest, envelope []byte) (map[string]string, error) {
	ann := map[string]string{oci.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}
	if w == nil {
		return ann, nil
	}
	if w.RekorURL != "" && !w.RekorV1 {
		return nil, ErrLegacyNoLog
	}
	if len(w.Chain) > 0 {
		ann[oci.AnnotationCertificate] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.Chain[0].Raw}))
		var chain []byte
		for _, c := range w.Chain[1:] {
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		if len(chain) > 0 {
			ann[oci.AnnotationChain] = string(chain)
		}
	}
	if w.TSAURL != "" {
		ts, err := tsa.Timestamp(ctx, w.TSAURL, sig)
		if err != nil {
			return nil, fmt.Errorf("timestamping the signature at %s: %w", w.TSAURL, err)
		}
		// cosign stores {"SignedRFC3161Timestamp": base64} in this annotation.
		ann[oci.AnnotationRFC3161Timestamp] = fmt.Sprintf(`{"SignedRFC3161Timestamp":%q}`, base64.StdEncoding.EncodeToString(ts))
	}
	if w.RekorURL != "" {
		var e *logclient.V1Entry
		var err error
		if envelope != nil {
			e, _, err = w.logEnvelopeV1(ctx, s, envelope)
		} else {
			e, _, err = w.logSignatureV1(ctx, s, sig, h, digest)
		}
		if err != nil {
			return nil, err
		}
		rb, err := json.Marshal(bundle.RekorBundle{SignedEntryTimestamp: e.Entry.Verification.SignedEntryTimestamp, Payload: bundle.RekorPayload{
			Body: e.Entry.Body, IntegratedTime: e.Entry.IntegratedTime, LogIndex: e.Entry.LogIndex, LogID: e.Entry.LogID,
		}})
		if err != nil {
			return nil, fmt.Errorf("encoding the %s annotation: %w", oci.AnnotationRekorBundle, err)
		}
		ann[oci.AnnotationRekorBundle] = string(rb)
	}
	return ann, nil
}

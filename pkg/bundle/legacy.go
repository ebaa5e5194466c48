package bundle

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// Annotations of cosign's legacy signature layers.
const (
	AnnotationSignature   = "dev.cosignproject.cosign/signature"
	AnnotationCertificate = "dev.sigstore.cosign/certificate"
	AnnotationChain       = "dev.sigstore.cosign/chain"
	AnnotationBundle      = "dev.sigstore.cosign/bundle"
	AnnotationTimestamp   = "dev.sigstore.cosign/rfc3161timestamp"
)

// maxLegacyAnnotation bounds each annotation value FromLegacy and ParseSignedPayload decode.
const maxLegacyAnnotation = 1 << 20

// FromLegacy turns a legacy cosign signature layer (its payload and annotations) into a bundle
// v0.1 that the verifier checks like any other: a messageSignature over SHA-256(payload),
// the certificate (plus any non-self-signed chain certificates) or, without one, a publicKey
// material with an empty hint, the Rekor entry with its signed entry timestamp, and the RFC 3161
// timestamp. Errors wrap ErrInvalidBundle.
func FromLegacy(payload []byte, annotations map[string]string) (*protobundle.Bundle, error) {
	if err := checkAnnotationSizes(annotations); err != nil {
		return nil, err
	}
	sigB64 := annotations[AnnotationSignature]
	if sigB64 == "" {
		return nil, fmt.Errorf("%w: legacy signature has no %s annotation", ErrInvalidBundle, AnnotationSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: %s is not base64", ErrInvalidBundle, AnnotationSignature)
	}
	digest := sha256.Sum256(payload)
	vm, err := legacyMaterial(annotations)
	if err != nil {
		return nil, err
	}
	b := &protobundle.Bundle{
		MediaType:            MediaTypeV01,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     sig,
		}},
	}
	if err := Validate(b); err != nil {
		return nil, err
	}
	return b, nil
}

// legacyEnvelope is a DSSE envelope as cosign stores it in a legacy attestation layer.
type legacyEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     []byte `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   []byte `json:"sig"`
	} `json:"signatures"`
}

// FromLegacyAttestation turns a legacy cosign attestation layer (a DSSE envelope, media type
// application/vnd.dsse.envelope.v1+json, and the layer's annotations: certificate, chain,
// Rekor bundle, timestamp) into a bundle v0.1 holding the envelope, checked like any other.
// The envelope must carry exactly one signature. Errors wrap ErrInvalidBundle.
func FromLegacyAttestation(envelopeJSON []byte, annotations map[string]string) (*protobundle.Bundle, error) {
	if err := checkAnnotationSizes(annotations); err != nil {
		return nil, err
	}
	if len(envelopeJSON) > MaxBundleSize {
		return nil, fmt.Errorf("%w: envelope of %d bytes, at most %d allowed", ErrInvalidBundle, len(envelopeJSON), MaxBundleSize)
	}
	var env legacyEnvelope
	if err := json.Unmarshal(envelopeJSON, &env); err != nil {
		return nil, fmt.Errorf("%w: DSSE envelope: %w", ErrInvalidBundle, err)
	}
	if len(env.Signatures) != 1 {
		return nil, fmt.Errorf("%w: DSSE envelope has %d signatures, exactly 1 required", ErrInvalidBundle, len(env.Signatures))
	}
	vm, err := legacyMaterial(annotations)
	if err != nil {
		return nil, err
	}
	pe := NewEnvelope(env.PayloadType, env.Payload, env.Signatures[0].Sig)
	pe.Signatures[0].Keyid = env.Signatures[0].KeyID
	b := &protobundle.Bundle{
		MediaType:            MediaTypeV01,
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pe},
	}
	if err := Validate(b); err != nil {
		return nil, err
	}
	return b, nil
}

func checkAnnotationSizes(annotations map[string]string) error {
	for k, v := range annotations {
		if len(v) > maxLegacyAnnotation {
			return fmt.Errorf("%w: annotation %s of %d bytes, at most %d allowed", ErrInvalidBundle, k, len(v), maxLegacyAnnotation)
		}
	}
	return nil
}

// legacyMaterial builds verification material from a legacy layer's annotations.
func legacyMaterial(annotations map[string]string) (*protobundle.VerificationMaterial, error) {
	vm := &protobundle.VerificationMaterial{}
	if certPEM := annotations[AnnotationCertificate]; certPEM != "" {
		certs, err := pemCertificates([]byte(certPEM))
		if err != nil || len(certs) != 1 {
			return nil, fmt.Errorf("%w: %s must hold one PEM certificate", ErrInvalidBundle, AnnotationCertificate)
		}
		chain := []*protocommon.X509Certificate{{RawBytes: certs[0].Raw}}
		if chainPEM := annotations[AnnotationChain]; chainPEM != "" {
			more, err := pemCertificates([]byte(chainPEM))
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationChain, err)
			}
			for _, c := range more {
				// Roots come from the trusted root, never from the signature.
				if bytes.Equal(c.RawIssuer, c.RawSubject) {
					continue
				}
				chain = append(chain, &protocommon.X509Certificate{RawBytes: c.Raw})
			}
		}
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: chain},
		}
	} else {
		vm.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}

	if rb := annotations[AnnotationBundle]; rb != "" {
		entry, err := legacyTlogEntry([]byte(rb))
		if err != nil {
			return nil, err
		}
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	}
	if ts := annotations[AnnotationTimestamp]; ts != "" {
		var lt RFC3161Timestamp
		if err := json.Unmarshal([]byte(ts), &lt); err != nil || len(lt.SignedRFC3161Timestamp) == 0 {
			return nil, fmt.Errorf("%w: %s is not a timestamp document", ErrInvalidBundle, AnnotationTimestamp)
		}
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: lt.SignedRFC3161Timestamp}},
		}
	}
	return vm, nil
}

// legacyTlogEntry converts cosign's Rekor bundle annotation into a tlog entry with an inclusion
// promise; kind and version come from the entry body.
func legacyTlogEntry(data []byte) (*protorekor.TransparencyLogEntry, error) {
	var rb RekorBundle
	if err := json.Unmarshal(data, &rb); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBundle, AnnotationBundle, err)
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, fmt.Errorf("%w: %s has no SignedEntryTimestamp", ErrInvalidBundle, AnnotationBundle)
	}
	bodyB64, _ := rb.Payload.Body.(string)
	body, err := base64.StdEncoding.DecodeString(bodyB64)
	if err != nil || len(body) == 0 {
		return nil, fmt.Errorf("%w: %s: body is not base64", ErrInvalidBundle, AnnotationBundle)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) == 0 {
		return nil, fmt.Errorf("%w: %s: logID %q is not hex", ErrInvalidBundle, AnnotationBundle, rb.Payload.LogID)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, fmt.Errorf("%w: %s: entry body has no kind and apiVersion", ErrInvalidBundle, AnnotationBundle)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// pemCertificates parses every CERTIFICATE block of a PEM document (at most MaxCertificates).
func pemCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q, want CERTIFICATE", block.Type)
		}
		if len(out) == MaxCertificates {
			return nil, fmt.Errorf("more than %d certificates", MaxCertificates)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	return out, nil
}

// legacyBlobBundle is the --bundle file cosign v1/v2 sign-blob wrote.
type legacyBlobBundle struct {
	Base64Signature string          `json:"base64Signature"`
	Cert            string          `json:"cert,omitempty"`
	RekorBundle     json.RawMessage `json:"rekorBundle,omitempty"`
}

// IsLegacyBlobBundle reports whether data looks like cosign v1/v2's sign-blob --bundle file
// rather than a Sigstore bundle.
func IsLegacyBlobBundle(data []byte) bool {
	var probe struct {
		MediaType       *string `json:"mediaType"`
		Base64Signature *string `json:"base64Signature"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.MediaType == nil && probe.Base64Signature != nil
}

// FromLegacyBlobBundle turns cosign v1/v2's sign-blob --bundle file (base64Signature, cert:
// base64 of the certificate's PEM or DER, rekorBundle) into a bundle v0.1 over the blob's
// SHA-256 digest, which the caller computes from the blob it verifies. Errors wrap
// ErrInvalidBundle.
func FromLegacyBlobBundle(data []byte, blobSHA256 []byte) (*protobundle.Bundle, error) {
	if len(data) > maxLegacyAnnotation*4 {
		return nil, fmt.Errorf("%w: legacy blob bundle of %d bytes, at most %d allowed", ErrInvalidBundle, len(data), maxLegacyAnnotation*4)
	}
	if len(blobSHA256) != sha256.Size {
		return nil, fmt.Errorf("%w: blob digest of %d bytes, SHA-256 required", ErrInvalidBundle, len(blobSHA256))
	}
	var lb legacyBlobBundle
	if err := json.Unmarshal(data, &lb); err != nil {
		return nil, fmt.Errorf("%w: legacy blob bundle: %w", ErrInvalidBundle, err)
	}
	annotations := map[string]string{AnnotationSignature: lb.Base64Signature}
	if lb.Cert != "" {
		raw, err := base64.StdEncoding.DecodeString(lb.Cert)
		if err != nil {
			return nil, fmt.Errorf("%w: legacy blob bundle: cert is not base64", ErrInvalidBundle)
		}
		if block, _ := pem.Decode(raw); block == nil {
			raw = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw})
		}
		annotations[AnnotationCertificate] = string(raw)
	}
	if len(lb.RekorBundle) > 0 && string(lb.RekorBundle) != "null" {
		annotations[AnnotationBundle] = string(lb.RekorBundle)
	}
	if err := checkAnnotationSizes(annotations); err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(lb.Base64Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: legacy blob bundle: base64Signature is not base64", ErrInvalidBundle)
	}
	vm, err := legacyMaterial(annotations)
	if err != nil {
		return nil, err
	}
	b := &protobundle.Bundle{
		MediaType:            MediaTypeV01,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: append([]byte(nil), blobSHA256...)},
			Signature:     sig,
		}},
	}
	if err := Validate(b); err != nil {
		return nil, err
	}
	return b, nil
}

package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// MaxEnvelopeSignatures is the most signatures ParseEnvelope accepts in one envelope.
const MaxEnvelopeSignatures = 16

// ErrInvalidEnvelope is wrapped by every error ParseEnvelope returns.
var ErrInvalidEnvelope = errors.New("invalid DSSE envelope")

// Envelope is a DSSE envelope with its payload and signatures decoded.
type Envelope struct {
	PayloadType string
	Payload     []byte
	// Signatures are the raw signatures, in the envelope's order; KeyIDs are their keyid fields.
	Signatures [][]byte
	KeyIDs     []string
}

// MarshalEnvelope writes a DSSE envelope with one signature as cosign writes the layers of its
// legacy .att tag: {"payloadType":...,"payload":<base64>,"signatures":[{"keyid":"","sig":<base64>}]}
// (the bytes encoding/json gives for go-securesystemslib's dsse.Envelope), encoding the payload
// straight into the output so a large statement is not copied again.
func MarshalEnvelope(payloadType string, payload, sig []byte) ([]byte, error) {
	pt, err := json.Marshal(payloadType)
	if err != nil {
		return nil, fmt.Errorf("encoding the DSSE envelope: %w", err)
	}
	enc := base64.StdEncoding
	out := make([]byte, 0, len(pt)+enc.EncodedLen(len(payload))+enc.EncodedLen(len(sig))+64)
	out = append(out, `{"payloadType":`...)
	out = append(out, pt...)
	out = append(out, `,"payload":"`...)
	out = enc.AppendEncode(out, payload)
	out = append(out, `","signatures":[{"keyid":"","sig":"`...)
	out = enc.AppendEncode(out, sig)
	return append(out, `"}]}`...), nil
}

// ParseEnvelope reads a DSSE envelope (JSON) of at most max bytes (DefaultMaxAttestationSize when
// max <= 0): a payloadType, a base64 payload (standard or URL alphabet, as DSSE allows), and 1 to
// MaxEnvelopeSignatures non-empty base64 signatures. Unknown fields are refused.
func ParseEnvelope(data []byte, max int64) (*Envelope, error) {
	if max <= 0 {
		max = DefaultMaxAttestationSize
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEnvelope, &SizeError{Size: int64(len(data)), Limit: max})
	}
	var raw struct {
		PayloadType *string          `json:"payloadType"`
		Payload     *string          `json:"payload"`
		Signatures  []dsse.Signature `json:"signatures"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEnvelope, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the envelope", ErrInvalidEnvelope)
	}
	if raw.PayloadType == nil || *raw.PayloadType == "" {
		return nil, fmt.Errorf("%w: no payloadType", ErrInvalidEnvelope)
	}
	if raw.Payload == nil {
		return nil, fmt.Errorf("%w: no payload", ErrInvalidEnvelope)
	}
	payload, err := decodeB64(*raw.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrInvalidEnvelope, err)
	}
	if len(raw.Signatures) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrInvalidEnvelope)
	}
	if len(raw.Signatures) > MaxEnvelopeSignatures {
		return nil, fmt.Errorf("%w: %d signatures, at most %d allowed", ErrInvalidEnvelope, len(raw.Signatures), MaxEnvelopeSignatures)
	}
	env := &Envelope{PayloadType: *raw.PayloadType, Payload: payload}
	for i, s := range raw.Signatures {
		sig, err := decodeB64(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%w: signature %d is empty or not base64", ErrInvalidEnvelope, i)
		}
		env.Signatures = append(env.Signatures, sig)
		env.KeyIDs = append(env.KeyIDs, s.KeyID)
	}
	return env, nil
}

func decodeB64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	return b, nil
}

// LegacyBundles turns a legacy attestation layer (its DSSE envelope and the layer annotations
// cosign writes: certificate, chain, Rekor bundle, RFC 3161 timestamp) into one bundle per
// signature in the envelope, each a DSSE bundle with a single signature that the verifier
// checks like any other. An envelope is accepted when any one of its signatures verifies under
// the policy: a signature that does not verify never lends its key to another.
func LegacyBundles(env *Envelope, annotations map[string]string) ([]*protobundle.Bundle, error) {
	out := make([]*protobundle.Bundle, 0, len(env.Signatures))
	for _, sig := range env.Signatures {
		// The verification material (certificate, chain, log entry, timestamp) is read the way
		// legacy signatures are; the signature annotation of an attestation layer is empty in
		// cosign's layout, so the envelope's signature stands in for it.
		ann := make(map[string]string, len(annotations)+1)
		for k, v := range annotations {
			ann[k] = v
		}
		ann[bundle.AnnotationSignature] = base64.StdEncoding.EncodeToString(sig)
		legacy, err := bundle.FromLegacy(env.Payload, ann)
		if err != nil {
			return nil, err
		}
		b := &protobundle.Bundle{
			MediaType:            legacy.GetMediaType(),
			VerificationMaterial: legacy.GetVerificationMaterial(),
			Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
				Payload:     env.Payload,
				PayloadType: env.PayloadType,
				Signatures:  []*protodsse.Signature{{Sig: sig}},
			}},
		}
		if err := bundle.Validate(b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Media types of Sigstore bundles. MediaTypeV03 is what this package writes; Parse reads all four.
const (
	MediaTypeV03       = "application/vnd.dev.sigstore.bundle.v0.3+json"
	MediaTypeV03Legacy = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	MediaTypeV02       = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	MediaTypeV01       = "application/vnd.dev.sigstore.bundle+json;version=0.1"
)

// Limits on what Parse accepts.
const (
	// MaxBundleSize is the largest bundle document Parse reads, in bytes.
	// It matches the largest blob the registry client fetches by default (128 MiB).
	MaxBundleSize = 128 << 20
	// MaxTlogEntries is the most transparency log entries a bundle may carry.
	MaxTlogEntries = 32
	// MaxTimestamps is the most RFC 3161 timestamps a bundle may carry.
	MaxTimestamps = 32
	// MaxCertificates is the most certificates a verification material chain may hold.
	MaxCertificates = 10
)

// ErrInvalidBundle is wrapped by every error Parse returns for a document that is not a
// well-formed bundle of a known version.
var ErrInvalidBundle = errors.New("invalid bundle")

// ErrUnknownMediaType is returned (wrapping ErrInvalidBundle) for a bundle whose mediaType is
// not one of the versions this package reads.
var ErrUnknownMediaType = fmt.Errorf("%w: unknown media type", ErrInvalidBundle)

// Version is a bundle format version.
type Version int

// Bundle versions, in order.
const (
	V01 Version = iota + 1
	V02
	V03
)

// String returns the version as "v0.N".
func (v Version) String() string {
	switch v {
	case V01:
		return "v0.1"
	case V02:
		return "v0.2"
	case V03:
		return "v0.3"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// VersionOf returns the bundle version a media type names, or an error wrapping
// ErrUnknownMediaType.
func VersionOf(mediaType string) (Version, error) {
	switch mediaType {
	case MediaTypeV01:
		return V01, nil
	case MediaTypeV02:
		return V02, nil
	case MediaTypeV03, MediaTypeV03Legacy:
		return V03, nil
	}
	return 0, fmt.Errorf("%w %q (want %s, or %s with version=0.1, 0.2 or 0.3)",
		ErrUnknownMediaType, mediaType, MediaTypeV03, "application/vnd.dev.sigstore.bundle+json")
}

// Parse reads a bundle from its JSON form and checks its structure for its version: content is
// a message signature or a DSSE envelope with one signature; verification material is a public
// key, a certificate or (before v0.3) a non-empty certificate chain; v0.1 tlog entries carry a
// signed entry timestamp, later versions an inclusion proof; at most MaxTlogEntries entries and
// MaxTimestamps timestamps. Every error wraps ErrInvalidBundle.
func Parse(data []byte) (*protobundle.Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidBundle, len(data), MaxBundleSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrInvalidBundle)
	}
	b := &protobundle.Bundle{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("%w: parsing JSON: %w", ErrInvalidBundle, err)
	}
	if err := Validate(b); err != nil {
		return nil, err
	}
	return b, nil
}

// Validate checks the structure of a bundle as Parse does. Every error wraps ErrInvalidBundle.
func Validate(b *protobundle.Bundle) error {
	if b == nil {
		return fmt.Errorf("%w: no bundle", ErrInvalidBundle)
	}
	version, err := VersionOf(b.GetMediaType())
	if err != nil {
		return err
	}
	if err := validateContent(b); err != nil {
		return err
	}
	if err := validateMaterial(b.GetVerificationMaterial(), version); err != nil {
		return err
	}
	vm := b.GetVerificationMaterial()
	entries := vm.GetTlogEntries()
	if len(entries) > MaxTlogEntries {
		return fmt.Errorf("%w: %d transparency log entries, at most %d allowed", ErrInvalidBundle, len(entries), MaxTlogEntries)
	}
	for i, e := range entries {
		if e == nil {
			return fmt.Errorf("%w: tlog entry %d is empty", ErrInvalidBundle, i)
		}
		if e.GetLogIndex() < 0 {
			return fmt.Errorf("%w: tlog entry %d: negative logIndex %d", ErrInvalidBundle, i, e.GetLogIndex())
		}
		if e.GetKindVersion() == nil || e.GetKindVersion().GetKind() == "" || e.GetKindVersion().GetVersion() == "" {
			return fmt.Errorf("%w: tlog entry %d has no kindVersion", ErrInvalidBundle, i)
		}
		if len(e.GetCanonicalizedBody()) == 0 {
			return fmt.Errorf("%w: tlog entry %d has no canonicalizedBody", ErrInvalidBundle, i)
		}
		if version == V01 {
			if len(e.GetInclusionPromise().GetSignedEntryTimestamp()) == 0 {
				return fmt.Errorf("%w: tlog entry %d has no inclusion promise (required by bundle v0.1)", ErrInvalidBundle, i)
			}
		} else if e.GetInclusionProof() == nil {
			return fmt.Errorf("%w: tlog entry %d has no inclusion proof (required by bundle %s)", ErrInvalidBundle, i, version)
		}
		if p := e.GetInclusionProof(); p != nil {
			if p.GetLogIndex() < 0 || p.GetTreeSize() < 0 {
				return fmt.Errorf("%w: tlog entry %d: negative index or size in inclusion proof", ErrInvalidBundle, i)
			}
			if len(p.GetHashes()) > 64 {
				return fmt.Errorf("%w: tlog entry %d: inclusion proof of %d hashes, at most 64 allowed", ErrInvalidBundle, i, len(p.GetHashes()))
			}
		}
	}
	ts := vm.GetTimestampVerificationData().GetRfc3161Timestamps()
	if len(ts) > MaxTimestamps {
		return fmt.Errorf("%w: %d timestamps, at most %d allowed", ErrInvalidBundle, len(ts), MaxTimestamps)
	}
	for i, t := range ts {
		if len(t.GetSignedTimestamp()) == 0 {
			return fmt.Errorf("%w: timestamp %d is empty", ErrInvalidBundle, i)
		}
	}
	return nil
}

func validateContent(b *protobundle.Bundle) error {
	switch c := b.GetContent().(type) {
	case *protobundle.Bundle_MessageSignature:
		ms := c.MessageSignature
		if ms == nil || len(ms.GetSignature()) == 0 {
			return fmt.Errorf("%w: messageSignature has no signature", ErrInvalidBundle)
		}
		if d := ms.GetMessageDigest(); d != nil {
			if len(d.GetDigest()) == 0 {
				return fmt.Errorf("%w: messageSignature.messageDigest has no digest", ErrInvalidBundle)
			}
			if d.GetAlgorithm() == protocommon.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED {
				return fmt.Errorf("%w: messageSignature.messageDigest has no algorithm", ErrInvalidBundle)
			}
		}
	case *protobundle.Bundle_DsseEnvelope:
		env := c.DsseEnvelope
		if env == nil {
			return fmt.Errorf("%w: empty dsseEnvelope", ErrInvalidBundle)
		}
		if env.GetPayloadType() == "" {
			return fmt.Errorf("%w: dsseEnvelope has no payloadType", ErrInvalidBundle)
		}
		if len(env.GetSignatures()) != 1 {
			return fmt.Errorf("%w: dsseEnvelope has %d signatures, exactly 1 required", ErrInvalidBundle, len(env.GetSignatures()))
		}
		if len(env.GetSignatures()[0].GetSig()) == 0 {
			return fmt.Errorf("%w: dsseEnvelope signature is empty", ErrInvalidBundle)
		}
	default:
		return fmt.Errorf("%w: content must be a messageSignature or a dsseEnvelope", ErrInvalidBundle)
	}
	return nil
}

func validateMaterial(vm *protobundle.VerificationMaterial, version Version) error {
	if vm == nil {
		return fmt.Errorf("%w: no verificationMaterial", ErrInvalidBundle)
	}
	switch c := vm.GetContent().(type) {
	case *protobundle.VerificationMaterial_PublicKey:
		if c.PublicKey == nil {
			return fmt.Errorf("%w: empty verificationMaterial.publicKey", ErrInvalidBundle)
		}
	case *protobundle.VerificationMaterial_Certificate:
		if len(c.Certificate.GetRawBytes()) == 0 {
			return fmt.Errorf("%w: verificationMaterial.certificate is empty", ErrInvalidBundle)
		}
	case *protobundle.VerificationMaterial_X509CertificateChain:
		if version >= V03 {
			return fmt.Errorf("%w: bundle %s must carry a single certificate, not x509CertificateChain", ErrInvalidBundle, version)
		}
		certs := c.X509CertificateChain.GetCertificates()
		if len(certs) == 0 {
			return fmt.Errorf("%w: x509CertificateChain holds no certificates", ErrInvalidBundle)
		}
		if len(certs) > MaxCertificates {
			return fmt.Errorf("%w: x509CertificateChain holds %d certificates, at most %d allowed", ErrInvalidBundle, len(certs), MaxCertificates)
		}
		for i, cert := range certs {
			if len(cert.GetRawBytes()) == 0 {
				return fmt.Errorf("%w: certificate %d of x509CertificateChain is empty", ErrInvalidBundle, i)
			}
		}
	default:
		return fmt.Errorf("%w: verificationMaterial needs a publicKey, certificate or x509CertificateChain", ErrInvalidBundle)
	}
	return nil
}

// Marshal writes a bundle as protojson, compacted (as cosign and sigstore-go write it, with
// lowerCamelCase field names and base64 bytes).
func Marshal(b *protobundle.Bundle) ([]byte, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: no bundle", ErrInvalidBundle)
	}
	return marshalProtoJSON(b)
}

// marshalProtoJSON marshals a message with protojson and compacts the result, so the bytes are
// stable (protojson varies its whitespace on purpose).
func marshalProtoJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("compacting JSON: %w", err)
	}
	return buf.Bytes(), nil
}

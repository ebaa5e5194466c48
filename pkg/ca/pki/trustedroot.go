package pki

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Media types of the trust material files. TrustedRootMediaType is the one written: the media
// type the public-good TUF repository serves, and the only one cosign v3.1 and sigstore-go up to
// v1.3 read. UnmarshalTrustedRoot reads it and the two later spellings.
const (
	TrustedRootMediaType   = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
	SigningConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
)

// trustedRootMediaTypes are the trusted root media types UnmarshalTrustedRoot reads.
var trustedRootMediaTypes = []string{
	TrustedRootMediaType,
	"application/vnd.dev.sigstore.trustedroot.v0.1+json",
	"application/vnd.dev.sigstore.trustedroot.v0.2+json",
}

// MaxTrustFileSize bounds the trusted-root and signing-config files read.
const MaxTrustFileSize = 4 << 20

// CertificateAuthority describes a CA or TSA chain (leaf or intermediate first, root last) for a
// trusted root. uri may be empty.
func CertificateAuthority(chain []*x509.Certificate, uri string) (*prototrustroot.CertificateAuthority, error) {
	if len(chain) == 0 {
		return nil, errors.New("certificate authority: empty chain")
	}
	ca := &prototrustroot.CertificateAuthority{
		Subject:   &protocommon.DistinguishedName{CommonName: chain[0].Subject.CommonName},
		Uri:       uri,
		CertChain: &protocommon.X509CertificateChain{},
		ValidFor:  &protocommon.TimeRange{Start: timestamppb.New(chain[0].NotBefore)},
	}
	if len(chain[0].Subject.Organization) > 0 {
		ca.Subject.Organization = chain[0].Subject.Organization[0]
	}
	for _, c := range chain {
		ca.CertChain.Certificates = append(ca.CertChain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
	}
	return ca, nil
}

// LogID is the RFC 6962 log ID of a key: SHA-256 of its DER SubjectPublicKeyInfo.
func LogID(pub crypto.PublicKey) ([32]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encoding log public key: %w", err)
	}
	return sha256.Sum256(der), nil
}

// TransparencyLog describes a log with an ECDSA P-256 key (as the CT log has) for a trusted root.
func TransparencyLog(baseURL string, pub crypto.PublicKey, start time.Time) (*prototrustroot.TransparencyLogInstance, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding log public key: %w", err)
	}
	id := sha256.Sum256(der)
	return &prototrustroot.TransparencyLogInstance{
		BaseUrl:       baseURL,
		HashAlgorithm: protocommon.HashAlgorithm_SHA2_256,
		PublicKey: &protocommon.PublicKey{
			RawBytes:   der,
			KeyDetails: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
			ValidFor:   &protocommon.TimeRange{Start: timestamppb.New(start)},
		},
		LogId: &protocommon.LogId{KeyId: id[:]},
	}, nil
}

// MarshalTrustedRoot encodes a trusted root as indented protojson, setting its media type.
func MarshalTrustedRoot(tr *prototrustroot.TrustedRoot) ([]byte, error) {
	tr.MediaType = TrustedRootMediaType
	out, err := protojson.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("encoding trusted root: %w", err)
	}
	return stableJSON(out)
}

// stableJSON re-indents protojson output with two spaces: protojson deliberately varies its
// whitespace between runs, and files people diff should not.
func stableJSON(data []byte) ([]byte, error) {
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("formatting JSON: %w", err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("formatting JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// UnmarshalTrustedRoot decodes a trusted root (or a part of one) and checks its media type.
func UnmarshalTrustedRoot(data []byte) (*prototrustroot.TrustedRoot, error) {
	if len(data) > MaxTrustFileSize {
		return nil, fmt.Errorf("trusted root of %d bytes exceeds %d", len(data), MaxTrustFileSize)
	}
	var tr prototrustroot.TrustedRoot
	if err := protojson.Unmarshal(data, &tr); err != nil {
		return nil, fmt.Errorf("decoding trusted root: %w", err)
	}
	if !slices.Contains(trustedRootMediaTypes, tr.MediaType) {
		return nil, fmt.Errorf("trusted root media type %q, want one of %q", tr.MediaType, trustedRootMediaTypes)
	}
	return &tr, nil
}

// WriteTrustedRoot writes a trusted root file.
func WriteTrustedRoot(path string, tr *prototrustroot.TrustedRoot) error {
	data, err := MarshalTrustedRoot(tr)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644)
}

// ReadTrustedRoot reads a trusted root file.
func ReadTrustedRoot(path string) (*prototrustroot.TrustedRoot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	tr, err := UnmarshalTrustedRoot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tr, nil
}

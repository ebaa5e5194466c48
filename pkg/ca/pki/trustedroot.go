package pki

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cosign-like/cosign-like/pkg/root"
)

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

// WriteTrustedRoot writes a trusted root file.
func WriteTrustedRoot(path string, tr *prototrustroot.TrustedRoot) error {
	data, err := root.MarshalTrustedRoot(tr)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644)
}

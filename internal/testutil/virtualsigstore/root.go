package virtualsigstore

import (
	"crypto/x509"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Window is a validFor range; a zero End is open.
type Window struct{ Start, End time.Time }

func (w Window) proto() *protocommon.TimeRange {
	r := &protocommon.TimeRange{Start: timestamppb.New(w.Start)}
	if !w.End.IsZero() {
		r.End = timestamppb.New(w.End)
	}
	return r
}

// TrustedRoot lists what a verifier trusts.
type TrustedRoot struct {
	CAs    []TrustedCA
	TSAs   []TrustedTSA
	Logs   []TrustedLog
	V1Logs []TrustedV1Log
	CTLogs []TrustedCTLog
}

// TrustedV1Log is a Rekor v1-style log with its validity window.
type TrustedV1Log struct {
	Log    *V1Log
	Window Window
}

// TrustedCA is a CA with its validity window.
type TrustedCA struct {
	CA     *CA
	Window Window
}

// TrustedTSA is a TSA with its validity window.
type TrustedTSA struct {
	TSA    *TSA
	Window Window
}

// TrustedLog is a transparency log with its validity window.
type TrustedLog struct {
	Log    *Log
	Window Window
}

// TrustedCTLog is a CT log with its validity window.
type TrustedCTLog struct {
	CTLog  *CTLog
	Window Window
}

func chain(certs ...*x509.Certificate) *protocommon.X509CertificateChain {
	c := &protocommon.X509CertificateChain{}
	for _, cert := range certs {
		c.Certificates = append(c.Certificates, &protocommon.X509Certificate{RawBytes: cert.Raw})
	}
	return c
}

// JSON renders the trusted root as application/vnd.dev.sigstore.trustedroot+json;version=0.1.
func (r TrustedRoot) JSON() ([]byte, error) {
	tr := &prototrustroot.TrustedRoot{MediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}
	for _, c := range r.CAs {
		tr.CertificateAuthorities = append(tr.CertificateAuthorities, &prototrustroot.CertificateAuthority{
			Uri: "https://ca.example.test", CertChain: chain(c.CA.Intermediate, c.CA.Root), ValidFor: c.Window.proto(),
		})
	}
	for _, t := range r.TSAs {
		tr.TimestampAuthorities = append(tr.TimestampAuthorities, &prototrustroot.CertificateAuthority{
			Uri: "https://tsa.example.test", CertChain: chain(t.TSA.Leaf, t.TSA.Root), ValidFor: t.Window.proto(),
		})
	}
	for _, l := range r.Logs {
		der, err := x509.MarshalPKIXPublicKey(l.Log.Public)
		if err != nil {
			return nil, err
		}
		tr.Tlogs = append(tr.Tlogs, &prototrustroot.TransparencyLogInstance{
			BaseUrl:       l.Log.BaseURL,
			HashAlgorithm: protocommon.HashAlgorithm_SHA2_256,
			PublicKey:     &protocommon.PublicKey{RawBytes: der, KeyDetails: protocommon.PublicKeyDetails_PKIX_ED25519, ValidFor: l.Window.proto()},
			LogId:         &protocommon.LogId{KeyId: l.Log.ID[:]},
		})
	}
	for _, l := range r.V1Logs {
		der, err := x509.MarshalPKIXPublicKey(l.Log.Key.Public())
		if err != nil {
			return nil, err
		}
		tr.Tlogs = append(tr.Tlogs, &prototrustroot.TransparencyLogInstance{
			BaseUrl:       l.Log.BaseURL,
			HashAlgorithm: protocommon.HashAlgorithm_SHA2_256,
			PublicKey:     &protocommon.PublicKey{RawBytes: der, KeyDetails: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, ValidFor: l.Window.proto()},
			LogId:         &protocommon.LogId{KeyId: l.Log.ID[:]},
		})
	}
	for _, l := range r.CTLogs {
		der, err := x509.MarshalPKIXPublicKey(l.CTLog.Key.Public())
		if err != nil {
			return nil, err
		}
		tr.Ctlogs = append(tr.Ctlogs, &prototrustroot.TransparencyLogInstance{
			BaseUrl:       "https://ct.example.test",
			HashAlgorithm: protocommon.HashAlgorithm_SHA2_256,
			PublicKey:     &protocommon.PublicKey{RawBytes: der, KeyDetails: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, ValidFor: l.Window.proto()},
			LogId:         &protocommon.LogId{KeyId: l.CTLog.ID[:]},
		})
	}
	return protojson.Marshal(tr)
}

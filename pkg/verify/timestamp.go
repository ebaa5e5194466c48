package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/cosign-like/cosign-like/pkg/root"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
)

// verifyTimestamps checks every RFC 3161 timestamp of the bundle against the trusted root's
// timestamp authorities and returns their times. One timestamp that does not verify fails the
// whole bundle.
func (v *Verifier) verifyTimestamps(b *protobundle.Bundle, signature []byte) ([]time.Time, error) {
	var out []time.Time
	for i, t := range b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps() {
		ts, err := v.verifyTimestamp(t.GetSignedTimestamp(), signature)
		if err != nil {
			return nil, fmt.Errorf("%w: RFC 3161 timestamp %d: %w", ErrTimestamp, i, err)
		}
		out = append(out, ts)
	}
	return out, nil
}

// verifyTimestamp checks one timestamp response: it covers the signature (messageImprint), it
// is signed by the leaf of a timestamp authority in the trusted root whose chain is valid at the
// timestamp's time, and that time lies in the authority's validFor window.
func (v *Verifier) verifyTimestamp(der, signature []byte) (time.Time, error) {
	ts, err := timestamp.ParseResponse(der)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing: %w", err)
	}
	h := ts.HashAlgorithm
	if err := checkImprintHash(h); err != nil {
		return time.Time{}, err
	}
	hh := h.New()
	hh.Write(signature)
	if !bytes.Equal(hh.Sum(nil), ts.HashedMessage) {
		return time.Time{}, errors.New("messageImprint does not match the bundle's signature: the timestamp is for another signature")
	}
	if len(v.trusted.TimestampAuthorities()) == 0 {
		return time.Time{}, errors.New("the trusted root lists no timestamp authority")
	}
	var errs []error
	for _, tsa := range v.trusted.TimestampAuthorities() {
		err := verifyTimestampBy(ts, tsa)
		if err == nil {
			return ts.Time, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", tsa.URI, err))
	}
	return time.Time{}, fmt.Errorf("not signed by a timestamp authority of the trusted root valid at %s: %w",
		ts.Time.UTC().Format(time.RFC3339), errors.Join(errs...))
}

// checkImprintHash accepts only SHA-2 messageImprints: a SHA-1 imprint could be collided.
func checkImprintHash(h crypto.Hash) error {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return nil
	}
	return fmt.Errorf("messageImprint hash %s not accepted (SHA-256, SHA-384 or SHA-512)", h)
}

// verifyTimestampBy checks the token's signature and the signer's chain against one authority.
// The token's own embedded certificates are not trusted: its signer must be the authority's
// leaf certificate.
func verifyTimestampBy(ts *timestamp.Timestamp, tsa *root.CertificateAuthority) error {
	if !tsa.ValidAt(ts.Time) {
		return fmt.Errorf("time %s outside the authority's validFor window", ts.Time.UTC().Format(time.RFC3339))
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return fmt.Errorf("parsing token: %w", err)
	}
	if len(p7.Signers) != 1 {
		return fmt.Errorf("token has %d signers, want 1", len(p7.Signers))
	}
	if len(ts.Certificates) > 0 {
		signer := p7.GetOnlySigner()
		if signer == nil || !signer.Equal(tsa.Chain[0]) {
			return errors.New("token embeds a signing certificate that is not the authority's")
		}
	}
	p7.Certificates = []*x509.Certificate{tsa.Chain[0]}
	roots := x509.NewCertPool()
	roots.AddCert(tsa.Root())
	inter := x509.NewCertPool()
	for _, c := range tsa.Chain[1 : len(tsa.Chain)-1] {
		inter.AddCert(c)
	}
	if len(tsa.Chain) == 1 {
		// A lone self-signed TSA certificate is its own root.
		roots.AddCert(tsa.Chain[0])
	}
	err = p7.VerifyWithOpts(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   ts.Time,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return fmt.Errorf("signature or chain: %w", err)
	}
	return nil
}

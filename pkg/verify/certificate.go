package verify

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
)

// verifyCertificate checks that the leaf chains to a CA of the trusted root, with every
// certificate of the chain valid at each signing time and the CA inside its validFor window,
// and that its embedded SCTs verify against the trusted root's CT logs (when it lists any).
func (v *Verifier) verifyCertificate(leaf *x509.Certificate, times []time.Time, ignoreSCT bool) error {
	var chain []*x509.Certificate
	for _, t := range times {
		c, err := v.chainAt(leaf, t)
		if err != nil {
			return err
		}
		chain = c
	}
	if ignoreSCT || len(v.trusted.CTLogs()) == 0 {
		return nil
	}
	return v.verifySCTs(leaf, chain[1])
}

// withHandledOtherName returns leaf, or a shallow copy of it whose critical SAN extension is
// marked handled when it holds a Fulcio username otherName, which Go's x509 does not read but
// this package does (as Fulcio issues such certificates with a critical SAN).
func withHandledOtherName(leaf *x509.Certificate) *x509.Certificate {
	for i, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(oidSAN) {
			continue
		}
		for _, e := range leaf.Extensions {
			if e.Id.Equal(oidSAN) && len(otherNames(e.Value)) > 0 {
				c := *leaf
				c.UnhandledCriticalExtensions = append(append([]asn1.ObjectIdentifier(nil), leaf.UnhandledCriticalExtensions[:i]...), leaf.UnhandledCriticalExtensions[i+1:]...)
				return &c
			}
		}
	}
	return leaf
}

// chainAt finds a CA of the trusted root that issued leaf and was trusted at t.
func (v *Verifier) chainAt(leaf *x509.Certificate, t time.Time) ([]*x509.Certificate, error) {
	leaf = withHandledOtherName(leaf)
	if len(v.trusted.CertificateAuthorities()) == 0 {
		return nil, fmt.Errorf("%w: the trusted root lists no certificate authority", ErrCertificate)
	}
	var errs []error
	for _, ca := range v.trusted.CertificateAuthorities() {
		if !ca.ValidAt(t) {
			errs = append(errs, fmt.Errorf("%s: not trusted at %s (validFor window)", ca.URI, t.UTC().Format(time.RFC3339)))
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca.Root())
		inter := x509.NewCertPool()
		for _, c := range ca.Chain[:len(ca.Chain)-1] {
			inter.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   t,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ca.URI, err))
			continue
		}
		return chains[0], nil
	}
	return nil, fmt.Errorf("%w: certificate (valid %s to %s) does not chain to a trusted CA at signing time %s: %w", ErrCertificate,
		leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339), errors.Join(errs...))
}

// oidSCTList is the X.509 extension holding embedded SCTs.
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// verifySCTs requires at least one embedded SCT from a CT log of the trusted root that verifies
// over the leaf's precertificate; an SCT from a trusted log that does not verify fails.
func (v *Verifier) verifySCTs(leaf, issuer *x509.Certificate) error {
	hasExt := false
	for _, e := range leaf.Extensions {
		if e.Id.Equal(oidSCTList) {
			hasExt = true
		}
	}
	if !hasExt {
		return ErrNoSCT
	}
	ctLeaf, err := ctx509.ParseCertificate(leaf.Raw)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("%w: parsing the certificate: %w", ErrSCT, err)
	}
	ctIssuer, err := ctx509.ParseCertificate(issuer.Raw)
	if err != nil && ctx509.IsFatal(err) {
		return fmt.Errorf("%w: parsing the issuer: %w", ErrSCT, err)
	}
	scts, err := parseSCTList(&ctLeaf.SCTList)
	if err != nil {
		return fmt.Errorf("%w: parsing embedded SCTs: %w", ErrSCT, err)
	}
	if len(scts) == 0 {
		return fmt.Errorf("%w: the certificate's SCT list is empty", ErrSCT)
	}
	verified := 0
	var unknown []string
	for i, sct := range scts {
		id := sct.LogID.KeyID[:]
		log := v.trusted.CTLogByID(id)
		if log == nil {
			unknown = append(unknown, keyIDHex(id))
			continue
		}
		when := time.UnixMilli(int64(sct.Timestamp))
		if !log.ValidAt(when) {
			return fmt.Errorf("%w: SCT %d from CT log %s is dated %s, outside the log's validFor window", ErrSCT, i, log.BaseURL, when.UTC().Format(time.RFC3339))
		}
		if err := verifyEmbeddedSCT(log.PublicKey, ctLeaf, ctIssuer, sct); err != nil {
			return fmt.Errorf("%w: SCT %d from CT log %s does not verify: %w", ErrSCT, i, log.BaseURL, err)
		}
		verified++
	}
	if verified == 0 {
		return fmt.Errorf("%w: no SCT from a CT log of the trusted root (SCTs from unknown logs %v)", ErrSCT, unknown)
	}
	return nil
}

// parseSCTList decodes the TLS-encoded SCTs of a certificate's SCT list extension.
func parseSCTList(list *ctx509.SignedCertificateTimestampList) ([]*ct.SignedCertificateTimestamp, error) {
	scts := make([]*ct.SignedCertificateTimestamp, 0, len(list.SCTList))
	for i, data := range list.SCTList {
		var sct ct.SignedCertificateTimestamp
		rest, err := cttls.Unmarshal(data.Val, &sct)
		if err != nil {
			return nil, fmt.Errorf("SCT %d: %w", i, err)
		}
		if len(rest) > 0 {
			return nil, fmt.Errorf("SCT %d: %d bytes after it", i, len(rest))
		}
		scts = append(scts, &sct)
	}
	return scts, nil
}

// verifyEmbeddedSCT checks the signature of an SCT embedded in leaf: it signs the precertificate
// entry that leaf, without its SCT list, makes under issuer (RFC 6962 section 3.2). The root
// certificate-transparency-go package does this without its HTTP client code.
func verifyEmbeddedSCT(pub crypto.PublicKey, leaf, issuer *ctx509.Certificate, sct *ct.SignedCertificateTimestamp) error {
	sv, err := ct.NewSignatureVerifier(pub)
	if err != nil {
		return fmt.Errorf("CT log key: %w", err)
	}
	entry, err := ct.MerkleTreeLeafForEmbeddedSCT([]*ctx509.Certificate{leaf, issuer}, sct.Timestamp)
	if err != nil {
		return fmt.Errorf("building the precertificate entry: %w", err)
	}
	return sv.VerifySCTSignature(*sct, ct.LogEntry{Leaf: *entry})
}

package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/certext"
)

var (
	oidSAN           = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidOtherNameUser = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 7}
)

// subjectAlternativeNames lists the SAN values of a certificate: emails, URIs, DNS names and
// Fulcio's otherName username.
func subjectAlternativeNames(cert *x509.Certificate) []string {
	var out []string
	out = append(out, cert.EmailAddresses...)
	for _, u := range cert.URIs {
		out = append(out, u.String())
	}
	out = append(out, cert.DNSNames...)
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSAN) {
			out = append(out, otherNames(e.Value)...)
		}
	}
	return out
}

// otherNames extracts the UTF8String values of Fulcio username otherNames from a SAN extension.
func otherNames(der []byte) []string {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 || !seq.IsCompound {
		return nil
	}
	var out []string
	rest := seq.Bytes
	for len(rest) > 0 {
		var gn asn1.RawValue
		var err error
		rest, err = asn1.Unmarshal(rest, &gn)
		if err != nil {
			return out
		}
		if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 {
			continue
		}
		var on struct {
			TypeID asn1.ObjectIdentifier
			Value  string `asn1:"explicit,tag:0,utf8"`
		}
		// Read the [0] IMPLICIT otherName as the SEQUENCE it stands for.
		full := append([]byte{0x30}, gn.FullBytes[1:]...)
		if rest, err := asn1.Unmarshal(full, &on); err == nil && len(rest) == 0 && on.TypeID.Equal(oidOtherNameUser) {
			out = append(out, on.Value)
		}
	}
	return out
}

// matchIdentity checks the certificate's SAN, issuer and GitHub workflow extensions against the
// policy.
func matchIdentity(cert *x509.Certificate, id *compiledIdentity) (*CertificateIdentity, error) {
	ext, err := certext.Parse(cert)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the certificate's Fulcio extensions: %w", ErrCertificate, err)
	}
	ci := &CertificateIdentity{
		SubjectAlternativeNames: subjectAlternativeNames(cert),
		Issuer:                  ext.OIDCIssuer(),
		Extensions:              ext,
	}
	if len(ci.SubjectAlternativeNames) == 0 {
		return nil, fmt.Errorf("%w: the certificate names no identity (no subject alternative name)", ErrIdentityMismatch)
	}
	// Fulcio names one identity per certificate. A certificate with several, from another CA in
	// the trusted root, would let a policy on one of them accept a signer that is also another.
	if n := len(ci.SubjectAlternativeNames); n > 1 {
		return nil, fmt.Errorf("%w: the certificate names %d identities (%s); a signing certificate must name exactly one", ErrIdentityMismatch, n, strings.Join(ci.SubjectAlternativeNames, ", "))
	}
	// No issuer policy, exact or pattern, matches a certificate that names no issuer: a pattern
	// such as ".*" must not make the issuer optional.
	if ci.Issuer == "" {
		return nil, fmt.Errorf("%w: the certificate names no OIDC issuer (neither the %s nor the deprecated %s extension)", ErrIdentityMismatch, certext.OIDIssuerV2, certext.OIDIssuer)
	}
	matched := false
	for _, san := range ci.SubjectAlternativeNames {
		if (id.subject != nil && id.subject.MatchString(san)) || (id.subject == nil && san == id.Subject) {
			matched = true
		}
	}
	if !matched {
		want := id.Subject
		if id.subject != nil {
			want = "a match of " + id.subject.String()
		}
		return nil, fmt.Errorf("%w: want identity %s, certificate has %s", ErrIdentityMismatch, want, strings.Join(ci.SubjectAlternativeNames, ", "))
	}
	if id.issuer != nil {
		if !id.issuer.MatchString(ci.Issuer) {
			return nil, fmt.Errorf("%w: want an OIDC issuer matching %s, certificate has %q", ErrIdentityMismatch, id.issuer.String(), ci.Issuer)
		}
	} else if ci.Issuer != id.Issuer {
		return nil, fmt.Errorf("%w: want OIDC issuer %s, certificate has %q", ErrIdentityMismatch, id.Issuer, ci.Issuer)
	}
	checks := []struct{ name, want, got string }{
		{"GitHub workflow repository", id.GitHubWorkflowRepository, ext.GithubWorkflowRepository},
		{"GitHub workflow ref", id.GitHubWorkflowRef, ext.GithubWorkflowRef},
		{"GitHub workflow SHA", id.GitHubWorkflowSHA, ext.GithubWorkflowSHA},
		{"GitHub workflow trigger", id.GitHubWorkflowTrigger, ext.GithubWorkflowTrigger},
		{"GitHub workflow name", id.GitHubWorkflowName, ext.GithubWorkflowName},
	}
	for _, c := range checks {
		if c.want != "" && c.want != c.got {
			return nil, fmt.Errorf("%w: want %s %q, certificate has %q", ErrIdentityMismatch, c.name, c.want, c.got)
		}
	}
	return ci, nil
}

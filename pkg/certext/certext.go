package certext

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The Fulcio extension OIDs under 1.3.6.1.4.1.57264.1. OIDs .1 to .6 are deprecated and hold raw
// bytes; .8 onwards hold a DER UTF8String. .7 is the OtherName SAN type (OIDOtherName), which lives
// inside the SubjectAlternativeName extension rather than in an extension of its own.
var (
	OIDIssuer                              = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	OIDGithubWorkflowTrigger               = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 2}
	OIDGithubWorkflowSHA                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 3}
	OIDGithubWorkflowName                  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 4}
	OIDGithubWorkflowRepository            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 5}
	OIDGithubWorkflowRef                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 6}
	OIDOtherName                           = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 7}
	OIDIssuerV2                            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	OIDBuildSignerURI                      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 9}
	OIDBuildSignerDigest                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 10}
	OIDRunnerEnvironment                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 11}
	OIDSourceRepositoryURI                 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 12}
	OIDSourceRepositoryDigest              = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 13}
	OIDSourceRepositoryRef                 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 14}
	OIDSourceRepositoryIdentifier          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 15}
	OIDSourceRepositoryOwnerURI            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 16}
	OIDSourceRepositoryOwnerIdentifier     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 17}
	OIDBuildConfigURI                      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 18}
	OIDBuildConfigDigest                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 19}
	OIDBuildTrigger                        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 20}
	OIDRunInvocationURI                    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 21}
	OIDSourceRepositoryVisibilityAtSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 22}
	OIDDeploymentEnvironment               = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 23}
)

// ErrMalformed is wrapped by Parse when an extension that must hold a DER UTF8String does not.
var ErrMalformed = errors.New("malformed Fulcio extension")

// Extensions are the Fulcio certificate extensions under OID arc 1.3.6.1.4.1.57264.1. An empty
// field means the extension is absent.
type Extensions struct {
	// Issuer (.1, deprecated) is the token issuer, stored as raw bytes.
	Issuer string
	// GithubWorkflowTrigger (.2, deprecated, raw) is the event_name claim of a GitHub token.
	GithubWorkflowTrigger string
	// GithubWorkflowSHA (.3, deprecated, raw) is the sha claim of a GitHub token.
	GithubWorkflowSHA string
	// GithubWorkflowName (.4, deprecated, raw) is the workflow claim of a GitHub token.
	GithubWorkflowName string
	// GithubWorkflowRepository (.5, deprecated, raw) is the repository claim of a GitHub token.
	GithubWorkflowRepository string
	// GithubWorkflowRef (.6, deprecated, raw) is the ref claim of a GitHub token.
	GithubWorkflowRef string

	// IssuerV2 (.8) is the token issuer as a DER UTF8String.
	IssuerV2 string
	// BuildSignerURI (.9) names the build instructions that signed.
	BuildSignerURI string
	// BuildSignerDigest (.10) pins the version of those instructions.
	BuildSignerDigest string
	// RunnerEnvironment (.11) is where the build ran, e.g. github-hosted or self-hosted.
	RunnerEnvironment string
	// SourceRepositoryURI (.12) is the source repository the build was based on.
	SourceRepositoryURI string
	// SourceRepositoryDigest (.13) is the source revision, e.g. a commit SHA.
	SourceRepositoryDigest string
	// SourceRepositoryRef (.14) is the source ref, e.g. refs/heads/main.
	SourceRepositoryRef string
	// SourceRepositoryIdentifier (.15) is the immutable identifier of the source repository.
	SourceRepositoryIdentifier string
	// SourceRepositoryOwnerURI (.16) is the owner of the source repository.
	SourceRepositoryOwnerURI string
	// SourceRepositoryOwnerIdentifier (.17) is the immutable identifier of that owner.
	SourceRepositoryOwnerIdentifier string
	// BuildConfigURI (.18) is the top-level build configuration.
	BuildConfigURI string
	// BuildConfigDigest (.19) pins the version of the build configuration.
	BuildConfigDigest string
	// BuildTrigger (.20) is the event that started the build.
	BuildTrigger string
	// RunInvocationURI (.21) identifies the build run.
	RunInvocationURI string
	// SourceRepositoryVisibilityAtSigning (.22) is e.g. public or private.
	SourceRepositoryVisibilityAtSigning string
	// DeploymentEnvironment (.23) is the deployment target of the job, e.g. production.
	DeploymentEnvironment string
}

// field ties an OID to the Extensions field it fills; raw marks the deprecated raw encoding.
type field struct {
	oid asn1.ObjectIdentifier
	raw bool
	ptr func(*Extensions) *string
}

// fields lists every extension in the order Fulcio renders them.
func fields() []field {
	return []field{
		{OIDIssuer, true, func(e *Extensions) *string { return &e.Issuer }},
		{OIDGithubWorkflowTrigger, true, func(e *Extensions) *string { return &e.GithubWorkflowTrigger }},
		{OIDGithubWorkflowSHA, true, func(e *Extensions) *string { return &e.GithubWorkflowSHA }},
		{OIDGithubWorkflowName, true, func(e *Extensions) *string { return &e.GithubWorkflowName }},
		{OIDGithubWorkflowRepository, true, func(e *Extensions) *string { return &e.GithubWorkflowRepository }},
		{OIDGithubWorkflowRef, true, func(e *Extensions) *string { return &e.GithubWorkflowRef }},
		{OIDIssuerV2, false, func(e *Extensions) *string { return &e.IssuerV2 }},
		{OIDBuildSignerURI, false, func(e *Extensions) *string { return &e.BuildSignerURI }},
		{OIDBuildSignerDigest, false, func(e *Extensions) *string { return &e.BuildSignerDigest }},
		{OIDRunnerEnvironment, false, func(e *Extensions) *string { return &e.RunnerEnvironment }},
		{OIDSourceRepositoryURI, false, func(e *Extensions) *string { return &e.SourceRepositoryURI }},
		{OIDSourceRepositoryDigest, false, func(e *Extensions) *string { return &e.SourceRepositoryDigest }},
		{OIDSourceRepositoryRef, false, func(e *Extensions) *string { return &e.SourceRepositoryRef }},
		{OIDSourceRepositoryIdentifier, false, func(e *Extensions) *string { return &e.SourceRepositoryIdentifier }},
		{OIDSourceRepositoryOwnerURI, false, func(e *Extensions) *string { return &e.SourceRepositoryOwnerURI }},
		{OIDSourceRepositoryOwnerIdentifier, false, func(e *Extensions) *string { return &e.SourceRepositoryOwnerIdentifier }},
		{OIDBuildConfigURI, false, func(e *Extensions) *string { return &e.BuildConfigURI }},
		{OIDBuildConfigDigest, false, func(e *Extensions) *string { return &e.BuildConfigDigest }},
		{OIDBuildTrigger, false, func(e *Extensions) *string { return &e.BuildTrigger }},
		{OIDRunInvocationURI, false, func(e *Extensions) *string { return &e.RunInvocationURI }},
		{OIDSourceRepositoryVisibilityAtSigning, false, func(e *Extensions) *string { return &e.SourceRepositoryVisibilityAtSigning }},
		{OIDDeploymentEnvironment, false, func(e *Extensions) *string { return &e.DeploymentEnvironment }},
	}
}

// Parse reads the Fulcio extensions of cert. Extensions outside the Fulcio arc are ignored. A .8+
// extension that is not exactly one DER UTF8String gives an error wrapping ErrMalformed.
func Parse(cert *x509.Certificate) (Extensions, error) {
	var out Extensions
	if cert == nil {
		return out, errors.New("parsing Fulcio extensions: nil certificate")
	}
	return ParseExtensions(cert.Extensions)
}

// ParseExtensions is Parse on a list of extensions (for example those of a CSR or a TBS
// certificate that is not yet signed).
func ParseExtensions(exts []pkix.Extension) (Extensions, error) {
	var out Extensions
	fs := fields()
	for _, ext := range exts {
		for _, f := range fs {
			if !ext.Id.Equal(f.oid) {
				continue
			}
			if f.raw {
				*f.ptr(&out) = string(ext.Value)
				break
			}
			s, err := parseUTF8String(ext.Value)
			if err != nil {
				return Extensions{}, fmt.Errorf("%w: extension %s: %w", ErrMalformed, f.oid, err)
			}
			*f.ptr(&out) = s
			break
		}
	}
	return out, nil
}

// parseUTF8String decodes exactly one DER UTF8String with nothing after it.
func parseUTF8String(der []byte) (string, error) {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(der, &raw)
	if err != nil {
		return "", fmt.Errorf("not DER: %w", err)
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("%d trailing bytes after the string", len(rest))
	}
	if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagUTF8String || raw.IsCompound {
		return "", fmt.Errorf("ASN.1 class %d tag %d, want a universal UTF8String", raw.Class, raw.Tag)
	}
	var s string
	if _, err := asn1.UnmarshalWithParams(der, &s, "utf8"); err != nil {
		return "", fmt.Errorf("invalid UTF8String: %w", err)
	}
	return s, nil
}

// Render encodes the non-empty fields as non-critical extensions, in OID order, exactly as Fulcio
// renders them: raw bytes for .1-.6, a DER UTF8String for .8 onwards.
func (e Extensions) Render() ([]pkix.Extension, error) {
	var exts []pkix.Extension
	for _, f := range fields() {
		v := *f.ptr(&e)
		if v == "" {
			continue
		}
		value := []byte(v)
		if !f.raw {
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("encoding extension %s: value is not valid UTF-8", f.oid)
			}
			der, err := asn1.MarshalWithParams(v, "utf8")
			if err != nil {
				return nil, fmt.Errorf("encoding extension %s: %w", f.oid, err)
			}
			value = der
		}
		exts = append(exts, pkix.Extension{Id: f.oid, Value: value})
	}
	return exts, nil
}

// OIDCIssuer is the issuer of the token the certificate was issued for: IssuerV2 (.8), falling
// back to the deprecated Issuer (.1).
func (e Extensions) OIDCIssuer() string {
	if e.IssuerV2 != "" {
		return e.IssuerV2
	}
	return e.Issuer
}

package verify

import (
	"crypto"
	"fmt"
	"regexp"
)

// Identity is what a certificate must name in identity mode. Subject (the SAN: email, URI or
// other name) and Issuer (the OIDC issuer, extension .8 falling back to .1) are matched
// exactly, or by SubjectRegexp/IssuerRegexp against the whole value (each pattern is wrapped as
// ^(?:...)$, which is stricter than cosign). One of Subject and SubjectRegexp, and one of
// Issuer and IssuerRegexp, is required. The GitHub workflow fields, when set, must equal the
// certificate's extensions (.5/.6/.3/.2/.4, as cosign checks them).
type Identity struct {
	Subject       string
	SubjectRegexp string
	Issuer        string
	IssuerRegexp  string

	GitHubWorkflowRepository string
	GitHubWorkflowRef        string
	GitHubWorkflowSHA        string
	GitHubWorkflowTrigger    string
	GitHubWorkflowName       string
}

// Policy is what Verify demands of a bundle.
type Policy struct {
	// Key, in key mode, is the public key the signature must verify under.
	Key crypto.PublicKey
	// Identity, in identity mode, is what the signing certificate must name. Exactly one of Key
	// and Identity is set.
	Identity *Identity
	// TlogThreshold is how many distinct transparency logs must vouch for the signature
	// (default 1).
	TlogThreshold int
	// UnsafeIgnoreTlog accepts a bundle without verified transparency log entries
	// (--insecure-ignore-tlog). Entries present are not checked.
	UnsafeIgnoreTlog bool
	// UnsafeIgnoreSCT accepts a certificate without verified SCTs (--insecure-ignore-sct).
	UnsafeIgnoreSCT bool
}

// compiledIdentity is an Identity with its patterns compiled.
type compiledIdentity struct {
	Identity
	subject, issuer *regexp.Regexp
}

// wholeMatch compiles a pattern so that it must match the whole value.
func wholeMatch(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + pattern + ")$")
}

// check validates a policy and compiles its identity patterns.
func (p Policy) check() (*compiledIdentity, error) {
	if p.Key != nil && p.Identity != nil {
		return nil, fmt.Errorf("%w: both a key and an identity given: choose one", ErrPolicy)
	}
	if p.Key == nil && p.Identity == nil {
		return nil, fmt.Errorf("%w: neither a key nor an identity given", ErrPolicy)
	}
	if p.TlogThreshold < 0 {
		return nil, fmt.Errorf("%w: negative tlog threshold %d", ErrPolicy, p.TlogThreshold)
	}
	if p.TlogThreshold > 0 && p.UnsafeIgnoreTlog {
		return nil, fmt.Errorf("%w: a tlog threshold and ignoring the tlog conflict", ErrPolicy)
	}
	if p.Identity == nil {
		return nil, nil
	}
	id := p.Identity
	ci := &compiledIdentity{Identity: *id}
	switch {
	case id.Subject != "" && id.SubjectRegexp != "":
		return nil, fmt.Errorf("%w: both a certificate identity and an identity regexp given", ErrPolicy)
	case id.Subject == "" && id.SubjectRegexp == "":
		return nil, fmt.Errorf("%w: a certificate identity or identity regexp is required", ErrPolicy)
	case id.SubjectRegexp != "":
		re, err := wholeMatch(id.SubjectRegexp)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate identity regexp: %w", ErrPolicy, err)
		}
		ci.subject = re
	}
	switch {
	case id.Issuer != "" && id.IssuerRegexp != "":
		return nil, fmt.Errorf("%w: both an OIDC issuer and an issuer regexp given", ErrPolicy)
	case id.Issuer == "" && id.IssuerRegexp == "":
		return nil, fmt.Errorf("%w: a certificate OIDC issuer or issuer regexp is required", ErrPolicy)
	case id.IssuerRegexp != "":
		re, err := wholeMatch(id.IssuerRegexp)
		if err != nil {
			return nil, fmt.Errorf("%w: OIDC issuer regexp: %w", ErrPolicy, err)
		}
		ci.issuer = re
	}
	return ci, nil
}

func (p Policy) threshold() int {
	if p.TlogThreshold == 0 {
		return 1
	}
	return p.TlogThreshold
}

package main

import (
	"crypto/x509"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// maxTrustFile bounds trusted root and signing config files.
const maxTrustFile = 16 << 20

// identityOptions are the flags that say which certificate identity must have signed.
type identityOptions struct {
	identity, identityRegexp string
	issuer, issuerRegexp     string
	ghRepository, ghRef      string
	ghSHA, ghTrigger, ghName string
	ignoreSCT                bool
}

func (o *identityOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.identity, "certificate-identity", "", "the identity the certificate must name (email or URI), exactly")
	fs.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "a regular expression the whole certificate identity must match (anchored: stricter than cosign)")
	fs.StringVar(&o.issuer, "certificate-oidc-issuer", "", "the OIDC issuer the certificate must name, exactly")
	fs.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "a regular expression the whole OIDC issuer must match (anchored)")
	fs.StringVar(&o.ghRepository, "certificate-github-workflow-repository", "", "the GitHub workflow repository the certificate must name")
	fs.StringVar(&o.ghRef, "certificate-github-workflow-ref", "", "the GitHub workflow ref the certificate must name")
	fs.StringVar(&o.ghSHA, "certificate-github-workflow-sha", "", "the GitHub workflow commit SHA the certificate must name")
	fs.StringVar(&o.ghTrigger, "certificate-github-workflow-trigger", "", "the GitHub workflow trigger the certificate must name")
	fs.StringVar(&o.ghName, "certificate-github-workflow-name", "", "the GitHub workflow name the certificate must name")
	fs.BoolVar(&o.ignoreSCT, "insecure-ignore-sct", false, "UNSAFE: accept certificates without a verified SCT from a trusted CT log")
}

func (o *identityOptions) given() bool {
	return o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != ""
}

// verificationOptions are every flag a verifying command shares: key or identity, log, trust.
type verificationOptions struct {
	key      keyOptions
	identity identityOptions
	tlog     tlogOptions
	trust    trustOptions
	witness  witnessOptions
	// trustedRoot is the trusted root that build found.
	trustedRoot *root.TrustedRoot
}

func (o *verificationOptions) addFlags(fs *pflag.FlagSet) {
	o.key.addVerifyFlags(fs)
	o.identity.addFlags(fs)
	o.tlog.addVerifyFlags(fs)
	o.trust.addFlags(fs)
	o.trust.addOfflineFlag(fs)
	o.witness.addFlags(fs)
}

// build makes the verifier and policy that the flags describe.
func (o *verificationOptions) build(cmd *cobra.Command) (*verify.Verifier, verify.Policy, error) {
	var policy verify.Policy
	switch {
	case o.key.key != "" && o.identity.given():
		return nil, policy, fmt.Errorf("--key and --certificate-identity/--certificate-oidc-issuer exclude each other: give one")
	case o.key.key != "":
		pub, err := signer.LoadPublicKey(cmd.Context(), o.key.key)
		if err != nil {
			return nil, policy, err
		}
		policy.Key = pub
	case o.identity.given():
		id := o.identity
		if (id.identity == "") == (id.identityRegexp == "") {
			return nil, policy, fmt.Errorf("give exactly one of --certificate-identity and --certificate-identity-regexp")
		}
		if (id.issuer == "") == (id.issuerRegexp == "") {
			return nil, policy, fmt.Errorf("give exactly one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp")
		}
		policy.Identity = &verify.Identity{
			Subject: id.identity, SubjectRegexp: id.identityRegexp,
			Issuer: id.issuer, IssuerRegexp: id.issuerRegexp,
			GitHubWorkflowRepository: id.ghRepository, GitHubWorkflowRef: id.ghRef,
			GitHubWorkflowSHA: id.ghSHA, GitHubWorkflowTrigger: id.ghTrigger, GitHubWorkflowName: id.ghName,
		}
		policy.UnsafeIgnoreSCT = id.ignoreSCT
		if id.ignoreSCT {
			fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --insecure-ignore-sct: certificates are accepted without certificate transparency")
		}
	default:
		return nil, policy, fmt.Errorf("say who must have signed: give --key, or --certificate-identity and --certificate-oidc-issuer")
	}
	policy.UnsafeIgnoreTlog = o.tlog.ignoreTlog
	if o.tlog.ignoreTlog {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --insecure-ignore-tlog: signatures are accepted without a transparency log entry")
	}
	trusted, err := loadTrustedRoot(cmd.Context(), o.trust.trustedRoot, o.trust.offline)
	if err != nil {
		return nil, policy, err
	}
	if trusted == nil && (policy.Identity != nil || !o.tlog.ignoreTlog) {
		return nil, policy, errNoTrustedRoot
	}
	o.trustedRoot = trusted
	var opts []verify.Option
	witnesses, err := o.witness.load()
	if err != nil {
		return nil, policy, err
	}
	if witnesses != nil {
		opts = append(opts, verify.WithWitnessPolicy(witnesses))
	}
	v, err := verify.New(trusted, opts...)
	if err != nil {
		return nil, policy, err
	}
	return v, policy, nil
}

// checkLogs runs the online log check after verification (unless offline or the log is
// ignored): see cosign.CheckLogConsistency.
func (o *verificationOptions) checkLogs(cmd *cobra.Command, results ...*verify.Result) error {
	if o.trust.offline || o.tlog.ignoreTlog || o.trustedRoot == nil {
		return nil
	}
	var entries []verify.TlogEntry
	for _, r := range results {
		if r != nil {
			entries = append(entries, r.TlogEntries...)
		}
	}
	stateDir, err := logclient.DefaultStateDir()
	if err != nil {
		return err
	}
	return cosign.CheckLogConsistency(cmd.Context(), o.trustedRoot, stateDir, entries)
}

// certificateIdentity returns what a certificate names: its first email or URI SAN.
func certificateIdentity(c *x509.Certificate) string {
	if len(c.EmailAddresses) > 0 {
		return c.EmailAddresses[0]
	}
	if len(c.URIs) > 0 {
		return c.URIs[0].String()
	}
	return ""
}

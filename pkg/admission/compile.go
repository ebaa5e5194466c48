package admission

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// Trust is the trust material policies are verified against.
type Trust struct {
	// Default is the trusted root of every authority that names no trustRootRef (nil: only
	// key authorities without ctlog can be verified).
	Default *root.TrustedRoot
	// Named are the trusted roots a trustRootRef picks by name.
	Named map[string]*root.TrustedRoot
}

// ErrPolicySetup is wrapped by the errors of policies that cannot be put to work (a key that
// does not load, a trust root that is not given, a Rego module or CUE policy that does not
// compile).
var ErrPolicySetup = errors.New("policy cannot be used")

// compiled is a ClusterImagePolicy made ready to decide.
type compiled struct {
	doc         *policy.ClusterImagePolicy
	hash        string // of the spec: the cache key part that changes when the policy does
	authorities []*authority
	check       *attest.Policy // spec.policy (Rego or CUE), or nil
}

// authority is one authority, ready to check.
type authority struct {
	name     string
	static   *policy.StaticRef
	verifier *verify.Verifier
	// policies are what a signature must satisfy: one per keyless identity (any suffices), or
	// the one key.
	policies []verify.Policy
	// attestations, when any, are what the authority checks instead of signatures.
	attestations []wantedAttestation
	layouts      map[oci.Layout]bool // the layouts read (signatureFormat)
	source       source
}

type wantedAttestation struct {
	name, predicateType string
	check               *attest.Policy // the attestation's policy (Rego or CUE), or nil
}

// source is where an authority's signatures are listed: a repository (empty: the image's own)
// and a legacy tag prefix.
type source struct {
	repo      string
	tagPrefix string
}

// compile makes policies ready to decide; it fails naming the policy, its file and the field.
func compile(ctx context.Context, docs []*policy.ClusterImagePolicy, trust Trust) ([]*compiled, error) {
	var out []*compiled
	var errs []error
	for _, d := range docs {
		c, err := compileOne(ctx, d, trust)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func compileOne(ctx context.Context, d *policy.ClusterImagePolicy, trust Trust) (*compiled, error) {
	spec, err := json.Marshal(d.Spec)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spec)
	c := &compiled{doc: d, hash: hex.EncodeToString(sum[:])}
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: policy %q: %s: %s", ErrPolicySetup, d.Source, d.Metadata.Name, field, fmt.Sprintf(format, args...))
	}
	if p := d.Spec.Policy; p != nil {
		if c.check, err = compilePolicyRef(ctx, d.Metadata.Name+".spec.policy", p); err != nil {
			return nil, fail("spec.policy.data", "%v", err)
		}
	}
	for i, a := range d.Spec.Authorities {
		path := fmt.Sprintf("spec.authorities[%d]", i)
		au, err := compileAuthority(ctx, a, trust, func(field, format string, args ...any) error {
			return fail(path+field, format, args...)
		})
		if err != nil {
			return nil, err
		}
		c.authorities = append(c.authorities, au)
	}
	return c, nil
}

func compileAuthority(ctx context.Context, a policy.Authority, trust Trust, fail func(field, format string, args ...any) error) (*authority, error) {
	au := &authority{name: a.Name, static: a.Static, layouts: map[oci.Layout]bool{oci.LayoutBundle: true, oci.LayoutLegacy: true}}
	if a.Static != nil {
		return au, nil
	}
	switch a.SignatureFormat {
	case policy.FormatLegacy:
		au.layouts = map[oci.Layout]bool{oci.LayoutLegacy: true}
	case policy.FormatBundle:
		au.layouts = map[oci.Layout]bool{oci.LayoutBundle: true}
	}
	if len(a.Sources) == 1 {
		s := a.Sources[0]
		if s.OCI != "" {
			repo, err := name.NewRepository(s.OCI)
			if err != nil {
				return nil, fail(".source[0].oci", "%v", err)
			}
			au.source.repo = repo.String()
		}
		if s.TagPrefix != nil {
			au.source.tagPrefix = *s.TagPrefix
		}
	}
	tr, err := trustFor(a, trust, fail)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Key != nil:
		var pub crypto.PublicKey
		if a.Key.Data != "" {
			pub, err = signer.ParsePublicKeyPEM([]byte(a.Key.Data))
		} else {
			pub, err = signer.LoadPublicKey(ctx, a.Key.KMS)
		}
		if err != nil {
			return nil, fail(".key", "%v", err)
		}
		// As policy-controller does, a key authority without ctlog does not ask for a log entry.
		p := verify.Policy{Key: pub, UnsafeIgnoreTlog: a.CTLog == nil}
		if !p.UnsafeIgnoreTlog && tr == nil {
			return nil, fail(".ctlog", "a transparency log entry is required, and there is no trusted root to check it against: give --trusted-root")
		}
		au.policies = []verify.Policy{p}
	case a.Keyless != nil:
		if tr == nil {
			return nil, fail(".keyless", "keyless verification needs a trusted root: give --trusted-root")
		}
		if a.Keyless.CACert != nil {
			chain, err := pki.ParseCertificates([]byte(a.Keyless.CACert.Data))
			if err != nil {
				return nil, fail(".keyless.ca-cert.data", "%v", err)
			}
			tr = tr.WithCertificateAuthorities(&root.CertificateAuthority{Chain: chain})
		}
		ignoreSCT := a.Keyless.InsecureIgnoreSCT != nil && *a.Keyless.InsecureIgnoreSCT
		for _, id := range a.Keyless.Identities {
			au.policies = append(au.policies, verify.Policy{
				Identity: &verify.Identity{Subject: id.Subject, SubjectRegexp: id.SubjectRegExp, Issuer: id.Issuer, IssuerRegexp: id.IssuerRegExp},
				// With an RFC 3161 authority, the timestamp gives the signing time and no log
				// entry is asked for, as policy-controller has it.
				UnsafeIgnoreTlog: a.RFC3161Timestamp != nil,
				UnsafeIgnoreSCT:  ignoreSCT,
			})
		}
	}
	if au.verifier, err = verify.New(tr); err != nil {
		return nil, fail("", "%v", err)
	}
	for i, at := range a.Attestations {
		uri, err := attest.PredicateType(at.PredicateType)
		if err != nil {
			return nil, fail(fmt.Sprintf(".attestations[%d].predicateType", i), "%v", err)
		}
		w := wantedAttestation{name: at.Name, predicateType: uri}
		if at.Policy != nil {
			if w.check, err = compilePolicyRef(ctx, at.Name, at.Policy); err != nil {
				return nil, fail(fmt.Sprintf(".attestations[%d].policy.data", i), "%v", err)
			}
		}
		au.attestations = append(au.attestations, w)
	}
	return au, nil
}

// compilePolicyRef compiles a policy in its language: Rego in policy-controller's form (package
// sigstore, rule isCompliant), or CUE, which the input must unify with.
func compilePolicyRef(ctx context.Context, name string, p *policy.PolicyRef) (*attest.Policy, error) {
	if p.Type == policy.TypeCUE {
		return attest.CompileCUEPolicy(name, []byte(p.Data))
	}
	return attest.CompileCompliancePolicy(ctx, name, []byte(p.Data))
}

// trustFor picks the trusted root an authority names (keyless, ctlog and rfc3161timestamp
// must name the same one), or the default.
func trustFor(a policy.Authority, trust Trust, fail func(field, format string, args ...any) error) (*root.TrustedRoot, error) {
	refs := map[string]string{}
	if a.Keyless != nil && a.Keyless.TrustRootRef != "" {
		refs[".keyless.trustRootRef"] = a.Keyless.TrustRootRef
	}
	if a.CTLog != nil && a.CTLog.TrustRootRef != "" {
		refs[".ctlog.trustRootRef"] = a.CTLog.TrustRootRef
	}
	if a.RFC3161Timestamp != nil && a.RFC3161Timestamp.TrustRootRef != "" {
		refs[".rfc3161timestamp.trustRootRef"] = a.RFC3161Timestamp.TrustRootRef
	}
	ref := ""
	for field, r := range refs {
		if ref != "" && r != ref {
			return nil, fail(field, "%q differs from the authority's other trustRootRef %q: an authority is verified against one trust root", r, ref)
		}
		ref = r
	}
	if ref == "" {
		return trust.Default, nil
	}
	tr, ok := trust.Named[ref]
	if !ok {
		names := make([]string, 0, len(trust.Named))
		for n := range trust.Named {
			names = append(names, n)
		}
		have := "none is given"
		if len(names) > 0 {
			have = "given: " + strings.Join(names, ", ")
		}
		return nil, fail(".trustRootRef", "trust root %q is not known (--trust-root NAME=FILE; %s)", ref, have)
	}
	return tr, nil
}

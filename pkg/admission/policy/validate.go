package policy

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// checker collects the problems of one document.
type checker struct {
	source string
	errs   []error
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Source: c.source, Path: path, Message: fmt.Sprintf(format, args...)})
}

// Validate checks a decoded document as policy-controller's validator does, and refuses what
// cosign-like does not honour (fields that need a cluster, remote policies), naming each
// field. It fills in the defaults policy-controller sets: mode enforce, and authority names
// authority-<index>.
func (p *ClusterImagePolicy) Validate() error {
	c := &checker{source: p.Source}
	p.globs = nil
	if p.Metadata.Name == "" {
		c.fail("metadata.name", "required")
	}
	s := &p.Spec
	if len(s.Images) == 0 {
		c.fail("spec.images", "at least one image glob is required")
	}
	for i, img := range s.Images {
		path := fmt.Sprintf("spec.images[%d].glob", i)
		if img.Glob == "" {
			c.fail(path, "required")
		} else if g, err := CompileGlob(img.Glob); err != nil {
			c.fail(path, "%v", err)
		} else {
			p.globs = append(p.globs, g)
		}
	}
	switch s.Mode {
	case "":
		s.Mode = ModeEnforce
	case ModeEnforce, ModeWarn:
	default:
		c.fail("spec.mode", "%q is not a mode: want enforce or warn", s.Mode)
	}
	for i, m := range s.Match {
		path := fmt.Sprintf("spec.match[%d]", i)
		if m.ResourceSelector != nil && m.Resource == "" && m.Version == "" && m.Group == "" {
			c.fail(path+".selector", "a selector needs a resource type (group, version, resource) to match the labels of")
		}
		if m.ResourceSelector != nil {
			if _, err := labelSelector(m.ResourceSelector); err != nil {
				c.fail(path+".selector", "%v", err)
			}
		}
	}
	if s.Policy != nil {
		c.policy("spec.policy", s.Policy, true)
	}
	names := map[string]bool{}
	for i := range s.Authorities {
		a := &s.Authorities[i]
		if a.Name == "" {
			a.Name = fmt.Sprintf("authority-%d", i)
		}
		path := fmt.Sprintf("spec.authorities[%d]", i)
		if names[a.Name] {
			c.fail(path+".name", "%q names another authority of this policy too", a.Name)
		}
		names[a.Name] = true
		c.authority(path, a)
	}
	return errors.Join(c.errs...)
}

func (c *checker) authority(path string, a *Authority) {
	n := 0
	for _, set := range []bool{a.Key != nil, a.Keyless != nil, a.Static != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		c.fail(path, "expected exactly one, got neither: key, keyless, static")
		return
	case n > 1:
		c.fail(path, "expected exactly one, got more than one: key, keyless, static")
		return
	}
	if a.Key != nil {
		c.key(path+".key", a.Key)
	}
	if a.Keyless != nil {
		c.keyless(path+".keyless", a.Keyless)
	}
	if a.Static != nil {
		switch a.Static.Action {
		case "pass", "fail":
		case "":
			c.fail(path+".static.action", "required: pass or fail")
		default:
			c.fail(path+".static.action", "%q is not an action: want pass or fail", a.Static.Action)
		}
		for field, set := range map[string]bool{"attestations": len(a.Attestations) > 0, "source": len(a.Sources) > 0,
			"ctlog": a.CTLog != nil, "rfc3161timestamp": a.RFC3161Timestamp != nil} {
			if set {
				c.fail(path+"."+field, "a static authority takes no %s", field)
			}
		}
	}
	switch a.SignatureFormat {
	case "", FormatLegacy, FormatBundle:
	default:
		c.fail(path+".signatureFormat", "%q is not a signature format: want legacy or bundle", a.SignatureFormat)
	}
	if len(a.Sources) > 1 {
		c.fail(path+".source", "only a single source is supported")
	}
	for i, src := range a.Sources {
		sp := fmt.Sprintf("%s.source[%d]", path, i)
		if src.OCI != "" {
			if err := validateOCI(src.OCI); err != nil {
				c.fail(sp+".oci", "%q: %v", src.OCI, err)
			}
		}
		if len(src.SignaturePullSecrets) > 0 {
			c.fail(sp+".signaturePullSecrets", "not supported: pull secrets need a cluster to read; the server uses its own registry credentials (Docker config and credential helpers)")
		}
		if src.TagPrefix != nil && strings.ContainsAny(*src.TagPrefix, ":/@") {
			c.fail(sp+".tagPrefix", "%q cannot be part of a tag", *src.TagPrefix)
		}
	}
	if a.CTLog != nil && a.CTLog.URL != "" {
		if err := checkURL(a.CTLog.URL); err != nil {
			c.fail(path+".ctlog.url", "%v", err)
		}
	}
	for i := range a.Attestations {
		at := &a.Attestations[i]
		ap := fmt.Sprintf("%s.attestations[%d]", path, i)
		if at.Name == "" {
			c.fail(ap+".name", "required")
		}
		if at.PredicateType == "" {
			c.fail(ap+".predicateType", "required")
		}
		if at.Policy != nil {
			c.policy(ap+".policy", at.Policy, false)
		}
	}
}

func (c *checker) key(path string, k *KeyRef) {
	if k.SecretRef != nil {
		c.fail(path+".secretRef", "not supported: a key in a Kubernetes secret needs a cluster to read; give the PEM public key in data, or a kms reference")
		return
	}
	switch {
	case k.Data == "" && k.KMS == "":
		c.fail(path, "expected exactly one, got neither: data, kms")
	case k.Data != "" && k.KMS != "":
		c.fail(path, "expected exactly one, got both: data, kms")
	case k.Data != "":
		if _, err := signer.ParsePublicKeyPEM([]byte(k.Data)); err != nil {
			c.fail(path+".data", "%v", err)
		}
	}
	switch strings.ToLower(k.HashAlgorithm) {
	case "", "sha256":
	default:
		c.fail(path+".hashAlgorithm", "%q is not supported: the verifier takes the hash from the signature (SHA-256 for the keys cosign signs with)", k.HashAlgorithm)
	}
}

func (c *checker) keyless(path string, k *KeylessRef) {
	if k.URL != "" && k.CACert != nil {
		c.fail(path, "expected exactly one, got both: url, ca-cert")
	}
	if k.URL != "" {
		if err := checkURL(k.URL); err != nil {
			c.fail(path+".url", "%v", err)
		}
	}
	if k.CACert != nil {
		switch {
		case k.CACert.SecretRef != nil:
			c.fail(path+".ca-cert.secretRef", "not supported: a certificate in a Kubernetes secret needs a cluster to read; give the PEM chain in data")
		case k.CACert.KMS != "":
			c.fail(path+".ca-cert.kms", "not supported: a CA certificate is given as PEM in data")
		case k.CACert.Data == "":
			c.fail(path+".ca-cert.data", "required: the CA's PEM certificate chain")
		default:
			if _, err := pki.ParseCertificates([]byte(k.CACert.Data)); err != nil {
				c.fail(path+".ca-cert.data", "%v", err)
			}
		}
		if k.TrustRootRef != "" {
			c.fail(path, "expected at most one, got both: ca-cert, trustRootRef")
		}
	}
	if len(k.Identities) == 0 {
		c.fail(path+".identities", "at least one identity is required")
	}
	for i, id := range k.Identities {
		ip := fmt.Sprintf("%s.identities[%d]", path, i)
		switch {
		case id.Issuer != "" && id.IssuerRegExp != "":
			c.fail(ip, "expected exactly one, got both: issuer, issuerRegExp")
		case id.Issuer == "" && id.IssuerRegExp == "":
			c.fail(ip, "expected exactly one, got neither: issuer, issuerRegExp")
		}
		switch {
		case id.Subject != "" && id.SubjectRegExp != "":
			c.fail(ip, "expected exactly one, got both: subject, subjectRegExp")
		case id.Subject == "" && id.SubjectRegExp == "":
			c.fail(ip, "expected exactly one, got neither: subject, subjectRegExp")
		}
		for field, re := range map[string]string{"issuerRegExp": id.IssuerRegExp, "subjectRegExp": id.SubjectRegExp} {
			if re == "" {
				continue
			}
			if _, err := regexp.Compile(re); err != nil {
				c.fail(ip+"."+field, "regex is invalid: %v", err)
			}
		}
	}
}

// policy checks a policy reference; inSpec says it is spec.policy, where the Include fields
// belong.
func (c *checker) policy(path string, p *PolicyRef, inSpec bool) {
	switch p.Type {
	case TypeRego, TypeCUE:
	default:
		c.fail(path+".type", "%q is not supported: want rego or cue", p.Type)
	}
	if p.Remote != nil {
		c.fail(path+".remote", "not supported: a policy is given inline in data, so that what is enforced is what was reviewed")
	}
	if p.ConfigMapRef != nil {
		c.fail(path+".configMapRef", "not supported: a policy in a ConfigMap needs a cluster to read; give it inline in data")
	}
	if p.Data == "" && p.Remote == nil && p.ConfigMapRef == nil {
		c.fail(path+".data", "required")
	}
	if p.FetchConfigFile != nil {
		c.fail(path+".fetchConfigFile", "not supported: the image's config file is not fetched")
	}
	if !inSpec {
		for field, set := range map[string]bool{"includeSpec": p.IncludeSpec != nil,
			"includeObjectMeta": p.IncludeObjectMeta != nil, "includeTypeMeta": p.IncludeTypeMeta != nil} {
			if set {
				c.fail(path+"."+field, "allowed only in spec.policy")
			}
		}
	}
}

// validateOCI checks a source repository (a registry alone, or a registry and repository), as
// policy-controller checks it.
func validateOCI(oci string) error {
	first, _, more := strings.Cut(oci, "/")
	if more && strings.ContainsAny(first, ".:") {
		_, err := name.NewRepository(oci, name.StrictValidation)
		return err
	}
	_, err := name.NewRegistry(oci, name.StrictValidation)
	return err
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	return nil
}

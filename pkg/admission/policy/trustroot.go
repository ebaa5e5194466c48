package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TrustRootKind is the kind of the trust material documents read (policy.sigstore.dev/v1alpha1).
const TrustRootKind = "TrustRoot"

// Names of a TUF repository's parts that a TrustRoot may give, when not the defaults.
const (
	defaultTargets     = "targets"
	defaultTrustedRoot = "trusted_root.json"
)

// TrustRoot is policy-controller's TrustRoot document: trust material that policies name by
// trustRootRef. Exactly one of its sources is given: spec.remote, a TUF repository (its mirror
// URL and the initial root.json) that serves the trusted root as the target trusted_root.json;
// spec.repository, such a repository serialized in the document (the initial root.json and a
// gzipped tar of the repository), read without any network; or spec.sigstoreKeys, the keys and
// certificates themselves.
type TrustRoot struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   ObjectMeta    `json:"metadata" strict:"open"`
	Spec       TrustRootSpec `json:"spec"`
	Status     any           `json:"status,omitempty" strict:"open"`

	// Source is the file the document came from and its place in it, for messages.
	Source string `json:"-"`
}

// TrustRootSpec is where the trust material comes from, with policy-controller's field names.
type TrustRootSpec struct {
	Remote       *RemoteTUF    `json:"remote,omitempty"`
	Repository   *Repository   `json:"repository,omitempty"`
	SigstoreKeys *SigstoreKeys `json:"sigstoreKeys,omitempty"`
}

// RemoteTUF is a TUF repository reached at Mirror, trusted from Root (root.json, base64 in the
// document as Kubernetes writes bytes).
type RemoteTUF struct {
	Root              []byte `json:"root"`
	Mirror            string `json:"mirror"`
	Targets           string `json:"targets,omitempty"`
	TrustedRootTarget string `json:"trustedRootTarget,omitempty"`
}

// Repository is a serialized TUF repository: Root is the initial root.json and MirrorFS the
// repository's files as a gzipped tar (each base64 in the document), whose paths may start
// with repository/, as policy-controller writes them.
type Repository struct {
	Root              []byte `json:"root"`
	MirrorFS          []byte `json:"mirrorFS"`
	Targets           string `json:"targets,omitempty"`
	TrustedRootTarget string `json:"trustedRootTarget,omitempty"`
}

// SigstoreKeys is trust material given inline: the certificate authorities (such as the CA),
// the transparency logs, the CT logs and the timestamp authorities.
type SigstoreKeys struct {
	CertificateAuthorities []CertificateAuthority    `json:"certificateAuthorities"`
	TLogs                  []TransparencyLogInstance `json:"tLogs,omitempty"`
	CTLogs                 []TransparencyLogInstance `json:"ctLogs,omitempty"`
	TimeStampAuthorities   []CertificateAuthority    `json:"timestampAuthorities,omitempty"`
}

// CertificateAuthority is a CA or TSA: its subject, where it is served, and its PEM
// certificate chain, root last (base64 in the document).
type CertificateAuthority struct {
	Subject   DistinguishedName `json:"subject"`
	URI       string            `json:"uri"`
	CertChain []byte            `json:"certChain"`
}

// DistinguishedName names a certificate authority.
type DistinguishedName struct {
	Organization string `json:"organization"`
	CommonName   string `json:"commonName"`
}

// TransparencyLogInstance is a transparency log or CT log: its base URL, its Merkle tree hash
// (sha-256) and its PEM public key (base64 in the document).
type TransparencyLogInstance struct {
	BaseURL       string `json:"baseURL"`
	HashAlgorithm string `json:"hashAlgorithm"`
	PublicKey     []byte `json:"publicKey"`
}

// Validate checks a TrustRoot and refuses what is not read, naming the field.
func (tr *TrustRoot) Validate() error {
	c := &checker{source: tr.Source}
	if tr.Metadata.Name == "" {
		c.fail("metadata.name", "required")
	}
	s := tr.Spec
	n := 0
	for _, set := range []bool{s.Remote != nil, s.Repository != nil, s.SigstoreKeys != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		c.fail("spec", "expected exactly one of remote, repository, sigstoreKeys")
	}
	if r := s.Remote; r != nil {
		if len(r.Root) == 0 {
			c.fail("spec.remote.root", "required: the repository's initial root.json")
		}
		if r.Mirror == "" {
			c.fail("spec.remote.mirror", "required")
		} else if err := checkURL(r.Mirror); err != nil {
			c.fail("spec.remote.mirror", "%v", err)
		}
		c.targetNames("spec.remote", r.Targets, r.TrustedRootTarget)
	}
	if r := s.Repository; r != nil {
		if len(r.Root) == 0 {
			c.fail("spec.repository.root", "required: the repository's initial root.json")
		}
		if len(r.MirrorFS) == 0 {
			c.fail("spec.repository.mirrorFS", "required: the repository as a gzipped tar")
		}
		c.targetNames("spec.repository", r.Targets, r.TrustedRootTarget)
	}
	if k := s.SigstoreKeys; k != nil {
		c.sigstoreKeys("spec.sigstoreKeys", k)
	}
	return errors.Join(c.errs...)
}

// targetNames refuses targets and trustedRootTarget other than the defaults.
func (c *checker) targetNames(path, targets, trustedRoot string) {
	if targets != "" && targets != defaultTargets {
		c.fail(path+".targets", "%q is not supported: the trusted root is read from the top-level targets", targets)
	}
	if trustedRoot != "" && trustedRoot != defaultTrustedRoot {
		c.fail(path+".trustedRootTarget", "%q is not supported: the trusted root is read from the target %s", trustedRoot, defaultTrustedRoot)
	}
}

// sigstoreKeys checks inline trust material as policy-controller's validator does, and that
// every certificate chain and key parses.
func (c *checker) sigstoreKeys(path string, k *SigstoreKeys) {
	if len(k.CertificateAuthorities) == 0 && len(k.TimeStampAuthorities) == 0 {
		c.fail(path, "expected at least one of certificateAuthorities, timestampAuthorities")
	}
	for _, set := range []struct {
		field string
		cas   []CertificateAuthority
	}{{"certificateAuthorities", k.CertificateAuthorities}, {"timestampAuthorities", k.TimeStampAuthorities}} {
		for i, ca := range set.cas {
			p := fmt.Sprintf("%s.%s[%d]", path, set.field, i)
			if len(ca.CertChain) == 0 {
				c.fail(p+".certChain", "required: the PEM certificate chain, root last")
			} else if _, err := pki.ParseCertificates(ca.CertChain); err != nil {
				c.fail(p+".certChain", "%v", err)
			}
			if ca.URI != "" {
				if err := checkURL(ca.URI); err != nil {
					c.fail(p+".uri", "%v", err)
				}
			}
		}
	}
	for _, set := range []struct {
		field string
		logs  []TransparencyLogInstance
	}{{"tLogs", k.TLogs}, {"ctLogs", k.CTLogs}} {
		for i, l := range set.logs {
			p := fmt.Sprintf("%s.%s[%d]", path, set.field, i)
			if l.BaseURL == "" {
				c.fail(p+".baseURL", "required")
			} else if err := checkURL(l.BaseURL); err != nil {
				c.fail(p+".baseURL", "%v", err)
			}
			switch strings.ToLower(l.HashAlgorithm) {
			case "", "sha-256", "sha256":
			default:
				c.fail(p+".hashAlgorithm", "%q is not supported: logs hash their trees with sha-256", l.HashAlgorithm)
			}
			if len(l.PublicKey) == 0 {
				c.fail(p+".publicKey", "required: the log's PEM public key")
			} else if _, err := signer.ParsePublicKeyPEM(l.PublicKey); err != nil {
				c.fail(p+".publicKey", "%v", err)
			}
		}
	}
}

// Documents are the documents of a policy file or directory.
type Documents struct {
	Policies   []*ClusterImagePolicy
	TrustRoots []*TrustRoot
}

func (d *Documents) add(o *Documents) {
	d.Policies = append(d.Policies, o.Policies...)
	d.TrustRoots = append(d.TrustRoots, o.TrustRoots...)
}

// checkNames refuses two documents of one kind with the same name.
func (d *Documents) checkNames() error {
	seen := map[string]string{}
	for _, p := range d.Policies {
		if prev, dup := seen[p.Metadata.Name]; dup {
			return &FieldError{Source: p.Source, Path: "metadata.name", Message: fmt.Sprintf("%q is also the name of the policy in %s", p.Metadata.Name, prev)}
		}
		seen[p.Metadata.Name] = p.Source
	}
	seen = map[string]string{}
	for _, tr := range d.TrustRoots {
		if prev, dup := seen[tr.Metadata.Name]; dup {
			return &FieldError{Source: tr.Source, Path: "metadata.name", Message: fmt.Sprintf("%q is also the name of the trust root in %s", tr.Metadata.Name, prev)}
		}
		seen[tr.Metadata.Name] = tr.Source
	}
	return nil
}

package policy

import (
	"errors"
	"fmt"
)

// TrustRootKind is the kind of the trust material documents read (policy.sigstore.dev/v1alpha1).
const TrustRootKind = "TrustRoot"

// Names of a TUF repository's parts that a TrustRoot may give, when not the defaults.
const (
	defaultTargets     = "targets"
	defaultTrustedRoot = "trusted_root.json"
)

// TrustRoot is policy-controller's TrustRoot document: trust material that policies name by
// trustRootRef. Only spec.remote is read: a TUF repository (its mirror URL and the initial
// root.json) that serves the trusted root as the target trusted_root.json.
type TrustRoot struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   ObjectMeta    `json:"metadata" strict:"open"`
	Spec       TrustRootSpec `json:"spec"`
	Status     any           `json:"status,omitempty" strict:"open"`

	// Source is the file the document came from and its place in it, for messages.
	Source string `json:"-"`
}

// TrustRootSpec is where the trust material comes from. Repository and SigstoreKeys are read
// so that they can be refused by name.
type TrustRootSpec struct {
	Remote       *RemoteTUF `json:"remote,omitempty"`
	Repository   any        `json:"repository,omitempty" strict:"open"`
	SigstoreKeys any        `json:"sigstoreKeys,omitempty" strict:"open"`
}

// RemoteTUF is a TUF repository reached at Mirror, trusted from Root (root.json, base64 in the
// document as Kubernetes writes bytes).
type RemoteTUF struct {
	Root              []byte `json:"root"`
	Mirror            string `json:"mirror"`
	Targets           string `json:"targets,omitempty"`
	TrustedRootTarget string `json:"trustedRootTarget,omitempty"`
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
	if s.Repository != nil {
		c.fail("spec.repository", "not supported: a TUF repository inlined in the document is not read; serve it and give spec.remote")
	}
	if s.SigstoreKeys != nil {
		c.fail("spec.sigstoreKeys", "not supported: give the same material as a trusted root JSON with --trust-root NAME=FILE (cosign-like trusted-root create writes one)")
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
		if r.Targets != "" && r.Targets != defaultTargets {
			c.fail("spec.remote.targets", "%q is not supported: the trusted root is read from the top-level targets", r.Targets)
		}
		if r.TrustedRootTarget != "" && r.TrustedRootTarget != defaultTrustedRoot {
			c.fail("spec.remote.trustedRootTarget", "%q is not supported: the trusted root is read from the target %s", r.TrustedRootTarget, defaultTrustedRoot)
		}
	}
	return errors.Join(c.errs...)
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

package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/verify"
)

// AuthorityMatch is what an authority established, in the shape policy-controller gives a
// spec.policy (authorityMatches.<name>).
type AuthorityMatch struct {
	Signatures   []PolicySignature              `json:"signatures,omitempty"`
	Attestations map[string][]PolicyAttestation `json:"attestations,omitempty"`
	Static       bool                           `json:"static,omitempty"`
}

// PolicySignature is a verified signature as a spec.policy sees it.
type PolicySignature struct {
	// ID is the SHA-256 of the signing certificate (keyless) or of the signature's bytes.
	ID      string `json:"id,omitempty"`
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`

	WorkflowTrigger string `json:"githubWorkflowTrigger,omitempty"`
	WorkflowSHA     string `json:"githubWorkflowSha,omitempty"`
	WorkflowName    string `json:"githubWorkflowName,omitempty"`
	WorkflowRepo    string `json:"githubWorkflowRepo,omitempty"`
	WorkflowRef     string `json:"githubWorkflowRef,omitempty"`
}

// PolicyAttestation is a verified attestation as a spec.policy sees it.
type PolicyAttestation struct {
	PolicySignature
	PredicateType string `json:"predicateType,omitempty"`
}

func policySignature(r *verify.Result, sig []byte) PolicySignature {
	var ps PolicySignature
	sum := sha256.Sum256(sig)
	if r != nil && r.Certificate != nil {
		sum = sha256.Sum256(r.Certificate.Raw)
	}
	ps.ID = hex.EncodeToString(sum[:])
	if r == nil || r.Identity == nil {
		return ps
	}
	id := r.Identity
	if len(id.SubjectAlternativeNames) > 0 {
		ps.Subject = id.SubjectAlternativeNames[0]
	}
	ps.Issuer = id.Issuer
	ps.WorkflowTrigger, ps.WorkflowSHA = id.Extensions.GithubWorkflowTrigger, id.Extensions.GithubWorkflowSHA
	ps.WorkflowName, ps.WorkflowRepo, ps.WorkflowRef = id.Extensions.GithubWorkflowName, id.Extensions.GithubWorkflowRepository, id.Extensions.GithubWorkflowRef
	return ps
}

// evaluateSpecPolicy runs a policy's spec.policy on what its authorities established, with the
// parts of the object it asks for.
func evaluateSpecPolicy(ctx context.Context, p *compiled, matches map[string]AuthorityMatch, obj Object) error {
	in := struct {
		AuthorityMatches map[string]AuthorityMatch `json:"authorityMatches,omitempty"`
		Spec             any                       `json:"spec,omitempty"`
		ObjectMeta       any                       `json:"metadata,omitempty"`
		TypeMeta         any                       `json:"typemeta,omitempty"`
	}{AuthorityMatches: matches}
	sp := p.doc.Spec.Policy
	if sp.IncludeSpec != nil && *sp.IncludeSpec {
		in.Spec = obj.Spec
	}
	if sp.IncludeObjectMeta != nil && *sp.IncludeObjectMeta {
		in.ObjectMeta = obj.ObjectMeta
	}
	if sp.IncludeTypeMeta != nil && *sp.IncludeTypeMeta {
		in.TypeMeta = obj.TypeMeta
	}
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if err := p.check.Evaluate(ctx, data); err != nil {
		return fmt.Errorf("spec.policy: %w", err)
	}
	return nil
}

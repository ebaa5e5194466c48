package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// API group, versions and kind of the documents read.
const (
	Group    = "policy.sigstore.dev"
	Kind     = "ClusterImagePolicy"
	V1beta1  = Group + "/v1beta1"
	V1alpha1 = Group + "/v1alpha1"
)

// Modes of spec.mode.
const (
	ModeEnforce = "enforce"
	ModeWarn    = "warn"
)

// Signature formats of authorities[].signatureFormat.
const (
	FormatLegacy = "legacy"
	FormatBundle = "bundle"
)

// Policy languages of policy.type.
const (
	TypeRego = "rego"
	TypeCUE  = "cue"
)

// ClusterImagePolicy is one policy document, with the field names and placement of
// policy-controller's type. Source is the file it was read from.
type ClusterImagePolicy struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata" strict:"open"`
	Spec       Spec       `json:"spec"`
	// Status is what a cluster reports about the policy; it is read and ignored.
	Status any `json:"status,omitempty" strict:"open"`

	// Source is the file the document came from and its place in it, for messages.
	Source string `json:"-"`

	globs []*Glob // spec.images, compiled by Validate
}

// ObjectMeta is the part of Kubernetes' object metadata a policy uses. Other metadata fields
// (uid, resourceVersion, ...) are accepted and ignored: they say nothing about the policy.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is what a ClusterImagePolicy demands.
type Spec struct {
	// Images are the globs of the image references the policy applies to.
	Images []ImagePattern `json:"images"`
	// Authorities are the signers (or static decisions) any one of which suffices.
	Authorities []Authority `json:"authorities,omitempty"`
	// Policy, evaluated once an authority passes, judges what the authorities established.
	Policy *PolicyRef `json:"policy,omitempty"`
	// Mode is enforce (default: deny) or warn (admit with warnings).
	Mode string `json:"mode,omitempty"`
	// Match restricts the policy to resources of these kinds (and labels).
	Match []MatchResource `json:"match,omitempty"`
}

// ImagePattern is one image glob.
type ImagePattern struct {
	Glob string `json:"glob"`
}

// Authority is one way an image can pass: a key, a keyless identity, or a static decision.
type Authority struct {
	Name             string            `json:"name"`
	Key              *KeyRef           `json:"key,omitempty"`
	Keyless          *KeylessRef       `json:"keyless,omitempty"`
	Static           *StaticRef        `json:"static,omitempty"`
	Sources          []Source          `json:"source,omitempty"`
	CTLog            *TLog             `json:"ctlog,omitempty"`
	Attestations     []Attestation     `json:"attestations,omitempty"`
	RFC3161Timestamp *RFC3161Timestamp `json:"rfc3161timestamp,omitempty"`
	SignatureFormat  string            `json:"signatureFormat,omitempty"`
}

// KeyRef is a public key: inline PEM (data) or a KMS reference (kms). SecretRef is read so
// that it can be refused by name: it needs a cluster to resolve.
type KeyRef struct {
	SecretRef     *SecretReference `json:"secretRef,omitempty"`
	Data          string           `json:"data,omitempty"`
	KMS           string           `json:"kms,omitempty"`
	HashAlgorithm string           `json:"hashAlgorithm,omitempty"`
}

// SecretReference names a Kubernetes secret.
type SecretReference struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// KeylessRef is a certificate identity: the CA (url, or ca-cert), and the identities of which
// any one suffices.
type KeylessRef struct {
	URL               string     `json:"url,omitempty"`
	Identities        []Identity `json:"identities"`
	CACert            *KeyRef    `json:"ca-cert,omitempty"`
	TrustRootRef      string     `json:"trustRootRef,omitempty"`
	InsecureIgnoreSCT *bool      `json:"insecureIgnoreSCT,omitempty"`
}

// Identity is an OIDC issuer and subject, each exact or a regular expression.
type Identity struct {
	Issuer        string `json:"issuer,omitempty"`
	Subject       string `json:"subject,omitempty"`
	IssuerRegExp  string `json:"issuerRegExp,omitempty"`
	SubjectRegExp string `json:"subjectRegExp,omitempty"`
}

// StaticRef passes or fails every matching image.
type StaticRef struct {
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
}

// Source is where signatures live when not beside the image: another repository (oci), and a
// prefix of cosign's legacy tags (tagPrefix).
type Source struct {
	OCI                  string                 `json:"oci,omitempty"`
	SignaturePullSecrets []LocalObjectReference `json:"signaturePullSecrets,omitempty"`
	TagPrefix            *string                `json:"tagPrefix,omitempty"`
}

// LocalObjectReference names an object in the namespace of the resource.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// TLog names the transparency log: its URL, or a trust root holding it.
type TLog struct {
	URL          string `json:"url,omitempty"`
	TrustRootRef string `json:"trustRootRef,omitempty"`
}

// RFC3161Timestamp asks for a signed timestamp from a TSA of the named trust root.
type RFC3161Timestamp struct {
	TrustRootRef string `json:"trustRootRef,omitempty"`
}

// Attestation is an attestation an authority must have signed, and the policy it must meet.
type Attestation struct {
	Name          string     `json:"name"`
	PredicateType string     `json:"predicateType"`
	Policy        *PolicyRef `json:"policy,omitempty"`
}

// PolicyRef is a policy in a policy language, given inline. Remote and ConfigMapRef are read
// so that they can be refused by name; the Include fields only belong in spec.policy.
type PolicyRef struct {
	Type              string        `json:"type"`
	Data              string        `json:"data,omitempty"`
	Remote            *RemotePolicy `json:"remote,omitempty" strict:"open"`
	ConfigMapRef      *ConfigMapRef `json:"configMapRef,omitempty" strict:"open"`
	FetchConfigFile   *bool         `json:"fetchConfigFile,omitempty"`
	IncludeSpec       *bool         `json:"includeSpec,omitempty"`
	IncludeObjectMeta *bool         `json:"includeObjectMeta,omitempty"`
	IncludeTypeMeta   *bool         `json:"includeTypeMeta,omitempty"`
}

// RemotePolicy is a policy fetched from a URL (refused: a policy is read from its file).
type RemotePolicy struct {
	URL       string `json:"url,omitempty"`
	Sha256sum string `json:"sha256sum,omitempty"`
}

// ConfigMapRef is a policy in a ConfigMap (refused: it needs a cluster).
type ConfigMapRef struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Key       string `json:"key,omitempty"`
}

// MatchResource restricts a policy to one resource type (group, version, resource, as
// Kubernetes names them: "", "v1", "pods"), optionally with a label selector on the resource.
type MatchResource struct {
	Group            string                `json:"group,omitempty"`
	Version          string                `json:"version,omitempty"`
	Resource         string                `json:"resource,omitempty"`
	ResourceSelector *metav1.LabelSelector `json:"selector,omitempty"`
}

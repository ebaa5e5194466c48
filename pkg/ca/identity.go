package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/certext"
)

// ErrIdentity wraps tokens whose claims do not make an identity for their issuer's type.
var ErrIdentity = errors.New("token does not carry a usable identity")

// Principal is what a verified token says about its bearer.
type Principal struct {
	// Issuer is the token's iss.
	Issuer string
	// Subject is the string the proof of possession signs (email or sub).
	Subject string
	// Email is the SAN email address (email issuers).
	Email string
	// URI is the SAN URI (github-workflow, uri and kubernetes issuers).
	URI *url.URL
	// Username is the OtherName SAN value (username issuers).
	Username string
	// Extensions are the Fulcio extensions the certificate carries.
	Extensions certext.Extensions
}

// claims are the token claims the identity types read.
type claims struct {
	Issuer        string `json:"iss"`
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`

	// GitHub Actions.
	JobWorkflowRef       string `json:"job_workflow_ref"`
	JobWorkflowSHA       string `json:"job_workflow_sha"`
	RunnerEnvironment    string `json:"runner_environment"`
	Repository           string `json:"repository"`
	RepositoryID         string `json:"repository_id"`
	RepositoryOwner      string `json:"repository_owner"`
	RepositoryOwnerID    string `json:"repository_owner_id"`
	RepositoryVisibility string `json:"repository_visibility"`
	SHA                  string `json:"sha"`
	Ref                  string `json:"ref"`
	EventName            string `json:"event_name"`
	Workflow             string `json:"workflow"`
	WorkflowRef          string `json:"workflow_ref"`
	WorkflowSHA          string `json:"workflow_sha"`
	RunID                string `json:"run_id"`
	RunAttempt           string `json:"run_attempt"`
	Environment          string `json:"environment"`
	ServerURL            string `json:"server_url"`

	// Kubernetes service accounts.
	Kubernetes *struct {
		Namespace      string `json:"namespace"`
		ServiceAccount *struct {
			Name string `json:"name"`
		} `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

// principalFor turns the verified claims of a token into a Principal for ic's type.
func principalFor(ic *IssuerConfig, payload []byte) (*Principal, error) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrIdentity, err)
	}
	p := &Principal{
		Issuer:     c.Issuer,
		Subject:    c.Subject,
		Extensions: certext.Extensions{Issuer: c.Issuer, IssuerV2: c.Issuer},
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no sub claim", ErrIdentity)
	}
	switch ic.Type {
	case IssuerEmail:
		if c.Email == "" {
			return nil, fmt.Errorf("%w: no email claim (issuer %s is of type email)", ErrIdentity, ic.URL)
		}
		if v, ok := c.EmailVerified.(bool); !ok || !v {
			if s, ok := c.EmailVerified.(string); !ok || s != "true" {
				return nil, fmt.Errorf("%w: email %s is not verified (email_verified is not true)", ErrIdentity, c.Email)
			}
		}
		if strings.ContainsAny(c.Email, " \t\r\n<>") || strings.Count(c.Email, "@") != 1 {
			return nil, fmt.Errorf("%w: email claim %q is not an address", ErrIdentity, c.Email)
		}
		p.Email, p.Subject = c.Email, c.Email
	case IssuerGitHubWorkflow:
		if err := githubPrincipal(p, &c); err != nil {
			return nil, err
		}
	case IssuerURI:
		u, err := url.Parse(c.Subject)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("%w: sub %q is not an absolute URI", ErrIdentity, c.Subject)
		}
		if !strings.EqualFold(u.Hostname(), ic.SubjectDomain) {
			return nil, fmt.Errorf("%w: sub %q is not on %s, the domain of issuer %s", ErrIdentity, c.Subject, ic.SubjectDomain, ic.URL)
		}
		p.URI = u
	case IssuerKubernetes:
		ns, sa := "", ""
		if c.Kubernetes != nil && c.Kubernetes.ServiceAccount != nil {
			ns, sa = c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount.Name
		} else if parts := strings.Split(c.Subject, ":"); len(parts) == 4 && parts[0] == "system" && parts[1] == "serviceaccount" {
			ns, sa = parts[2], parts[3]
		}
		if ns == "" || sa == "" || strings.Contains(ns+sa, "/") {
			return nil, fmt.Errorf("%w: sub %q is not a Kubernetes service account", ErrIdentity, c.Subject)
		}
		p.URI = &url.URL{Scheme: "https", Host: "kubernetes.io", Path: "/namespaces/" + ns + "/serviceaccounts/" + sa}
	case IssuerUsername:
		if strings.Contains(c.Subject, "!") {
			return nil, fmt.Errorf("%w: sub %q contains '!'", ErrIdentity, c.Subject)
		}
		p.Username = c.Subject + "!" + ic.SubjectDomain
	default:
		return nil, fmt.Errorf("%w: unknown issuer type %q", ErrIdentity, ic.Type)
	}
	return p, nil
}

// githubPrincipal fills the identity and extensions of a GitHub Actions token as Fulcio does.
func githubPrincipal(p *Principal, c *claims) error {
	if c.JobWorkflowRef == "" {
		return fmt.Errorf("%w: no job_workflow_ref claim in a GitHub Actions token", ErrIdentity)
	}
	base := "https://github.com"
	if c.ServerURL != "" {
		base = strings.TrimSuffix(c.ServerURL, "/")
	}
	u, err := url.Parse(base + "/" + c.JobWorkflowRef)
	if err != nil {
		return fmt.Errorf("%w: job_workflow_ref %q: %v", ErrIdentity, c.JobWorkflowRef, err)
	}
	p.URI = u
	e := &p.Extensions
	e.GithubWorkflowTrigger = c.EventName
	e.GithubWorkflowSHA = c.SHA
	e.GithubWorkflowName = c.Workflow
	e.GithubWorkflowRepository = c.Repository
	e.GithubWorkflowRef = c.Ref
	e.BuildSignerURI = u.String()
	e.BuildSignerDigest = c.JobWorkflowSHA
	e.RunnerEnvironment = c.RunnerEnvironment
	if c.Repository != "" {
		e.SourceRepositoryURI = base + "/" + c.Repository
	}
	e.SourceRepositoryDigest = c.SHA
	e.SourceRepositoryRef = c.Ref
	e.SourceRepositoryIdentifier = c.RepositoryID
	if c.RepositoryOwner != "" {
		e.SourceRepositoryOwnerURI = base + "/" + c.RepositoryOwner
	}
	e.SourceRepositoryOwnerIdentifier = c.RepositoryOwnerID
	if c.WorkflowRef != "" {
		e.BuildConfigURI = base + "/" + c.WorkflowRef
	}
	e.BuildConfigDigest = c.WorkflowSHA
	e.BuildTrigger = c.EventName
	if c.Repository != "" && c.RunID != "" && c.RunAttempt != "" {
		e.RunInvocationURI = base + "/" + c.Repository + "/actions/runs/" + c.RunID + "/attempts/" + c.RunAttempt
	}
	e.SourceRepositoryVisibilityAtSigning = c.RepositoryVisibility
	e.DeploymentEnvironment = c.Environment
	return nil
}

// otherNameSAN encodes a critical SubjectAlternativeName holding one OtherName of type
// 1.3.6.1.4.1.57264.1.7 with a UTF8String value, as Fulcio does for username identities.
func otherNameSAN(value string) (pkix.Extension, error) {
	str, err := asn1.MarshalWithParams(value, "utf8")
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding username: %w", err)
	}
	type otherName struct {
		TypeID asn1.ObjectIdentifier
		Value  asn1.RawValue
	}
	// value is [0] EXPLICIT: a constructed context-specific tag around the UTF8String.
	explicit := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str}
	on, err := asn1.MarshalWithParams(otherName{TypeID: certext.OIDOtherName, Value: explicit}, "tag:0")
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding OtherName: %w", err)
	}
	san, err := asn1.Marshal([]asn1.RawValue{{FullBytes: on}})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding SAN: %w", err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: san}, nil
}

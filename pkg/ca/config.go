package ca

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// IssuerType says how a token's claims become a certificate identity.
type IssuerType string

// Issuer types. The identity (certificate SAN) and the proof-of-possession subject of each:
//   - email: the verified email claim (SAN email); proof over the email.
//   - github-workflow: https://github.com/ + job_workflow_ref (SAN URI), the GitHub workflow
//     extensions filled from the claims; proof over sub.
//   - uri: sub, an absolute URI on the issuer's host or SubjectDomain (SAN URI); proof over sub.
//   - kubernetes: https://kubernetes.io/namespaces/NS/serviceaccounts/NAME (SAN URI) for a
//     service-account token; proof over sub.
//   - username: sub!SubjectDomain as an OtherName SAN (1.3.6.1.4.1.57264.1.7); proof over sub.
const (
	IssuerEmail          IssuerType = "email"
	IssuerGitHubWorkflow IssuerType = "github-workflow"
	IssuerURI            IssuerType = "uri"
	IssuerKubernetes     IssuerType = "kubernetes"
	IssuerUsername       IssuerType = "username"
)

// DefaultClientID is the audience tokens must carry unless an issuer says otherwise.
const DefaultClientID = "sigstore"

// ErrConfig wraps configuration errors.
var ErrConfig = errors.New("invalid CA configuration")

// IssuerConfig is one trusted OpenID Connect issuer.
type IssuerConfig struct {
	// URL is the issuer URL, matched exactly against the token's iss claim.
	URL string `yaml:"url"`
	// ClientID is the audience tokens must carry (DefaultClientID when empty).
	ClientID string `yaml:"client-id"`
	// Type is how claims become an identity (email when empty).
	Type IssuerType `yaml:"type"`
	// SubjectDomain is the domain of uri identities and the suffix of username identities (the
	// issuer's host when empty).
	SubjectDomain string `yaml:"subject-domain"`
}

// FileConfig is the CA's issuer configuration file (ca.yaml).
type FileConfig struct {
	// Issuers are the trusted issuers; a token from any other issuer is refused.
	Issuers []IssuerConfig `yaml:"issuers"`
}

// ParseConfig reads ca.yaml. Unknown keys are errors.
func ParseConfig(data []byte) (*FileConfig, error) {
	var c FileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	for i := range c.Issuers {
		if err := c.Issuers[i].normalise(); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// LoadConfig reads a ca.yaml file.
func LoadConfig(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA configuration: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseIssuerFlag parses the command-line form URL[,client-id=ID][,type=TYPE][,subject-domain=D].
func ParseIssuerFlag(s string) (IssuerConfig, error) {
	parts := strings.Split(s, ",")
	ic := IssuerConfig{URL: parts[0]}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return IssuerConfig{}, fmt.Errorf("%w: issuer option %q: want key=value", ErrConfig, p)
		}
		switch k {
		case "client-id":
			ic.ClientID = v
		case "type":
			ic.Type = IssuerType(v)
		case "subject-domain":
			ic.SubjectDomain = v
		default:
			return IssuerConfig{}, fmt.Errorf("%w: issuer option %q: want client-id, type or subject-domain", ErrConfig, k)
		}
	}
	if err := ic.normalise(); err != nil {
		return IssuerConfig{}, err
	}
	return ic, nil
}

// normalise applies defaults and checks the issuer.
func (ic *IssuerConfig) normalise() error {
	if ic.ClientID == "" {
		ic.ClientID = DefaultClientID
	}
	if ic.Type == "" {
		ic.Type = IssuerEmail
	}
	switch ic.Type {
	case IssuerEmail, IssuerGitHubWorkflow, IssuerURI, IssuerKubernetes, IssuerUsername:
	default:
		return fmt.Errorf("%w: issuer %s: unknown type %q (email, github-workflow, uri, kubernetes or username)", ErrConfig, ic.URL, ic.Type)
	}
	u, err := CheckIssuerURL(ic.URL)
	if err != nil {
		return err
	}
	if ic.SubjectDomain == "" {
		ic.SubjectDomain = u.Hostname()
	}
	return nil
}

// CheckIssuerURL requires an absolute https URL without query or fragment; http is allowed only
// for loopback hosts (127.0.0.0/8, ::1 and localhost).
func CheckIssuerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer URL %q: %v", ErrConfig, raw, err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%w: issuer URL %q: want scheme://host[/path] without user, query or fragment", ErrConfig, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%w: issuer URL %q: http is allowed only on loopback (127.0.0.0/8, ::1, localhost); use https", ErrConfig, raw)
		}
	default:
		return nil, fmt.Errorf("%w: issuer URL %q: scheme must be https", ErrConfig, raw)
	}
	return u, nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"github.com/cosign-like/cosign-like/pkg/root"
	"slices"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Verifier checks bundles against a trusted root. It is safe for concurrent use.
type Verifier struct {
	trusted   *root.TrustedRoot
	now       func() time.Time
	witnesses *tlog.WitnessPolicy
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithCurrentTime sets the clock the verifier reads where no signing time applies (default:
// time.Now). Signing times always come from verified timestamps and log entries, never from it.
func WithCurrentTime(now func() time.Time) Option {
	return func(v *Verifier) { v.now = now }
}

// WithWitnessPolicy requires every transparency log entry to carry an inclusion proof under a
// checkpoint that the policy's quorum of witnesses cosigned, each cosignature checked (key name
// and ID, nonzero timestamp, signature over that checkpoint): see tlog.WitnessPolicy.Satisfied.
// The log's own signature is checked against the trusted root as always; the policy's log lines
// are not consulted. Default none: a checkpoint needs only its log's signature.
func WithWitnessPolicy(p *tlog.WitnessPolicy) Option {
	return func(v *Verifier) { v.witnesses = p }
}

// New returns a verifier for the given trust material. trusted may be nil only for key-mode
// policies that set UnsafeIgnoreTlog; Verify refuses any other policy without one.
func New(trusted *root.TrustedRoot, opts ...Option) (*Verifier, error) {
	v := &Verifier{trusted: trusted, now: time.Now}
	for _, o := range opts {
		o(v)
	}
	if v.now == nil {
		return nil, fmt.Errorf("%w: WithCurrentTime given a nil clock", ErrPolicy)
	}
	return v, nil
}

// CertificateIdentity is what a verified signing certificate names.
type CertificateIdentity struct {
	// SubjectAlternativeNames are the certificate's SAN values (emails, URIs, other names).
	SubjectAlternativeNames []string
	// Issuer is the OIDC issuer (.8, falling back to .1).
	Issuer string
	// Extensions are all Fulcio extensions of the certificate.
	Extensions certext.Extensions
}

// TlogEntry describes a verified transparency log entry.
type TlogEntry struct {
	// LogID is the log's ID as the bundle names it.
	LogID []byte
	// BaseURL is the log's URL from the trusted root.
	BaseURL string
	// LogIndex is the entry's index.
	LogIndex int64
	// Kind and Version are the entry type, e.g. hashedrekord 0.0.2.
	Kind, Version string
	// IntegratedTime is when a Rekor v1 log promised (SET) to include the entry; zero for
	// Rekor v2 entries.
	IntegratedTime time.Time
}

// Result is what Verify established about a bundle that verified.
type Result struct {
	// MediaType is the bundle's media type.
	MediaType string
	// SigningTime is the earliest verified time the signature existed at (zero in key mode
	// without a timestamp or log entry time).
	SigningTime time.Time
	// Certificate is the signing certificate (identity mode).
	Certificate *x509.Certificate
	// Identity is what the certificate names (identity mode).
	Identity *CertificateIdentity
	// KeyHint is the bundle's public key hint (key mode).
	KeyHint string
	// PayloadType, Payload and Statement are the DSSE envelope's content (DSSE bundles).
	PayloadType string
	Payload     []byte
	Statement   *intotov1.Statement
	// TlogEntries are the verified log entries.
	TlogEntries []TlogEntry
	// Timestamps are the verified RFC 3161 times.
	Timestamps []time.Time
}

// material is what the bundle says signed it.
type material struct {
	leaf   *x509.Certificate // identity mode
	pub    crypto.PublicKey  // the key the signature verifies under
	keyDER []byte            // PKIX DER of pub, for matching log entries
}

// Verify checks a bundle against an artifact under a policy, in this order: the bundle's
// structure and bounds; the RFC 3161 timestamps; the signature under the key or certificate;
// the certificate's identity; the transparency log entries (body matches this signature,
// inclusion proof under a checkpoint signed by a trusted log, SET) and the log threshold; the
// certificate chain and SCTs at every verified signing time; that the signed content is the
// artifact. Every error wraps ErrVerification.
func (v *Verifier) Verify(b *protobundle.Bundle, artifact Artifact, p Policy) (*Result, error) {
	ident, err := v.checkInputs(b, artifact, p)
	if err != nil {
		return nil, err
	}
	res := &Result{MediaType: b.GetMediaType()}

	m, err := v.material(b, p, res)
	if err != nil {
		return nil, err
	}
	sc, err := newSignedContent(b)
	if err != nil {
		return nil, err
	}

	// Signing times: verified RFC 3161 timestamps, then SET-backed integrated times.
	var times []time.Time
	if v.trusted != nil {
		ts, err := v.verifyTimestamps(b, sc.signature)
		if err != nil {
			return nil, err
		}
		res.Timestamps = ts
		times = append(times, ts...)
	}

	if err := sc.verifySignature(m.pub, artifact); err != nil {
		return nil, err
	}
	if ident != nil {
		ci, err := matchIdentity(m.leaf, ident)
		if err != nil {
			return nil, err
		}
		res.Certificate = m.leaf
		res.Identity = ci
	}

	if !p.UnsafeIgnoreTlog {
		entries, err := v.verifyTlogEntries(b, sc, m, res.Timestamps)
		if err != nil {
			return nil, err
		}
		res.TlogEntries = entries
		for _, e := range entries {
			if !e.IntegratedTime.IsZero() {
				times = append(times, e.IntegratedTime)
			}
		}
		if err := checkThreshold(entries, p.threshold()); err != nil {
			return nil, err
		}
	}
	if len(times) > 0 {
		res.SigningTime = slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	}

	if ident != nil {
		if len(times) == 0 {
			return nil, fmt.Errorf("%w: no verified signing time: a certificate needs an RFC 3161 timestamp or a Rekor v1 entry with a signed entry timestamp", ErrTimestamp)
		}
		if err := v.verifyCertificate(m.leaf, times, p.UnsafeIgnoreSCT); err != nil {
			return nil, err
		}
	}

	if err := sc.verifyArtifact(artifact, res); err != nil {
		return nil, err
	}
	return res, nil
}

// checkInputs checks what Verify is given before anything is verified: the policy (returning
// its compiled identity, nil in key mode), that there is an artifact, that a trusted root is
// there unless the policy can do without one, and the bundle's structure and bounds.
func (v *Verifier) checkInputs(b *protobundle.Bundle, artifact Artifact, p Policy) (*compiledIdentity, error) {
	ident, err := p.check()
	if err != nil {
		return nil, err
	}
	if artifact.empty() {
		return nil, fmt.Errorf("%w: no artifact digest or bytes given", ErrPolicy)
	}
	if v.trusted == nil && (p.Identity != nil || !p.UnsafeIgnoreTlog) {
		return nil, fmt.Errorf("%w: no trusted root: only key-mode verification that ignores the transparency log can do without one", ErrPolicy)
	}
	if err := bundle.Validate(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	return ident, nil
}

// material checks the bundle's verification material against the policy's mode.
func (v *Verifier) material(b *protobundle.Bundle, p Policy, res *Result) (*material, error) {
	vm := b.GetVerificationMaterial()
	switch c := vm.GetContent().(type) {
	case *protobundle.VerificationMaterial_PublicKey:
		if p.Key == nil {
			return nil, fmt.Errorf("%w: the bundle is signed with a key (hint %q), the policy expects a certificate identity: verify with the public key", ErrMaterial, c.PublicKey.GetHint())
		}
		res.KeyHint = c.PublicKey.GetHint()
		der, err := x509.MarshalPKIXPublicKey(p.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding the policy key: %w", ErrPolicy, err)
		}
		return &material{pub: p.Key, keyDER: der}, nil
	case *protobundle.VerificationMaterial_Certificate, *protobundle.VerificationMaterial_X509CertificateChain:
		if p.Key != nil {
			return nil, fmt.Errorf("%w: the bundle carries a certificate, the policy expects a signature by a key", ErrMaterial)
		}
		var raws [][]byte
		if cc, ok := c.(*protobundle.VerificationMaterial_Certificate); ok {
			raws = [][]byte{cc.Certificate.GetRawBytes()}
		} else {
			for _, cert := range vm.GetX509CertificateChain().GetCertificates() {
				raws = append(raws, cert.GetRawBytes())
			}
		}
		var certs []*x509.Certificate
		for i, raw := range raws {
			cert, err := x509.ParseCertificate(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: certificate %d of the bundle: %w", ErrBundle, i, err)
			}
			certs = append(certs, cert)
		}
		for i, cert := range certs {
			if bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil {
				return nil, fmt.Errorf("%w: the bundle embeds a self-signed root certificate (%q, position %d): roots come only from the trusted root", ErrCertificate, cert.Subject.String(), i)
			}
		}
		leaf := certs[0]
		if leaf.IsCA {
			return nil, fmt.Errorf("%w: the signing certificate is a CA certificate", ErrCertificate)
		}
		der, err := x509.MarshalPKIXPublicKey(leaf.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate public key: %w", ErrCertificate, err)
		}
		return &material{leaf: leaf, pub: leaf.PublicKey, keyDER: der}, nil
	}
	return nil, fmt.Errorf("%w: no verification material", ErrBundle)
}

// checkThreshold counts distinct logs among verified entries.
func checkThreshold(entries []TlogEntry, threshold int) error {
	var logs [][]byte
	for _, e := range entries {
		if !slices.ContainsFunc(logs, func(id []byte) bool { return bytes.Equal(id, e.LogID) }) {
			logs = append(logs, e.LogID)
		}
	}
	if len(logs) < threshold {
		if len(entries) == 0 {
			return &MissingTlogEntryError{Required: threshold}
		}
		return fmt.Errorf("%w: %d entries from %d distinct log(s), %d distinct logs required", ErrTlog, len(entries), len(logs), threshold)
	}
	return nil
}

package cosign

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// AttestOptions says how to attest an image or a blob.
type AttestOptions struct {
	// Signer holds the key. Required.
	Signer signer.Signer
	// BundleOptions gets the attestation certified, timestamped and logged (the log entry is a
	// hashedrekord over the DSSE pre-authentication encoding). Nil signs with the key alone.
	BundleOptions *BundleOptions
	// PredicateType is the predicate type URI (attest.PredicateType maps cosign's --type names).
	// With Statement it is optional and, when given, must be the statement's.
	PredicateType string
	// Predicate is the content of the predicate file; it must parse as PredicateType says
	// (attest.BuildPredicate). Exactly one of Predicate and Statement is given.
	Predicate []byte
	// Statement is a ready in-toto statement to sign as it is; its subject must name the image
	// (or blob) being attested.
	Statement []byte
	// Legacy writes cosign's .att tag layout (a DSSE envelope layer) instead of a bundle referrer.
	Legacy bool
	// Registry are the options for every registry call.
	Registry []oci.Option
	// Now gives the custom predicate's timestamp and the created annotation; time.Now when nil.
	Now func() time.Time
}

// Attested is an attestation that was written.
type Attested struct {
	// Digest is the attested image (zero for a blob).
	Digest name.Digest
	// Layout is where the attestation was attached.
	Layout oci.Layout
	// PredicateType is the statement's predicate type.
	PredicateType string

	statement parts        // the signed in-toto statement
	document  *splicedJSON // the bundle (new layout, blobs) or the DSSE envelope (legacy)
}

// Statement returns the signed in-toto statement.
func (a *Attested) Statement() []byte { return a.statement.bytes() }

// Bundle returns the bundle JSON (new layout and blobs; nil for the legacy layout).
func (a *Attested) Bundle() []byte {
	if a.Layout == oci.LayoutLegacy || a.document == nil {
		return nil
	}
	return a.document.bytes()
}

// Envelope returns the DSSE envelope JSON of the legacy layout (nil otherwise).
func (a *Attested) Envelope() []byte {
	if a.Layout != oci.LayoutLegacy || a.document == nil {
		return nil
	}
	return a.document.bytes()
}

// WriteBundle writes the bundle JSON to w without holding it in memory: a large statement is
// encoded as it is written.
func (a *Attested) WriteBundle(w io.Writer) error {
	if a.Layout == oci.LayoutLegacy || a.document == nil {
		return errors.New("no bundle: the attestation was written in the legacy layout")
	}
	_, err := a.document.WriteTo(w)
	return err
}

// statementFor builds (or checks, for a ready statement) the statement about subject.
func (o *AttestOptions) statementFor(subject attest.Subject) (parts, string, error) {
	if (o.Predicate == nil) == (o.Statement == nil) {
		return nil, "", errors.New("attesting: give exactly one of a predicate and a statement")
	}
	if o.Statement != nil {
		info, err := attest.ParseStatementInfo(o.Statement)
		if err != nil {
			return nil, "", fmt.Errorf("the given statement: %w", err)
		}
		if err := info.RequireSubject(subject.SHA256); err != nil {
			return nil, "", fmt.Errorf("the given statement: %w", err)
		}
		if o.PredicateType != "" && o.PredicateType != info.PredicateType {
			return nil, "", fmt.Errorf("the given statement has predicate type %q, not %q", info.PredicateType, o.PredicateType)
		}
		return parts{o.Statement}, info.PredicateType, nil
	}
	if _, err := attest.PredicateType(o.PredicateType); err != nil {
		return nil, "", err
	}
	pred, err := attest.BuildPredicate(o.PredicateType, o.Predicate, now(o.Now))
	if err != nil {
		return nil, "", err
	}
	head, pred, tail, err := attest.NewStatementParts([]attest.Subject{subject}, o.PredicateType, pred)
	if err != nil {
		return nil, "", err
	}
	return parts{head, pred, tail}, o.PredicateType, nil
}

// AttestImage resolves ref, builds the in-toto statement of the predicate about the image
// digest (subject name = the repository, as cosign writes it), signs it into a DSSE envelope and
// attaches it: a bundle v0.3 referrer with the dsse-envelope content and predicateType
// annotations, or (Legacy) a layer of the .att tag holding the envelope JSON with a
// predicateType annotation, as cosign writes them. The predicate is held once: the statement,
// the signature's hash and the uploaded document are all made from it as a stream.
func AttestImage(ctx context.Context, ref string, o AttestOptions) (Attested, error) {
	if o.Signer == nil {
		return Attested{}, errors.New("attesting an image: no signer")
	}
	subject, desc, err := oci.Resolve(ctx, ref, o.Registry...)
	if err != nil {
		return Attested{}, err
	}
	st, predType, err := o.statementFor(attest.Subject{Name: subject.Context().Name(), SHA256: desc.Digest.Hex})
	if err != nil {
		return Attested{}, fmt.Errorf("attesting %s: %w", subject, err)
	}
	o.Predicate = nil // the statement holds it now: let a large predicate go
	out := Attested{Digest: subject, PredicateType: predType, statement: st}
	if o.Legacy {
		return attestLegacy(ctx, subject, o, out)
	}
	if out.document, err = signAttestation(ctx, st, o.Signer, o.BundleOptions); err != nil {
		return out, fmt.Errorf("attesting %s: %w", subject, err)
	}
	blob, err := out.document.blob()
	if err != nil {
		return out, err
	}
	ann := map[string]string{
		oci.AnnotationBundleContent:       oci.BundleContentDSSE,
		oci.AnnotationBundlePredicateType: predType,
		oci.AnnotationCreated:             now(o.Now).UTC().Format(time.RFC3339),
	}
	if _, err := oci.AttachBundleBlob(ctx, subject, desc, blob, ann, o.Registry...); err != nil {
		return out, fmt.Errorf("attesting %s: %w", subject, err)
	}
	out.Layout = oci.LayoutBundle
	return out, nil
}

func attestLegacy(ctx context.Context, subject name.Digest, o AttestOptions, out Attested) (Attested, error) {
	if o.BundleOptions != nil && o.BundleOptions.RekorURL != "" && !o.BundleOptions.RekorV1 {
		return out, ErrLegacyNoLog
	}
	sig, digest, err := signPAE(ctx, out.statement, o.Signer)
	if err != nil {
		return out, fmt.Errorf("attesting %s: %w", subject, err)
	}
	out.document, err = spliceBase64(out.statement, func(placeholder []byte) ([]byte, error) {
		return attest.MarshalEnvelope(bundle.PayloadTypeInToto, placeholder, sig)
	})
	if err != nil {
		return out, err
	}
	blob, err := out.document.blob()
	if err != nil {
		return out, err
	}
	// A Rekor v1 log records the envelope itself (an intoto entry), which is then held whole.
	var envelope []byte
	if o.BundleOptions != nil && o.BundleOptions.RekorURL != "" {
		envelope = out.document.bytes()
	}
	ann, err := o.BundleOptions.legacyAnnotations(ctx, o.Signer, sig, o.Signer.HashFunc(), digest, envelope)
	if err != nil {
		return out, err
	}
	// cosign leaves the signature annotation of attestation layers empty: the signature is in
	// the envelope.
	ann[oci.AnnotationSignature] = ""
	ann[oci.AnnotationPredicateType] = out.PredicateType
	out.Layout = oci.LayoutLegacy
	if err := oci.AttachLegacyBlob(ctx, subject, oci.KindAttestation, blob, oci.MediaTypeDSSE, ann, o.Registry...); err != nil {
		return out, fmt.Errorf("attesting %s: %w", subject, err)
	}
	return out, nil
}

// AttestBlob attests the content of r (streamed through SHA-256), naming it subjectName in the
// statement. The bundle is written with Attested.WriteBundle. Legacy and Registry are ignored.
func AttestBlob(ctx context.Context, r io.Reader, subjectName string, o AttestOptions) (Attested, error) {
	if o.Signer == nil {
		return Attested{}, errors.New("attesting a blob: no signer")
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return Attested{}, fmt.Errorf("reading the blob: %w", err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	st, predType, err := o.statementFor(attest.Subject{Name: subjectName, SHA256: digest})
	if err != nil {
		return Attested{}, fmt.Errorf("attesting %s: %w", subjectName, err)
	}
	o.Predicate = nil
	out := Attested{PredicateType: predType, statement: st, Layout: oci.LayoutBundle}
	if out.document, err = signAttestation(ctx, st, o.Signer, o.BundleOptions); err != nil {
		return Attested{}, fmt.Errorf("attesting %s: %w", subjectName, err)
	}
	return out, nil
}

// signPAE signs the DSSE pre-authentication encoding of the in-toto statement, streamed through
// the signer's hash rather than built, and returns the signature and the digest signed.
func signPAE(ctx context.Context, statement parts, s signer.Signer) (sig, digest []byte, err error) {
	h := s.HashFunc()
	if !h.Available() {
		return nil, nil, fmt.Errorf("hash %v is not available", h)
	}
	hh := h.New()
	fmt.Fprintf(hh, "DSSEv1 %d %s %d ", len(bundle.PayloadTypeInToto), bundle.PayloadTypeInToto, statement.size())
	if _, err := io.Copy(hh, statement.reader()); err != nil {
		return nil, nil, err
	}
	digest = hh.Sum(nil)
	if sig, err = s.SignDigest(ctx, digest); err != nil {
		return nil, nil, fmt.Errorf("signing the statement: %w", err)
	}
	return sig, digest, nil
}

// signStatementParts signs a statement kept in parts and adds what opts ask for. The
// bundle's envelope is left without its payload: SignStatement puts the statement there, and
// signAttestation encodes it into the bundle JSON as that is read.
func signStatementParts(ctx context.Context, statement parts, s signer.Signer, w *BundleOptions) (*protobundle.Bundle, error) {
	sig, digest, err := signPAE(ctx, statement, s)
	if err != nil {
		return nil, err
	}
	env := bundle.NewEnvelope(bundle.PayloadTypeInToto, nil, sig)
	return w.finish(ctx, s, sig, s.HashFunc(), digest, func(vm *protobundle.VerificationMaterial) *protobundle.Bundle {
		return bundle.NewDSSEBundle(vm, env)
	})
}

// signAttestation is SignStatement for a statement kept in parts: it returns the bundle JSON
// with the envelope's payload encoded as the document is read, never held whole.
func signAttestation(ctx context.Context, statement parts, s signer.Signer, w *BundleOptions) (*splicedJSON, error) {
	b, err := signStatementParts(ctx, statement, s, w)
	if err != nil {
		return nil, err
	}
	env := b.GetDsseEnvelope()
	return spliceBase64(statement, func(placeholder []byte) ([]byte, error) {
		env.Payload = placeholder
		defer func() { env.Payload = nil }()
		return bundle.Marshal(b)
	})
}

// ErrNoVerifiedAttestation is returned when no attestation of the requested predicate type passes
// verification.
var ErrNoVerifiedAttestation = errors.New("no verified attestation")

// VerifyAttestationOptions says what an attestation must satisfy.
type VerifyAttestationOptions struct {
	// Verifier checks bundles against the trusted material. Required.
	Verifier *verify.Verifier
	// Policy is what the signer must be (a key or an identity) and which checks are required.
	Policy verify.Policy
	// PredicateType is the predicate type URI asked for. Required.
	PredicateType string
	// Rules are policies (Rego or CUE) every verified statement of the type must satisfy.
	Rules []*attest.Policy
	// MaxAttestationSize bounds each attestation (bundle or envelope) read, in bytes
	// (attest.DefaultMaxAttestationSize when zero).
	MaxAttestationSize int64
	// Registry are the options for every registry call.
	Registry []oci.Option
}

// VerifiedAttestation is one attestation that passed every check.
type VerifiedAttestation struct {
	// Digest is the image (zero for a blob).
	Digest name.Digest
	// Layout is where it was found.
	Layout oci.Layout
	// PredicateType is the statement's predicate type.
	PredicateType string
	// Statement is the verified in-toto statement (the DSSE payload).
	Statement []byte
	// Signature is the DSSE signature that verified.
	Signature []byte
	// Result is what the verifier established.
	Result *verify.Result
}

// VerifyImageAttestations resolves ref and verifies the attestations attached to it, in both
// layouts: at most the registry options' artifact limit (100 by default) are considered, the
// signature is checked exactly as VerifyImage checks it, then the statement's subject must be
// this image's digest, its predicate type the one asked for, its predicate must parse as that
// type, and it must satisfy the Rego rules. It returns the attestations that pass; it fails when
// none does, or when any verified attestation of the type breaks the rules.
func VerifyImageAttestations(ctx context.Context, ref string, o VerifyAttestationOptions) ([]VerifiedAttestation, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying attestations: no verifier")
	}
	subject, _, err := oci.Resolve(ctx, ref, o.Registry...)
	if err != nil {
		return nil, err
	}
	found, err := oci.ListAttached(ctx, subject, []oci.Kind{oci.KindAttestation}, o.Registry...)
	if err != nil {
		return nil, fmt.Errorf("listing the attestations of %s: %w", subject, err)
	}
	return VerifyAttestations(ctx, subject, found, o)
}

// VerifyAttestations verifies attestations already fetched for subject (the fetch-free part of
// VerifyImageAttestations, used for OCI layouts too).
func VerifyAttestations(ctx context.Context, subject name.Digest, found []oci.Attached, o VerifyAttestationOptions) ([]VerifiedAttestation, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying attestations: no verifier")
	}
	if o.PredicateType == "" {
		return nil, errors.New("verifying attestations: no predicate type asked for")
	}
	digest, err := hex.DecodeString(strings.TrimPrefix(subject.DigestStr(), "sha256:"))
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("image digest %s: not a sha256 digest", subject.DigestStr())
	}
	var ok []VerifiedAttestation
	var reasons, policyFailures []string
	var causes []error
	otherTypes := map[string]bool{}
	for _, a := range found {
		if a.Kind != oci.KindAttestation {
			continue
		}
		if t := annotatedType(a); t != "" && t != o.PredicateType {
			otherTypes[t] = true
			continue
		}
		va, err := verifyAttestation(ctx, a, verify.ArtifactDigest(crypto.SHA256, digest), o)
		if err != nil {
			var pe *attest.PolicyError
			if errors.As(err, &pe) {
				policyFailures = append(policyFailures, fmt.Sprintf("%s: %v", describeAttestation(a), err))
				continue
			}
			var tm *typeMismatchError
			if errors.As(err, &tm) {
				otherTypes[tm.got] = true
			}
			reasons = append(reasons, fmt.Sprintf("%s: %v", describeAttestation(a), err))
			causes = append(causes, err)
			continue
		}
		va.Digest = subject
		ok = append(ok, va)
	}
	if len(policyFailures) > 0 {
		return nil, fmt.Errorf("%w for %s:\n  %s", attest.ErrPolicyFailed, subject, strings.Join(policyFailures, "\n  "))
	}
	if len(ok) > 0 {
		return ok, nil
	}
	msg := fmt.Sprintf("%v: no attestation of predicate type %s verified for %s", ErrNoVerifiedAttestation, o.PredicateType, subject)
	if len(otherTypes) > 0 {
		types := make([]string, 0, len(otherTypes))
		for t := range otherTypes {
			types = append(types, t)
		}
		sort.Strings(types)
		msg += fmt.Sprintf(" (attestations of other types found: %s)", strings.Join(types, ", "))
	}
	if len(reasons) > 0 {
		msg += ":\n  " + strings.Join(reasons, "\n  ")
	}
	return nil, &noAttestationError{msg: msg, causes: causes}
}

// noAttestationError carries the full explanation and is ErrNoVerifiedAttestation; it unwraps
// to why each attestation failed.
type noAttestationError struct {
	msg    string
	causes []error
}

func (e *noAttestationError) Error() string        { return e.msg }
func (e *noAttestationError) Is(target error) bool { return target == ErrNoVerifiedAttestation }
func (e *noAttestationError) Unwrap() []error      { return e.causes }

// typeMismatchError is a verified statement of another predicate type than asked for.
type typeMismatchError struct{ got, want string }

func (e *typeMismatchError) Error() string {
	return fmt.Sprintf("%v: the statement's predicate type is %s, not %s", verify.ErrStatement, e.got, e.want)
}

func (e *typeMismatchError) Unwrap() error { return verify.ErrStatement }

// annotatedType is the predicate type an attachment's (unsigned) annotations claim, used only
// to skip attestations of other types; a claim is never trusted to accept one.
func annotatedType(a oci.Attached) string {
	if a.Layout == oci.LayoutLegacy {
		return a.Annotations[oci.AnnotationPredicateType]
	}
	return a.Annotations[oci.AnnotationBundlePredicateType]
}

func describeAttestation(a oci.Attached) string {
	if a.Layout == oci.LayoutLegacy {
		return fmt.Sprintf("legacy attestation in %s (layer %s)", a.Tag, a.Descriptor.Digest)
	}
	return fmt.Sprintf("bundle %s", a.Descriptor.Digest)
}

// verifyAttestation checks one attached attestation against artifact.
func verifyAttestation(ctx context.Context, a oci.Attached, artifact verify.Artifact, o VerifyAttestationOptions) (VerifiedAttestation, error) {
	max := o.MaxAttestationSize
	if max <= 0 {
		max = attest.DefaultMaxAttestationSize
	}
	va := VerifiedAttestation{Layout: a.Layout}
	if int64(len(a.Bytes)) > max {
		return va, &attest.SizeError{Size: int64(len(a.Bytes)), Limit: max}
	}
	var candidates []*protobundle.Bundle
	if a.Layout == oci.LayoutLegacy {
		if mt := string(a.Descriptor.MediaType); mt != oci.MediaTypeDSSE {
			return va, fmt.Errorf("layer media type %q is not a DSSE envelope (%s)", mt, oci.MediaTypeDSSE)
		}
		env, err := attest.ParseEnvelope(a.Bytes, max)
		if err != nil {
			return va, err
		}
		if candidates, err = attest.LegacyBundles(env, a.Annotations); err != nil {
			return va, err
		}
	} else {
		b, err := bundle.Parse(a.Bytes)
		if err != nil {
			return va, err
		}
		if b.GetDsseEnvelope() == nil {
			return va, fmt.Errorf("%w: the bundle holds a message signature, not a DSSE envelope", verify.ErrStatement)
		}
		candidates = []*protobundle.Bundle{b}
	}
	var errs []error
	for _, b := range candidates {
		res, err := checkStatementBundle(b, artifact, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		va.Result, va.Statement, va.PredicateType = res, res.Payload, o.PredicateType
		va.Signature = b.GetDsseEnvelope().GetSignatures()[0].GetSig()
		if err := evaluateRules(ctx, o.Rules, res.Payload); err != nil {
			return va, err
		}
		return va, nil
	}
	if len(errs) == 1 {
		return va, errs[0]
	}
	return va, fmt.Errorf("none of the envelope's %d signatures verifies: %w", len(errs), errors.Join(errs...))
}

// checkStatementBundle verifies the signature, then the statement: payload type, subject, the
// predicate type asked for, and a predicate that parses as that type.
func checkStatementBundle(b *protobundle.Bundle, artifact verify.Artifact, o VerifyAttestationOptions) (*verify.Result, error) {
	res, err := o.Verifier.Verify(b, artifact, o.Policy)
	if err != nil {
		return nil, err
	}
	if res.PayloadType != bundle.PayloadTypeInToto || res.Statement == nil {
		return nil, fmt.Errorf("%w: payloadType %q is not an in-toto statement", verify.ErrStatement, res.PayloadType)
	}
	// The verifier has parsed the statement (type, subjects, digests): read what is left with
	// encoding/json rather than a second protojson pass.
	info, err := attest.ReadStatementInfo(res.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", verify.ErrStatement, err)
	}
	if info.PredicateType != o.PredicateType {
		return nil, &typeMismatchError{got: info.PredicateType, want: o.PredicateType}
	}
	return res, nil
}

// VerifyBlobAttestation verifies a bundle holding an attestation about the content of r: the
// signature as VerifyBlob checks it, a statement whose subject is the blob's digest, the
// predicate type asked for, a predicate that parses as that type, and the Rego rules.
func VerifyBlobAttestation(ctx context.Context, r io.Reader, b *protobundle.Bundle, o VerifyAttestationOptions) (*VerifiedAttestation, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying an attestation: no verifier")
	}
	if o.PredicateType == "" {
		return nil, errors.New("verifying an attestation: no predicate type asked for")
	}
	if b.GetDsseEnvelope() == nil {
		return nil, fmt.Errorf("%w: the bundle holds a message signature, not an attestation", verify.ErrStatement)
	}
	art, err := verify.ArtifactReader(r)
	if err != nil {
		return nil, err
	}
	res, err := checkStatementBundle(b, art, o)
	if err != nil {
		return nil, err
	}
	if err := evaluateRules(ctx, o.Rules, res.Payload); err != nil {
		return nil, err
	}
	return &VerifiedAttestation{Layout: oci.LayoutBundle, PredicateType: o.PredicateType, Statement: res.Payload,
		Signature: b.GetDsseEnvelope().GetSignatures()[0].GetSig(), Result: res}, nil
}

// evaluateRules checks a statement against each policy in turn.
func evaluateRules(ctx context.Context, rules []*attest.Policy, statement []byte) error {
	for _, r := range rules {
		if err := r.Evaluate(ctx, statement); err != nil {
			return err
		}
	}
	return nil
}

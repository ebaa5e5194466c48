package cosign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// ErrNoValidSignature is returned when an image has no signature that passes verification.
var ErrNoValidSignature = errors.New("no valid signature")

// VerifyOptions says what a signature must satisfy.
type VerifyOptions struct {
	// Verifier checks bundles against the trusted material. Required.
	Verifier *verify.Verifier
	// Policy is what the signer must be (a key or an identity) and which checks are required.
	Policy verify.Policy
	// Annotations must all be present, with these values, in the signed payload.
	Annotations map[string]string
	// Registry are the options for every registry call.
	Registry []oci.Option
}

// VerifiedSignature is one signature that passed every check.
type VerifiedSignature struct {
	Digest      name.Digest
	Layout      oci.Layout
	Annotations map[string]string
	Result      *verify.Result
}

// VerifyImage resolves ref and verifies the signatures attached to it: its bundles, and cosign's
// legacy .sig signatures when it has no bundle or no bundle verifies. It returns those that
// pass; when none does, the error says why each failed.
func VerifyImage(ctx context.Context, ref string, o VerifyOptions) ([]VerifiedSignature, error) {
	if o.Verifier == nil {
		return nil, errors.New("verifying an image: no verifier")
	}
	subject, _, err := oci.Resolve(ctx, ref, o.Registry...)
	if err != nil {
		return nil, err
	}
	// As cosign v3 does, bundles are preferred: legacy tags are looked up only when no bundle is
	// attached, or when none of the bundles verifies. The usual case costs no request for them.
	kinds := []oci.Kind{oci.KindSignature}
	found, err := oci.ListAttached(ctx, subject, kinds, append(o.Registry, oci.WithLegacyLookup(oci.LegacyIfNoBundles))...)
	if err != nil {
		return nil, err
	}
	verified, err := VerifyAttached(subject, found, o)
	if err == nil || !hasLayout(found, oci.LayoutBundle) {
		return verified, err
	}
	all, lerr := oci.ListAttached(ctx, subject, kinds, o.Registry...)
	if lerr != nil || !hasLayout(all, oci.LayoutLegacy) {
		return nil, err
	}
	return VerifyAttached(subject, all, o)
}

func hasLayout(found []oci.Attached, l oci.Layout) bool {
	for _, a := range found {
		if a.Layout == l {
			return true
		}
	}
	return false
}

// VerifyAttached verifies signatures already fetched for subject (the fetch-free part of
// VerifyImage, used by offline verification of a saved layout too).
func VerifyAttached(subject name.Digest, found []oci.Attached, o VerifyOptions) ([]VerifiedSignature, error) {
	digest, err := hex.DecodeString(strings.TrimPrefix(subject.DigestStr(), "sha256:"))
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("image digest %s: not a sha256 digest", subject.DigestStr())
	}
	var ok []VerifiedSignature
	var reasons []string
	for _, a := range found {
		if a.Kind != oci.KindSignature {
			continue
		}
		vs, err := verifyOne(subject, digest, a, o)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", describe(a), err))
			continue
		}
		ok = append(ok, vs)
	}
	if len(ok) > 0 {
		return ok, nil
	}
	if len(reasons) == 0 {
		return nil, fmt.Errorf("%w: no signatures found for %s", ErrNoValidSignature, subject)
	}
	return nil, fmt.Errorf("%w for %s:\n  %s", ErrNoValidSignature, subject, strings.Join(reasons, "\n  "))
}

func describe(a oci.Attached) string {
	if a.Layout == oci.LayoutLegacy {
		return fmt.Sprintf("legacy signature in %s (layer %s)", a.Tag, a.Descriptor.Digest)
	}
	return fmt.Sprintf("bundle %s", a.Descriptor.Digest)
}

func verifyOne(subject name.Digest, digest []byte, a oci.Attached, o VerifyOptions) (VerifiedSignature, error) {
	vs := VerifiedSignature{Digest: subject, Layout: a.Layout}
	if a.Layout == oci.LayoutLegacy {
		b, err := bundle.FromLegacy(a.Bytes, a.Annotations)
		if err != nil {
			return vs, err
		}
		res, err := o.Verifier.Verify(b, verify.ArtifactBytes(a.Bytes), o.Policy)
		if err != nil {
			return vs, err
		}
		ss, err := bundle.ParseSimpleSigning(a.Bytes)
		if err != nil {
			return vs, err
		}
		if got := ss.Critical.Image.DockerManifestDigest; got != subject.DigestStr() {
			return vs, fmt.Errorf("%w: payload signs image %s, not %s", verify.ErrVerification, got, subject.DigestStr())
		}
		vs.Annotations = stringMap(ss.Optional)
		vs.Result = res
		return vs, checkAnnotations(o.Annotations, vs.Annotations)
	}
	b, err := bundle.Parse(a.Bytes)
	if err != nil {
		return vs, err
	}
	res, err := o.Verifier.Verify(b, verify.ArtifactDigest(crypto.SHA256, digest), o.Policy)
	if err != nil {
		return vs, err
	}
	vs.Result = res
	if res.Statement != nil {
		if res.Statement.GetPredicateType() != bundle.PredicateCosignSign {
			return vs, fmt.Errorf("%w: predicate type %q is not a signature (%s)", verify.ErrVerification, res.Statement.GetPredicateType(), bundle.PredicateCosignSign)
		}
		for _, s := range res.Statement.GetSubject() {
			if s.GetDigest()["sha256"] == hex.EncodeToString(digest) {
				vs.Annotations = stringMap(s.GetAnnotations().AsMap())
				break
			}
		}
	}
	return vs, checkAnnotations(o.Annotations, vs.Annotations)
}

// checkAnnotations fails unless every wanted annotation is present with its value.
func checkAnnotations(want, got map[string]string) error {
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("%w: annotation %s=%s required, the signature has none", verify.ErrVerification, k, want[k])
		}
		if g != want[k] {
			return fmt.Errorf("%w: annotation %s: want %q, signature has %q", verify.ErrVerification, k, want[k], g)
		}
	}
	return nil
}

// VerifyBlob verifies a bundle over the content of r, which is streamed through only the hashes
// the bundle needs.
func VerifyBlob(r io.Reader, b *protobundle.Bundle, v *verify.Verifier, p verify.Policy) (*verify.Result, error) {
	art, err := verify.ArtifactReader(r, verify.BundleHashes(b)...)
	if err != nil {
		return nil, err
	}
	return v.Verify(b, art, p)
}

// stringMap turns signed annotations into strings: a string as it is, any other value as its
// compact JSON, so a number keeps the digits it was written with (a json.Number from
// ParseSimpleSigning) or, from a protobuf Struct, reads as encoding/json writes it (1796227528,
// not 1.796227528e+09).
func stringMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			out[k] = fmt.Sprint(v)
			continue
		}
		out[k] = strings.TrimSuffix(buf.String(), "\n")
	}
	return out
}

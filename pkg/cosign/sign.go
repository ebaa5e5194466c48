package cosign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// SignOptions says how to sign an image.
type SignOptions struct {
	// Signer holds the key. Required.
	Signer signer.Signer
	// BundleOptions gets the signature certified, timestamped and logged. Nil writes a bundle that has
	// only the signature and the public key (what --tlog-upload=false asks for).
	BundleOptions *BundleOptions
	// Annotations go into the statement's subject[0].annotations (new layout) or the
	// simple-signing payload's optional map (legacy layout).
	Annotations map[string]string
	// Recursive signs every manifest of an index as well as the index.
	Recursive bool
	// Legacy writes cosign's .sig tag layout instead of a bundle referrer.
	Legacy bool
	// Registry are the options for every registry call.
	Registry []oci.Option
	// Now gives the time written into the created annotation; time.Now when nil.
	Now func() time.Time
}

// Signed is one image manifest that was signed.
type Signed struct {
	Digest name.Digest
	Layout oci.Layout
	// Bundle is the bundle JSON that was attached (new layout only).
	Bundle []byte
}

// SignImage resolves ref and signs it (and, with Recursive, each child of an index), attaching
// one signature per manifest in the layout the options ask for. Tag references are resolved to a
// digest first; the caller should warn that a tag can move.
func SignImage(ctx context.Context, ref string, o SignOptions) ([]Signed, error) {
	if o.Signer == nil {
		return nil, errors.New("signing an image: no signer")
	}
	subject, desc, err := oci.Resolve(ctx, ref, o.Registry...)
	if err != nil {
		return nil, err
	}
	targets := []name.Digest{subject}
	descs := []v1.Descriptor{desc}
	if o.Recursive && desc.MediaType.IsIndex() {
		targets, descs, err = oci.ResolveChildren(ctx, subject, o.Registry...)
		if err != nil {
			return nil, err
		}
	}
	out := make([]Signed, 0, len(targets))
	for i, d := range targets {
		s, err := signOne(ctx, d, descs[i], o)
		if err != nil {
			return out, fmt.Errorf("signing %s: %w", d, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func signOne(ctx context.Context, d name.Digest, desc v1.Descriptor, o SignOptions) (Signed, error) {
	if o.Legacy {
		return signLegacy(ctx, d, o)
	}
	statement, err := bundle.NewImageStatement(d.Context().Name(), desc.Digest.Hex, o.Annotations)
	if err != nil {
		return Signed{}, err
	}
	b, err := SignStatement(ctx, statement, o.Signer, o.BundleOptions)
	if err != nil {
		return Signed{}, err
	}
	bundleJSON, err := bundle.Marshal(b)
	if err != nil {
		return Signed{}, err
	}
	ann := map[string]string{
		oci.AnnotationBundleContent:       oci.BundleContentDSSE,
		oci.AnnotationBundlePredicateType: bundle.PredicateCosignSign,
		oci.AnnotationCreated:             now(o.Now).UTC().Format(time.RFC3339),
	}
	if _, err := oci.AttachBundle(ctx, d, desc, bundleJSON, ann, o.Registry...); err != nil {
		return Signed{}, err
	}
	return Signed{Digest: d, Layout: oci.LayoutBundle, Bundle: bundleJSON}, nil
}

// SignStatement signs an in-toto statement into a DSSE envelope and returns it as a bundle, with
// the certificate, timestamp and log entry that opts ask for.
func SignStatement(ctx context.Context, statement []byte, s signer.Signer, w *BundleOptions) (*protobundle.Bundle, error) {
	b, err := signStatementParts(ctx, parts{statement}, s, w)
	if err != nil {
		return nil, err
	}
	b.GetDsseEnvelope().Payload = statement
	return b, nil
}

// SignBlob signs the content of r, streamed through the hash, and returns the bundle.
func SignBlob(ctx context.Context, r io.Reader, s signer.Signer, w *BundleOptions) (*protobundle.Bundle, error) {
	if s == nil {
		return nil, errors.New("signing a blob: no signer")
	}
	h := s.HashFunc().New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("reading the blob: %w", err)
	}
	digest := h.Sum(nil)
	sig, err := s.SignDigest(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("signing the blob: %w", err)
	}
	return w.finish(ctx, s, sig, s.HashFunc(), digest, func(vm *protobundle.VerificationMaterial) *protobundle.Bundle {
		return bundle.NewMessageSignatureBundle(vm, s.HashFunc(), digest, sig)
	})
}

func signLegacy(ctx context.Context, d name.Digest, o SignOptions) (Signed, error) {
	var optional map[string]any
	if len(o.Annotations) > 0 {
		optional = make(map[string]any, len(o.Annotations))
		for k, v := range o.Annotations {
			optional[k] = v
		}
	}
	payload, err := bundle.NewSimpleSigning(d.Context().Name(), d.DigestStr(), optional)
	if err != nil {
		return Signed{}, err
	}
	digest, err := hashBytes(o.Signer.HashFunc(), payload)
	if err != nil {
		return Signed{}, err
	}
	sig, err := o.Signer.SignDigest(ctx, digest)
	if err != nil {
		return Signed{}, fmt.Errorf("signing the payload: %w", err)
	}
	ann, err := o.BundleOptions.legacyAnnotations(ctx, o.Signer, sig, o.Signer.HashFunc(), digest, nil)
	if err != nil {
		return Signed{}, err
	}
	if err := oci.AttachLegacy(ctx, d, oci.KindSignature, payload, oci.MediaTypeSimpleSigning, ann, o.Registry...); err != nil {
		return Signed{}, err
	}
	return Signed{Digest: d, Layout: oci.LayoutLegacy}, nil
}

func hashBytes(h crypto.Hash, data []byte) ([]byte, error) {
	if !h.Available() {
		return nil, fmt.Errorf("hash %v is not available", h)
	}
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil), nil
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

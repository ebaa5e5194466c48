package cosign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// ErrNoSignatures is returned by DownloadSignatures when nothing is attached to the image.
var ErrNoSignatures = errors.New("no signatures attached")

// DownloadedSignatures is what DownloadSignatures found: bundles, or else legacy signatures.
type DownloadedSignatures struct {
	// Subject is the image, by digest.
	Subject name.Digest
	// Bundles are the Sigstore bundles (v0.3 or later) attached to the image, in the order
	// the registry lists them.
	Bundles []*protobundle.Bundle
	// Legacy are the layers of the image's .sig tag, set only when no bundle is attached.
	Legacy []*bundle.SignedPayload
}

// DownloadSignatures resolves ref and reads its signatures as cosign v3's `download signature`
// does: every Sigstore bundle of v0.3 or later attached to the image (attestation bundles too:
// cosign does not tell them apart here) and, only when there is none, the layers of the legacy
// .sig tag. A bundle that does not parse, or a legacy layer without a signature annotation or
// with an unreadable certificate, chain, Rekor bundle or timestamp annotation, fails the whole
// call. Nothing attached at all is ErrNoSignatures.
func DownloadSignatures(ctx context.Context, ref string, opts ...oci.Option) (*DownloadedSignatures, error) {
	subject, _, err := oci.Resolve(ctx, ref, opts...)
	if err != nil {
		return nil, err
	}
	d := &DownloadedSignatures{Subject: subject}
	found, err := oci.ListAttached(ctx, subject, []oci.Kind{oci.KindSignature, oci.KindAttestation}, append(opts, oci.WithLegacyLookup(oci.LegacyNever))...)
	if err != nil {
		return nil, err
	}
	for _, a := range found {
		b, err := bundle.Parse(a.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bundle %s attached to %s: %w", a.Descriptor.Digest, subject, err)
		}
		if v, _ := bundle.VersionOf(b.GetMediaType()); v < bundle.V03 {
			continue // cosign skips bundles older than v0.3
		}
		d.Bundles = append(d.Bundles, b)
	}
	if len(d.Bundles) > 0 {
		return d, nil
	}
	found, err = oci.ListAttached(ctx, subject, []oci.Kind{oci.KindSignature}, append(opts, oci.WithLegacyLookup(oci.LegacyAlways))...)
	if err != nil {
		return nil, err
	}
	for _, a := range found {
		if a.Layout != oci.LayoutLegacy {
			continue
		}
		p, err := bundle.ParseSignedPayload(a.Bytes, a.Annotations)
		if err != nil {
			return nil, fmt.Errorf("signature layer %s of %s: %w", a.Descriptor.Digest, a.Tag, err)
		}
		d.Legacy = append(d.Legacy, p)
	}
	if len(d.Legacy) == 0 {
		return nil, fmt.Errorf("%w to %s", ErrNoSignatures, subject)
	}
	return d, nil
}

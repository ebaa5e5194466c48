package oci_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeBundle returns a distinct JSON document standing in for a bundle (pkg/oci moves bytes).
func fakeBundle(i int) []byte {
	return []byte(fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","n":%d}`, i))
}

func sigAnnotations() map[string]string {
	return map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: oci.PredicateTypeCosignSign}
}

func attAnnotations() map[string]string {
	return map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: "https://slsa.dev/provenance/v1"}
}

// registries returns the registries the round-trip tests run against.
func registries(t *testing.T) map[string]string {
	t.Helper()
	host, _ := testutil.NewRegistry(t)
	noAPI, _ := testutil.NewRegistryWithoutReferrers(t)
	regs := map[string]string{"ggcr": host, "ggcr-without-referrers": noAPI}
	if testutil.WantDistribution() {
		regs["distribution"] = testutil.StartDistribution(t)
	}
	return regs
}

func resolve(t *testing.T, ctx context.Context, d name.Digest, opts ...oci.Option) (name.Digest, v1.Descriptor) {
	t.Helper()
	got, desc, err := oci.Resolve(ctx, d.String(), opts...)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", d, err)
	}
	if got.String() != d.String() {
		t.Fatalf("Resolve(%s) = %s", d, got)
	}
	return got, desc
}

func TestRoundTripBothLayouts(t *testing.T) {
	ctx := context.Background()
	for regName, host := range registries(t) {
		for _, mode := range []oci.ReferrersMode{oci.ReferrersAuto, oci.ReferrersLegacy} {
			t.Run(regName+"/"+string(mode), func(t *testing.T) {
				opts := []oci.Option{oci.WithReferrersMode(mode), oci.WithConfirmDelay(1)}
				img := testutil.PushRandomImage(t, host, "rt/"+string(mode))
				tagged := img.Context().Tag("latest").String()
				d, desc, err := oci.Resolve(ctx, tagged, opts...)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", tagged, err)
				}
				if d.String() != img.String() {
					t.Fatalf("Resolve(%s) = %s, want %s", tagged, d, img)
				}
				sigDesc, err := oci.AttachBundle(ctx, d, desc, fakeBundle(1), sigAnnotations(), opts...)
				if err != nil {
					t.Fatalf("AttachBundle: %v", err)
				}
				if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(2), attAnnotations(), opts...); err != nil {
					t.Fatalf("AttachBundle: %v", err)
				}
				payload := []byte(`{"critical":{"type":"cosign container image signature"}}`)
				legacyAnn := map[string]string{oci.AnnotationSignature: "c2ln"}
				if err := oci.AttachLegacy(ctx, d, oci.KindSignature, payload, oci.MediaTypeSimpleSigning, legacyAnn, opts...); err != nil {
					t.Fatalf("AttachLegacy: %v", err)
				}
				// The same layer attached again is not added twice.
				if err := oci.AttachLegacy(ctx, d, oci.KindSignature, payload, oci.MediaTypeSimpleSigning, legacyAnn, opts...); err != nil {
					t.Fatalf("AttachLegacy again: %v", err)
				}
				if err := oci.AttachLegacy(ctx, d, oci.KindSBOM, []byte(`{"spdxVersion":"SPDX-2.3"}`), "text/spdx+json", nil, opts...); err != nil {
					t.Fatalf("AttachLegacy sbom: %v", err)
				}

				all, err := oci.ListAttached(ctx, d, nil, opts...)
				if err != nil {
					t.Fatalf("ListAttached: %v", err)
				}
				counts := map[string]int{}
				for _, a := range all {
					counts[string(a.Kind)+"/"+string(a.Layout)]++
				}
				want := map[string]int{"signature/bundle": 1, "attestation/bundle": 1, "signature/legacy": 1, "sbom/legacy": 1}
				if fmt.Sprint(counts) != fmt.Sprint(want) {
					t.Fatalf("ListAttached kinds = %v, want %v", counts, want)
				}
				sigs, err := oci.ListAttached(ctx, d, []oci.Kind{oci.KindSignature}, opts...)
				if err != nil {
					t.Fatalf("ListAttached(signature): %v", err)
				}
				if len(sigs) != 2 {
					t.Fatalf("ListAttached(signature) = %d artifacts, want 2", len(sigs))
				}
				for _, a := range sigs {
					switch a.Layout {
					case oci.LayoutBundle:
						if !bytes.Equal(a.Bytes, fakeBundle(1)) || a.Descriptor.Digest != sigDesc.Digest {
							t.Errorf("bundle = %s (%s), want %s (%s)", a.Bytes, a.Descriptor.Digest, fakeBundle(1), sigDesc.Digest)
						}
						if a.ArtifactType != oci.MediaTypeBundleV03 || a.Annotations[oci.AnnotationCreated] == "" {
							t.Errorf("bundle artifactType %q annotations %v", a.ArtifactType, a.Annotations)
						}
					case oci.LayoutLegacy:
						if !bytes.Equal(a.Bytes, payload) || a.Annotations[oci.AnnotationSignature] != "c2ln" || a.Tag != oci.LegacyTag(d, "sig").TagStr() {
							t.Errorf("legacy = %s %v %s", a.Bytes, a.Annotations, a.Tag)
						}
					}
				}
			})
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

package oci_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

func TestResolveChildrenOfMultiArchIndex(t *testing.T) {
	ctx := context.Background()
	for regName, host := range registries(t) {
		t.Run(regName, func(t *testing.T) {
			idx, children := testutil.PushRandomIndex(t, host, "multi", 3)
			d, desc, err := oci.Resolve(ctx, idx.Context().Tag("latest").String())
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != idx.String() || !desc.MediaType.IsIndex() {
				t.Fatalf("Resolve = %s %s, want index %s", d, desc.MediaType, idx)
			}
			refs, descs, err := oci.ResolveChildren(ctx, d)
			if err != nil {
				t.Fatalf("ResolveChildren: %v", err)
			}
			var got, want []string
			for _, r := range refs {
				got = append(got, r.String())
			}
			want = append(want, idx.String())
			for _, c := range children {
				want = append(want, c.String())
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("ResolveChildren = %v, want %v", got, want)
			}
			// Sign every one of them (as --recursive does) and find each signature again.
			for i, r := range refs {
				if _, err := oci.AttachBundle(ctx, r, descs[i], fakeBundle(i), sigAnnotations(), oci.WithConfirmDelay(1)); err != nil {
					t.Fatalf("AttachBundle(%s): %v", r, err)
				}
			}
			for i, r := range refs {
				got, err := oci.ListAttached(ctx, r, []oci.Kind{oci.KindSignature})
				if err != nil || len(got) != 1 || string(got[0].Bytes) != string(fakeBundle(i)) {
					t.Fatalf("ListAttached(%s) = %v, %v; want its one signature", r, got, err)
				}
			}
		})
	}
}

// TestConcurrentAttachesAllSurvive runs 20 attaches at once on one image against
// distribution 2.8 (and an in-process registry without the referrers API), which have no
// conditional writes: every bundle attach
// rewrites the referrers tag index, every legacy attach the .sig tag. All 20 must be listed
// afterwards.
func TestConcurrentAttachesAllSurvive(t *testing.T) {
	ctx := context.Background()
	hosts := map[string]string{}
	hosts["ggcr-without-referrers"], _ = testutil.NewRegistryWithoutReferrers(t)
	if testutil.WantDistribution() {
		hosts["distribution"] = testutil.StartDistribution(t)
	}
	const n = 20
	type tc struct {
		name, host string
		layout     oci.Layout
	}
	var tests []tc
	for regName, host := range hosts {
		tests = append(tests, tc{regName + "/bundles", host, oci.LayoutBundle}, tc{regName + "/legacy signatures", host, oci.LayoutLegacy})
	}
	for _, tt := range tests {
		host := tt.host
		t.Run(tt.name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, host, "race/"+string(tt.layout))
			_, desc := resolve(t, ctx, img)
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if tt.layout == oci.LayoutBundle {
						_, errs[i] = oci.AttachBundle(ctx, img, desc, fakeBundle(i), sigAnnotations())
					} else {
						errs[i] = oci.AttachLegacy(ctx, img, oci.KindSignature, fakeBundle(i), oci.MediaTypeSimpleSigning, nil)
					}
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("attach #%d: %v", i, err)
				}
			}
			got, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindSignature})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, a := range got {
				if a.Layout == tt.layout {
					seen[string(a.Bytes)] = true
				}
			}
			if len(seen) != n {
				t.Fatalf("%d of %d concurrent signatures survived", len(seen), n)
			}
		})
	}
}

func TestRemoveBothLayoutsKeepsImage(t *testing.T) {
	ctx := context.Background()
	for regName, host := range registries(t) {
		for _, mode := range []oci.ReferrersMode{oci.ReferrersAuto, oci.ReferrersLegacy} {
			t.Run(regName+"/"+string(mode), func(t *testing.T) {
				opts := []oci.Option{oci.WithReferrersMode(mode), oci.WithConfirmDelay(1)}
				img := testutil.PushRandomImage(t, host, "clean/"+string(mode))
				_, desc := resolve(t, ctx, img)
				mustAttach := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatal(err)
					}
				}
				_, err := oci.AttachBundle(ctx, img, desc, fakeBundle(1), sigAnnotations(), opts...)
				mustAttach(err)
				_, err = oci.AttachBundle(ctx, img, desc, fakeBundle(2), attAnnotations(), opts...)
				mustAttach(err)
				mustAttach(oci.AttachLegacy(ctx, img, oci.KindSignature, []byte(`{"a":1}`), oci.MediaTypeSimpleSigning, nil, opts...))
				mustAttach(oci.AttachLegacy(ctx, img, oci.KindAttestation, []byte(`{"b":1}`), oci.MediaTypeDSSE, nil, opts...))
				mustAttach(oci.AttachLegacy(ctx, img, oci.KindSBOM, []byte(`{"c":1}`), "text/spdx+json", nil, opts...))

				removed, err := oci.Remove(ctx, img, []oci.Kind{oci.KindSignature}, opts...)
				if err != nil {
					t.Fatalf("Remove(signature): %v", err)
				}
				if len(removed) != 2 || !strings.HasSuffix(removed[1], ".sig") {
					t.Fatalf("Remove(signature) removed %v, want the signature bundle and the .sig tag", removed)
				}
				left, err := oci.ListAttached(ctx, img, nil, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if len(left) != 3 {
					t.Fatalf("after removing signatures %d artifacts are left, want 3", len(left))
				}
				for _, a := range left {
					if a.Kind == oci.KindSignature {
						t.Fatalf("a signature survived: %+v", a)
					}
				}
				removed, err = oci.Remove(ctx, img, nil, opts...)
				if err != nil {
					t.Fatalf("Remove(all): %v", err)
				}
				if len(removed) != 3 {
					t.Fatalf("Remove(all) removed %v, want 3", removed)
				}
				left, err = oci.ListAttached(ctx, img, nil, opts...)
				if err != nil || len(left) != 0 {
					t.Fatalf("after Remove(all): %d artifacts, %v", len(left), err)
				}
				// The referrers tag index is gone, and the image is still there.
				if _, _, err := oci.Resolve(ctx, oci.ReferrersTag(img).String()); err == nil {
					t.Fatalf("referrers tag %s still exists", oci.ReferrersTag(img))
				}
				resolve(t, ctx, img)
			})
		}
	}
}

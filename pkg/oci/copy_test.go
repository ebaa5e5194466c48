package oci_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// decorate attaches a signature and an attestation bundle and legacy .sig/.att/.sbom layers
// to d, and returns a summary of what is attached.
func decorate(t *testing.T, ctx context.Context, d name.Digest, desc v1.Descriptor, seed int, opts ...oci.Option) []string {
	t.Helper()
	opts = append(opts, oci.WithConfirmDelay(1))
	if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(seed), sigAnnotations(), opts...); err != nil {
		t.Fatal(err)
	}
	if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(seed+1), attAnnotations(), opts...); err != nil {
		t.Fatal(err)
	}
	for _, k := range []oci.Kind{oci.KindSignature, oci.KindAttestation, oci.KindSBOM} {
		if err := oci.AttachLegacy(ctx, d, k, []byte(`{"kind":"`+string(k)+`"}`), "application/json", map[string]string{"k": string(k)}, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return summary(t, ctx, d, opts...)
}

// summary lists what is attached to d as sorted "kind/layout/digest" strings.
func summary(t *testing.T, ctx context.Context, d name.Digest, opts ...oci.Option) []string {
	t.Helper()
	got, err := oci.ListAttached(ctx, d, nil, opts...)
	if err != nil {
		t.Fatalf("ListAttached(%s): %v", d, err)
	}
	return summarize(got)
}

func summarize(as []oci.Attached) []string {
	var out []string
	for _, a := range as {
		out = append(out, string(a.Kind)+"/"+string(a.Layout)+"/"+a.Descriptor.Digest.String()+"/"+string(a.Bytes))
	}
	sort.Strings(out)
	return out
}

func TestCopyBetweenRegistries(t *testing.T) {
	ctx := context.Background()
	ggcr, _ := testutil.NewRegistry(t)
	noAPI, _ := testutil.NewRegistryWithoutReferrers(t)
	tests := []struct{ name, from, to string }{
		{"ggcr to ggcr without referrers API", ggcr, noAPI},
		{"ggcr without referrers API to ggcr", noAPI, ggcr},
	}
	if testutil.WantDistribution() {
		dist := testutil.StartDistribution(t)
		tests = append(tests, struct{ name, from, to string }{"ggcr to distribution", ggcr, dist},
			struct{ name, from, to string }{"distribution to ggcr", dist, ggcr})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, children := testutil.PushRandomIndex(t, tt.from, "src", 2)
			want := map[string][]string{}
			for i, s := range append([]name.Digest{idx}, children...) {
				_, desc := resolve(t, ctx, s)
				want[s.DigestStr()] = decorate(t, ctx, s, desc, 10*i)
			}
			dst := tt.to + "/dst:copied"
			got, copied, err := oci.Copy(ctx, idx.Context().Tag("latest").String(), dst, oci.WithConfirmDelay(1))
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if got.DigestStr() != idx.DigestStr() {
				t.Fatalf("Copy wrote %s, want digest %s", got, idx.DigestStr())
			}
			if len(copied) != 3*5 {
				t.Fatalf("Copy copied %d artifacts, want 15: %v", len(copied), copied)
			}
			d, _, err := oci.Resolve(ctx, dst)
			if err != nil || d.DigestStr() != idx.DigestStr() {
				t.Fatalf("Resolve(%s) = %s, %v", dst, d, err)
			}
			for dig, w := range want {
				s := d.Context().Digest(dig)
				if g := summary(t, ctx, s); strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Fatalf("at the destination %s has\n%s\nwant\n%s", s, strings.Join(g, "\n"), strings.Join(w, "\n"))
				}
			}
		})
	}
}

func TestSaveLoadThroughLayout(t *testing.T) {
	ctx := context.Background()
	ggcr, _ := testutil.NewRegistry(t)
	dist, _ := testutil.NewRegistryWithoutReferrers(t)
	if testutil.WantDistribution() {
		dist = testutil.StartDistribution(t)
	}
	img := testutil.PushRandomImage(t, ggcr, "app")
	_, desc := resolve(t, ctx, img)
	want := decorate(t, ctx, img, desc, 1)

	dir := filepath.Join(t.TempDir(), "layout")
	saved, artifacts, err := oci.Save(ctx, img.Context().Tag("latest").String(), dir)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	if saved.DigestStr() != img.DigestStr() || len(artifacts) != 5 {
		t.Fatalf("Save = %s, %v", saved, artifacts)
	}
	// Offline: the layout alone lists the same artifacts.
	imgs, err := oci.LayoutImages(dir)
	if err != nil || len(imgs) != 1 || imgs[0].Digest.String() != img.DigestStr() {
		t.Fatalf("LayoutImages = %v, %v", imgs, err)
	}
	local, err := oci.ListAttachedLayout(ctx, dir, imgs[0].Digest, nil)
	if err != nil {
		t.Fatalf("ListAttachedLayout: %v", err)
	}
	if g := summarize(local); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("layout lists\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	// Load into distribution (or, in -short mode, an in-process registry without the
	// referrers API): the tag fallback, and list there.
	loaded, _, err := oci.Load(ctx, dir, dist+"/air/gapped:v1", oci.WithConfirmDelay(1))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if loaded.DigestStr() != img.DigestStr() {
		t.Fatalf("Load pushed %s, want %s", loaded, img.DigestStr())
	}
	if g := summary(t, ctx, loaded); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after Load\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestLayoutTampering(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "app")
	_, desc := resolve(t, ctx, img)
	decorate(t, ctx, img, desc, 1)
	dir := t.TempDir()
	if _, _, err := oci.Save(ctx, img.String(), dir); err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(img.DigestStr())
	got, err := oci.ListAttached(ctx, img, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite the bundle blob of the first bundle with other bytes.
	var bundleLayer string
	for _, a := range got {
		if a.Layout == oci.LayoutBundle {
			bundleLayer = filepath.Join(dir, "blobs", "sha256", sha256Hex(a.Bytes))
			break
		}
	}
	if err := os.WriteFile(bundleLayer, []byte(`{"tampered":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = oci.ListAttachedLayout(ctx, dir, h, nil)
	if !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("ListAttachedLayout of a tampered layout = %v, want ErrDigestMismatch", err)
	}
	if _, err := oci.ListAttachedLayout(ctx, t.TempDir(), h, nil); err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Fatalf("ListAttachedLayout of an empty dir = %v", err)
	}
}

// TestSaveIndexListsChildren saves a multi-arch index whose children are signed (as
// sign --recursive leaves it) and reads every child's signatures from the layout alone.
func TestSaveIndexListsChildren(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	idx, children := testutil.PushRandomIndex(t, host, "multi", 2)
	want := map[string][]string{}
	for i, s := range append([]name.Digest{idx}, children...) {
		_, desc := resolve(t, ctx, s)
		want[s.DigestStr()] = decorate(t, ctx, s, desc, 10*i)
	}
	dir := t.TempDir()
	if _, saved, err := oci.Save(ctx, idx.String(), dir); err != nil || len(saved) != 15 {
		t.Fatalf("Save = %v, %v; want 15 artifacts", saved, err)
	}
	imgs, err := oci.LayoutImages(dir)
	if err != nil || len(imgs) != 3 {
		t.Fatalf("LayoutImages = %v, %v; want the index and 2 children", imgs, err)
	}
	for _, d := range imgs {
		got, err := oci.ListAttachedLayout(ctx, dir, d.Digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := strings.Join(summarize(got), "\n"), strings.Join(want[d.Digest.String()], "\n"); g != w {
			t.Fatalf("layout lists for %s\n%s\nwant\n%s", d.Digest, g, w)
		}
	}
	// Load into another registry: the index, its children and all their artifacts arrive.
	other, _ := testutil.NewRegistry(t)
	loaded, _, err := oci.Load(ctx, dir, other+"/loaded:v1")
	if err != nil || loaded.DigestStr() != idx.DigestStr() {
		t.Fatalf("Load = %s, %v", loaded, err)
	}
	for dig, w := range want {
		if g := summary(t, ctx, loaded.Context().Digest(dig)); strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Fatalf("after Load %s has\n%s\nwant\n%s", dig, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
}

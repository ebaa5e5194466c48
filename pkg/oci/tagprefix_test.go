package oci_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// TestLegacyTagPrefix: signatures kept under prefixed legacy tags are found with the prefix,
// and only with it.
func TestLegacyTagPrefix(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	d := testutil.PushRandomImage(t, host, "test/prefixed")
	if err := oci.AttachLegacy(ctx, d, oci.KindSignature, []byte(`{"critical":{}}`), oci.MediaTypeSimpleSigning, nil); err != nil {
		t.Fatal(err)
	}
	plain := oci.LegacyTag(d, oci.SuffixSignature)
	desc, err := remote.Get(plain)
	if err != nil {
		t.Fatal(err)
	}
	prefixed, err := name.NewTag(d.Context().String() + ":release-" + plain.TagStr())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(prefixed, desc); err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(plain); err != nil {
		t.Fatal(err)
	}
	kinds := []oci.Kind{oci.KindSignature}
	got, err := oci.ListAttached(ctx, d, kinds, oci.WithLegacyTagPrefix("release-"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Tag != prefixed.TagStr() {
		t.Fatalf("with the prefix: %+v, want the layer of %s", got, prefixed.TagStr())
	}
	if got, err := oci.ListAttached(ctx, d, kinds); err != nil || len(got) != 0 {
		t.Fatalf("without the prefix: %+v, %v; want nothing", got, err)
	}
}

package oci_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Example attaches a bundle to an image and finds it again, as sign and verify do.
func Example() {
	ctx := context.Background()
	srv := httptest.NewServer(testutil.RegistryHandler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	img, err := random.Image(256, 1)
	if err != nil {
		log.Fatal(err)
	}
	tag, err := name.NewTag(host + "/app:v1")
	if err != nil {
		log.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		log.Fatal(err)
	}

	// One cache per command, so credentials are negotiated once.
	opts := []oci.Option{oci.WithAuthCache(oci.NewAuthCache())}
	subject, desc, err := oci.Resolve(ctx, tag.String(), opts...)
	if err != nil {
		log.Fatal(err)
	}
	bundleJSON := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)
	ann := map[string]string{
		oci.AnnotationBundleContent:       oci.BundleContentDSSE,
		oci.AnnotationBundlePredicateType: oci.PredicateTypeCosignSign,
	}
	if _, err := oci.AttachBundle(ctx, subject, desc, bundleJSON, ann, opts...); err != nil {
		log.Fatal(err)
	}

	found, err := oci.ListAttached(ctx, subject, []oci.Kind{oci.KindSignature},
		append(opts, oci.WithLegacyLookup(oci.LegacyIfNoBundles))...)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range found {
		fmt.Println(a.Kind, a.Layout, a.ArtifactType, string(a.Bytes) == string(bundleJSON))
	}
	// Output: signature bundle application/vnd.dev.sigstore.bundle.v0.3+json true
}

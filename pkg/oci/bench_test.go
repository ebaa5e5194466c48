package oci_test

import (
	"context"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// BenchmarkAttachBundle measures sign's registry work (Resolve + AttachBundle) against the
// in-process registry (referrers API) and reports requests per operation.
func BenchmarkAttachBundle(b *testing.B) {
	ctx := context.Background()
	host, counter := testutil.NewRegistry(b)
	img := testutil.PushRandomImage(b, host, "bench")
	tagged := img.Context().Tag("latest").String()
	counter.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, desc, err := oci.Resolve(ctx, tagged)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(i), sigAnnotations()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counter.Count())/float64(b.N), "requests/op")
}

// BenchmarkAttachBundleTagFallback is BenchmarkAttachBundle against distribution 2.8 (no
// referrers API: the referrers tag index is updated and confirmed).
func BenchmarkAttachBundleTagFallback(b *testing.B) {
	ctx := context.Background()
	host, counter := testutil.CountingProxy(b, testutil.StartDistribution(b))
	img := testutil.PushRandomImage(b, host, "bench")
	tagged := img.Context().Tag("latest").String()
	counter.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, desc, err := oci.Resolve(ctx, tagged)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(i), sigAnnotations(), oci.WithConfirmDelay(1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counter.Count())/float64(b.N), "requests/op")
}

// BenchmarkListAttached50 measures verify's registry work (Resolve + ListAttached) on an
// image with 50 bundle signatures and reports requests per operation.
func BenchmarkListAttached50(b *testing.B) {
	ctx := context.Background()
	host, counter := testutil.NewRegistry(b)
	img := testutil.PushRandomImage(b, host, "bench")
	_, desc, err := oci.Resolve(ctx, img.String())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := oci.AttachBundle(ctx, img, desc, fakeBundle(i), sigAnnotations()); err != nil {
			b.Fatal(err)
		}
	}
	tagged := img.Context().Tag("latest").String()
	counter.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, _, err := oci.Resolve(ctx, tagged)
		if err != nil {
			b.Fatal(err)
		}
		got, err := oci.ListAttached(ctx, d, []oci.Kind{oci.KindSignature}, oci.WithLegacyLookup(oci.LegacyIfNoBundles))
		if err != nil || len(got) != 50 {
			b.Fatalf("ListAttached = %d, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(counter.Count())/float64(b.N), "requests/op")
}

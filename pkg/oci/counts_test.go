package oci_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/google/go-containerregistry/pkg/name"
)

type countedRegistry struct {
	name    string
	host    string
	counter *testutil.RequestCounter
	// Budgets: sign (Resolve + AttachBundle) for the first and later signatures in a
	// repository, verify of one signature (Resolve + ListAttached).
	signFirst, signLater, verifyOne int
}

// countedRegistries returns the registries whose requests are counted: the in-process
// registry (referrers API) and distribution 2.8 behind a counting proxy (tag fallback).
func countedRegistries(t *testing.T) []countedRegistry {
	t.Helper()
	host, c := testutil.NewRegistry(t)
	out := []countedRegistry{{name: "ggcr-referrers-api", host: host, counter: c, signFirst: 7, signLater: 7, verifyOne: 4}}
	// The tag fallback on a registry that accepts single-request uploads.
	noAPI, nc := testutil.NewRegistryWithoutReferrers(t)
	out = append(out, countedRegistry{name: "ggcr-tag-fallback", host: noAPI, counter: nc, signFirst: 9, signLater: 9, verifyOne: 5})
	if testutil.WantDistribution() {
		ph, pc := testutil.CountingProxy(t, testutil.StartDistribution(t))
		// The first signature in a repository also uploads the 2-byte empty config (POST+PUT);
		// later ones mount it from the repository in one POST.
		out = append(out, countedRegistry{name: "distribution-tag-fallback", host: ph, counter: pc, signFirst: 10, signLater: 9, verifyOne: 5})
	}
	return out
}

func signOnce(t *testing.T, ctx context.Context, ref string, i int, opts ...oci.Option) name.Digest {
	t.Helper()
	d, desc, err := oci.Resolve(ctx, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(i), sigAnnotations(), opts...); err != nil {
		t.Fatal(err)
	}
	return d
}

func verifyOnce(t *testing.T, ctx context.Context, ref string, opts ...oci.Option) []oci.Attached {
	t.Helper()
	d, _, err := oci.Resolve(ctx, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := oci.ListAttached(ctx, d, []oci.Kind{oci.KindSignature}, append(opts, oci.WithLegacyLookup(oci.LegacyIfNoBundles))...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRequestCounts measures sign and verify against both registries and holds them to
// their budgets: sign <= 7 requests with the referrers API, <= 9 with the tag fallback
// (10 for the very first signature in a repository); verify of one signature <= 4 with the
// referrers API (5 with the tag fallback: the API answers 404 first); verify with 50
// bundles <= 105, fetched concurrently.
func TestRequestCounts(t *testing.T) {
	ctx := context.Background()
	opts := []oci.Option{oci.WithConfirmDelay(1)}
	for _, r := range countedRegistries(t) {
		t.Run(r.name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, r.host, "counts")
			tagged := img.Context().Tag("latest").String()
			check := func(what string, budget int) {
				t.Helper()
				n := r.counter.Count()
				t.Logf("%s: %d requests: %s", what, n, strings.Join(r.counter.Requests(), ", "))
				if n > budget {
					t.Errorf("%s made %d requests, budget %d", what, n, budget)
				}
				r.counter.Reset()
			}
			r.counter.Reset()
			signOnce(t, ctx, tagged, 0, opts...)
			check("sign (first in repository)", r.signFirst)
			if got := verifyOnce(t, ctx, tagged, opts...); len(got) != 1 {
				t.Fatalf("verify found %d signatures, want 1", len(got))
			}
			check("verify, 1 signature", r.verifyOne)
			signOnce(t, ctx, tagged, 1, opts...)
			check("sign (later)", r.signLater)
			for i := 2; i < 50; i++ {
				signOnce(t, ctx, tagged, i, opts...)
			}
			r.counter.Reset()
			if got := verifyOnce(t, ctx, tagged, opts...); len(got) != 50 {
				t.Fatalf("verify found %d signatures, want 50", len(got))
			}
			check("verify, 50 signatures", 105)
		})
	}
}

// TestListAttachedFetchesConcurrently lists 50 bundles from a registry that takes 20ms per
// request: fetched one by one that would take over 2s.
func TestListAttachedFetchesConcurrently(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: "GET", PathContains: "/v2/slow/", Handle: testutil.Delay(20 * time.Millisecond)})
	img := testutil.PushRandomImage(t, host, "slow")
	_, desc := resolve(t, ctx, img)
	for i := 0; i < 50; i++ {
		if _, err := oci.AttachBundle(ctx, img, desc, fakeBundle(i), sigAnnotations()); err != nil {
			t.Fatal(err)
		}
	}
	counter.Reset()
	start := time.Now()
	got, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindSignature}, oci.WithLegacyLookup(oci.LegacyIfNoBundles))
	elapsed := time.Since(start)
	if err != nil || len(got) != 50 {
		t.Fatalf("ListAttached = %d, %v; want 50", len(got), err)
	}
	t.Logf("50 bundles: %d requests, %v, at most %d in flight", counter.Count(), elapsed, counter.MaxInFlight())
	if counter.MaxInFlight() < 4 {
		t.Errorf("at most %d requests in flight, want concurrent fetches", counter.MaxInFlight())
	}
	if elapsed > time.Second {
		t.Errorf("took %v, a sequential fetch takes about 2s", elapsed)
	}
	if counter.Count() > 101 {
		t.Errorf("made %d requests, want 1 + 2 per bundle", counter.Count())
	}
}

// TestLargeBundleUpload attaches a 3 MiB bundle: too large to send twice, it is not put in
// the POST body but uploaded once with PUT after the registry opens the session.
func TestLargeBundleUpload(t *testing.T) {
	ctx := context.Background()
	for _, r := range countedRegistries(t) {
		t.Run(r.name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, r.host, "large")
			_, desc := resolve(t, ctx, img)
			big := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","pad":"` + strings.Repeat("x", 3<<20) + `"}`)
			r.counter.Reset()
			if _, err := oci.AttachBundle(ctx, img, desc, big, attAnnotations(), oci.WithConfirmDelay(1)); err != nil {
				t.Fatal(err)
			}
			if n := r.counter.CountMatching("PUT /v2/large/blobs/uploads/"); n < 1 {
				t.Fatalf("the large blob was not uploaded with PUT: %v", r.counter.Requests())
			}
			got, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindAttestation})
			if err != nil || len(got) != 1 || len(got[0].Bytes) != len(big) {
				t.Fatalf("ListAttached = %d, %v", len(got), err)
			}
		})
	}
}

// TestRequestCountsLegacyLayout measures sign --new-bundle-format=false (Resolve +
// AttachLegacy) and verify of that signature (Resolve + ListAttached, which looks for bundles
// first); cosign v3.1 makes 14 and 5 requests for these.
func TestRequestCountsLegacyLayout(t *testing.T) {
	ctx := context.Background()
	for _, r := range countedRegistries(t) {
		t.Run(r.name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, r.host, "legacy")
			tagged := img.Context().Tag("latest").String()
			r.counter.Reset()
			d, _, err := oci.Resolve(ctx, tagged)
			if err != nil {
				t.Fatal(err)
			}
			if err := oci.AttachLegacy(ctx, d, oci.KindSignature, []byte(`{"critical":{}}`), oci.MediaTypeSimpleSigning,
				map[string]string{oci.AnnotationSignature: "c2ln"}, oci.WithConfirmDelay(1)); err != nil {
				t.Fatal(err)
			}
			sign := r.counter.Count()
			t.Logf("legacy sign: %d requests: %s", sign, strings.Join(r.counter.Requests(), ", "))
			r.counter.Reset()
			if got := verifyOnce(t, ctx, tagged); len(got) != 1 || got[0].Layout != oci.LayoutLegacy {
				t.Fatalf("verify found %v", got)
			}
			verify := r.counter.Count()
			t.Logf("legacy verify: %d requests: %s", verify, strings.Join(r.counter.Requests(), ", "))
			if sign > 14 || verify > 6 {
				t.Errorf("legacy sign %d (cosign: 14), verify %d (budget 6: referrers list, tag index, .sig, layer)", sign, verify)
			}
		})
	}
}

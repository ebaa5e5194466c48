package oci_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// countedRegistries returns, for each registry, a host whose requests are counted.
func countedRegistries(t *testing.T) map[string]struct {
	host    string
	counter *testutil.RequestCounter
} {
	t.Helper()
	out := map[string]struct {
		host    string
		counter *testutil.RequestCounter
	}{}
	host, c := testutil.NewRegistry(t)
	out["ggcr"] = struct {
		host    string
		counter *testutil.RequestCounter
	}{host, c}
	if testutil.DistributionBinary() != "" || testutil.RequireAll() {
		ph, pc := testutil.CountingProxy(t, testutil.StartDistribution(t))
		out["distribution"] = struct {
			host    string
			counter *testutil.RequestCounter
		}{ph, pc}
	}
	return out
}

// TestRequestCounts asserts the request budgets: sign (Resolve + AttachBundle) <= 7 with the
// referrers API and <= 9 with the tag fallback; verify of one signature (Resolve +
// ListAttached) <= 4 with the referrers API.
func TestRequestCounts(t *testing.T) {
	ctx := context.Background()
	for regName, r := range countedRegistries(t) {
		t.Run(regName, func(t *testing.T) {
			opts := []oci.Option{oci.WithConfirmDelay(1)}
			img := testutil.PushRandomImage(t, r.host, "counts")
			tagged := img.Context().Tag("latest").String()
			for i := 0; i < 2; i++ {
				r.counter.Reset()
				d, desc, err := oci.Resolve(ctx, tagged, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := oci.AttachBundle(ctx, d, desc, fakeBundle(i), sigAnnotations(), opts...); err != nil {
					t.Fatal(err)
				}
				signN := r.counter.Count()
				t.Logf("%s sign #%d: %d requests: %s", regName, i+1, signN, strings.Join(r.counter.Requests(), ", "))
				budget := 7
				if regName == "distribution" {
					budget = 9
					if i == 0 {
						budget = 10 // the first signature in a repository also uploads the empty config
					}
				}
				if signN > budget {
					t.Errorf("sign #%d made %d requests, budget %d", i+1, signN, budget)
				}
			}
			r.counter.Reset()
			d, _, err := oci.Resolve(ctx, tagged, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := oci.ListAttached(ctx, d, []oci.Kind{oci.KindSignature}, append(opts, oci.WithLegacyLookup(oci.LegacyIfNoBundles))...)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("found %d signatures, want 2", len(got))
			}
			verifyN := r.counter.Count()
			t.Logf("%s verify (2 signatures): %d requests: %s", regName, verifyN, strings.Join(r.counter.Requests(), ", "))
		})
	}
}

package cosign

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// registryLatency is the delay added to every registry request in the timing comparison, as a
// registry across a network would add.
const registryLatency = 5 * time.Millisecond

// image50 pushes an image to host carrying 50 CycloneDX attestations (bundle layout) signed by s
// and returns it by tag.
func image50(tb testing.TB, host string, s signer.Signer) string {
	tb.Helper()
	img := testutil.PushRandomImage(tb, host, "bench/app")
	pred := attestData(tb, "sbom.cdx.json")
	for i := 0; i < 50; i++ {
		if _, err := AttestImage(context.Background(), img.String(), AttestOptions{Signer: s, PredicateType: attest.PredicateCycloneDX, Predicate: pred}); err != nil {
			tb.Fatal(err)
		}
	}
	return img.Context().Tag("latest").String()
}

func benchSigner(tb testing.TB) signer.Signer {
	tb.Helper()
	s, err := signer.GenerateEphemeral()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestVerify50AttestationsRequests checks the request budget: verifying an image with 50
// attestations reads its manifest, the referrers list, each attestation's manifest and bundle,
// and looks for the legacy tag: at most 105 requests. It also checks that the fetches overlap.
func TestVerify50AttestationsRequests(t *testing.T) {
	host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: "GET", Handle: testutil.Delay(registryLatency)})
	s := benchSigner(t)
	ref := image50(t, host, s)
	o := keyedAttestationOptions(t, s.Public(), "cyclonedx")
	counter.Reset()
	got, err := VerifyImageAttestations(context.Background(), ref, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("%d attestations verified, want 50", len(got))
	}
	n := counter.Count()
	t.Logf("verify-attestation with 50 attestations: %d requests, at most %d in flight", n, counter.MaxInFlight())
	if n > 105 {
		t.Fatalf("%d requests, the budget is 105:\n%v", n, counter.Requests())
	}
	if counter.MaxInFlight() < 2 {
		t.Fatalf("the fetches did not overlap (at most %d in flight)", counter.MaxInFlight())
	}
}

// BenchmarkVerifyAttestations50 verifies an image with 50 attestations on a registry that adds
// registryLatency to each request, with concurrent fetches (the default) and one at a time, and
// reports requests per verification.
func BenchmarkVerifyAttestations50(b *testing.B) {
	host, counter := testutil.NewHostileRegistry(b, testutil.Rule{Method: "GET", Handle: testutil.Delay(registryLatency)})
	s := benchSigner(b)
	ref := image50(b, host, s)
	for _, bc := range []struct {
		name string
		opts []oci.Option
	}{
		{"concurrent", nil},
		{"sequential", []oci.Option{oci.WithConcurrency(1)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := keyedAttestationOptions(b, s.Public(), "cyclonedx")
			o.Registry = bc.opts
			counter.Reset()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := VerifyImageAttestations(context.Background(), ref, o)
				if err != nil || len(got) != 50 {
					b.Fatalf("verified %d: %v", len(got), err)
				}
			}
			b.ReportMetric(float64(counter.Count())/float64(b.N), "requests/op")
		})
	}
}

// TestVerify50AttestationsFasterThanSequential checks the time target: concurrent fetching
// verifies 50 attestations in at most a third of the time one-at-a-time fetching takes, on a
// registry with registryLatency per request.
func TestVerify50AttestationsFasterThanSequential(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison")
	}
	host, _ := testutil.NewHostileRegistry(t, testutil.Rule{Method: "GET", Handle: testutil.Delay(registryLatency)})
	s := benchSigner(t)
	ref := image50(t, host, s)
	run := func(opts []oci.Option) time.Duration {
		o := keyedAttestationOptions(t, s.Public(), "cyclonedx")
		o.Registry = opts
		best := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			start := time.Now()
			if _, err := VerifyImageAttestations(context.Background(), ref, o); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	concurrent := run(nil)
	sequential := run([]oci.Option{oci.WithConcurrency(1)})
	t.Logf("50 attestations, %v per request: concurrent %v, sequential %v (%.1fx)", registryLatency, concurrent, sequential, float64(sequential)/float64(concurrent))
	if concurrent*3 > sequential {
		t.Fatalf("concurrent %v is more than a third of sequential %v", concurrent, sequential)
	}
}

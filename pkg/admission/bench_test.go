package admission

import (
	"sort"
	"testing"
	"time"
)

// BenchmarkValidate answers a Deployment of three signed images (one with an attestation)
// over HTTPS: with a warm cache (the verifications of the first review are reused) and with
// none (each review lists and verifies every signature again). It reports the latency's p50
// and p99 and the registry requests per review; without the cache an image's signatures are
// listed once per review however many authorities judge it, where policy-controller's design
// fetches them once per authority.
func BenchmarkValidate(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"warm-cache", time.Hour}, {"no-cache", -1}} {
		b.Run(c.name, func(b *testing.B) {
			w := newKeyedWorldTB(b, Config{Decider: DeciderOptions{CacheTTL: c.ttl}})
			body := fixture(b, "deployment", w.signed.String(), w.legacy.String(), w.attested.String())
			if r := w.hook.review("/validate", body); !r.Allowed {
				b.Fatalf("refused: %s", message(r))
			}
			w.counter.Reset()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if r := w.hook.review("/validate", body); !r.Allowed {
					b.Fatalf("refused: %s", message(r))
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(w.counter.Count())/float64(b.N), "registry-req/review")
		})
	}
}

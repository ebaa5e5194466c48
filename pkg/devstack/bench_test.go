package devstack

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// BenchmarkKeylessPhases signs an image keyless through a warm local stack and reports the
// median time of each phase: token, certificate, signature with timestamp and log entry, and
// the registry writes; then verification by identity (fetch and check).
func BenchmarkKeylessPhases(b *testing.B) {
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	img, err := PushSample(ctx, st.RegistryHost+"/bench/keyless:v1", nil)
	if err != nil {
		b.Fatal(err)
	}
	trBytes, _ := os.ReadFile(st.TrustedRootPath)
	trusted, err := root.ParseTrustedRoot(trBytes)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := trusted.LogKeys(st.LogURL)
	if err != nil {
		b.Fatal(err)
	}
	tr, _ := root.ParseTrustedRoot(trBytes)
	v, _ := verify.New(tr)
	policy := verify.Policy{Identity: &verify.Identity{Subject: "alice@example.com", Issuer: st.OIDCURL}}
	_, desc, err := oci.Resolve(ctx, img.String())
	if err != nil {
		b.Fatal(err)
	}
	phases := map[string][]time.Duration{}
	lap := func(name string, start time.Time) time.Time {
		now := time.Now()
		phases[name] = append(phases[name], now.Sub(start))
		return now
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
		if err != nil {
			b.Fatal(err)
		}
		t = lap("token", t)
		s, chain, err := cosign.Keyless(ctx, st.CAURL, token)
		if err != nil {
			b.Fatal(err)
		}
		t = lap("cert", t)
		statement, _ := bundle.NewImageStatement(img.Context().Name(), desc.Digest.Hex, nil)
		if _, err := cosign.SignStatement(ctx, statement, s, &cosign.BundleOptions{Chain: chain, TSAURL: st.TSAURL}); err != nil {
			b.Fatal(err)
		}
		t = lap("sign+timestamp", t)
		if _, err := cosign.SignStatement(ctx, statement, s, &cosign.BundleOptions{Chain: chain, RekorURL: st.LogURL, LogKeys: keys}); err != nil {
			b.Fatal(err)
		}
		t = lap("sign+log", t)
		bnd, err := cosign.SignStatement(ctx, statement, s, &cosign.BundleOptions{Chain: chain, TSAURL: st.TSAURL, RekorURL: st.LogURL, LogKeys: keys})
		if err != nil {
			b.Fatal(err)
		}
		t = lap("sign+timestamp+log", t)
		out, _ := bundle.Marshal(bnd)
		if _, err := oci.AttachBundle(ctx, img, desc, out, map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: oci.PredicateTypeCosignSign}); err != nil {
			b.Fatal(err)
		}
		t = lap("registry", t)
		if _, err := cosign.VerifyImage(ctx, img.String(), cosign.VerifyOptions{Verifier: v, Policy: policy}); err != nil {
			b.Fatalf("verify: %v", err)
		}
		lap("verify", t)
	}
	b.StopTimer()
	for name, ds := range phases {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
	}
}

// BenchmarkKeylessConcurrent100 runs 100 keyless signers at once against one local stack: each
// signature costs a token, a certificate (with its CT log round trip), an RFC 3161 timestamp and
// a transparency log entry. It reports signatures per second.
func BenchmarkKeylessConcurrent100(b *testing.B) {
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	trBytes, _ := os.ReadFile(st.TrustedRootPath)
	trusted, err := root.ParseTrustedRoot(trBytes)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := trusted.LogKeys(st.LogURL)
	if err != nil {
		b.Fatal(err)
	}
	const signers = 100
	jobs := make(chan int)
	errs := make(chan error, signers)
	var mu sync.Mutex
	phases := map[string][]time.Duration{}
	record := func(name string, d time.Duration) {
		mu.Lock()
		phases[name] = append(phases[name], d)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < signers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
				if err != nil {
					errs <- err
					return
				}
				s, chain, err := cosign.Keyless(ctx, st.CAURL, token)
				if err != nil {
					errs <- err
					return
				}
				t1 := time.Now()
				record("cert", t1.Sub(t0))
				data := fmt.Sprint("artifact ", i)
				if _, err := cosign.SignBlob(ctx, strings.NewReader(data), s, &cosign.BundleOptions{Chain: chain, TSAURL: st.TSAURL}); err != nil {
					errs <- err
					return
				}
				t2 := time.Now()
				record("timestamp", t2.Sub(t1))
				w := &cosign.BundleOptions{Chain: chain, RekorURL: st.LogURL, LogKeys: keys}
				if _, err := cosign.SignBlob(ctx, strings.NewReader(data), s, w); err != nil {
					errs <- err
					return
				}
				record("log", time.Since(t2))
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for name, ds := range phases {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"-p50-ms")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signatures/s")
}

package ctlog

import (
	"context"
	"sync"
	"testing"
	"time"

	ctx509 "github.com/google/certificate-transparency-go/x509"
)

// BenchmarkAddPreChain measures precertificate submissions per second (64 concurrent callers,
// in process: chain check, Tessera sequencing, SCT signature).
func BenchmarkAddPreChain(b *testing.B) {
	p := newPKI(b)
	l, _, _ := startLog(b, InitOptions{})
	pre := p.leaf(b, true, time.Now().Add(-time.Minute))
	chain := make([]*ctx509.Certificate, 3)
	for i, der := range [][]byte{pre, p.inter.Raw, p.root.Raw} {
		chain[i], _ = ctx509.ParseCertificate(der)
	}
	work := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < 64; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if _, err := l.Add(context.Background(), chain, true); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "SCTs/s")
}

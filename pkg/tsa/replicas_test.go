package tsa_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// TestTSAReplicasShareOneKey serves one TSA directory from three replicas behind haproxy and
// cuts one off while 16 clients ask for 600 timestamps, retrying through the balancer: every
// timestamp is signed by the one TSA certificate, which chains to the one root.
func TestTSAReplicasShareOneKey(t *testing.T) {
	first := testservers.StartTSA(t)
	ctx := context.Background()
	base := strings.TrimSuffix(first.URL, tsa.TimestampPath)
	hosts := []string{strings.TrimPrefix(base, "http://")}
	var replicas []*testutil.Started[*tsa.Server]
	for range 2 {
		r := testutil.StartServer(t, func(string) (*tsa.Server, error) { return tsa.Open(ctx, first.Dir, tsa.Options{}) })
		replicas = append(replicas, r)
		hosts = append(hosts, strings.TrimPrefix(r.URL, "http://"))
	}
	url := testutil.StartHAProxy(t, hosts) + tsa.TimestampPath
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(first.Chain[len(first.Chain)-1])
	for _, c := range first.Chain[1 : len(first.Chain)-1] {
		inter.AddCert(c)
	}
	const total = 600
	var next, done, retries atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for n := next.Add(1); n <= total; n = next.Add(1) {
				var der []byte
				var err error
				for attempt := 0; ; attempt++ {
					if der, err = tsa.Timestamp(ctx, url, fmt.Appendf(nil, "signature %d", n)); err == nil {
						break
					}
					if attempt == 50 {
						t.Errorf("timestamp %d not granted after 50 attempts: %v", n, err)
						return
					}
					retries.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
				ts, err := timestamp.ParseResponse(der)
				if err != nil {
					t.Errorf("timestamp %d: %v", n, err)
					continue
				}
				if len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(first.Chain[0]) {
					t.Errorf("timestamp %d is not signed by the TSA's one certificate", n)
					continue
				}
				if _, err := ts.Certificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
					t.Errorf("timestamp %d: the TSA certificate does not chain to the root: %v", n, err)
				}
				if done.Add(1) == total/3 {
					_ = replicas[1].Kill()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d timestamps from 3 replicas (one cut off after %d), %d retries", done.Load(), total/3, retries.Load())
	if done.Load() != total {
		t.Fatalf("%d timestamps granted, want %d", done.Load(), total)
	}
}

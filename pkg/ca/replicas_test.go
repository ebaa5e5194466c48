package ca_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TestCAReplicasShareOneKey serves one CA directory from three replicas behind haproxy, and cuts
// one replica off while 16 signers request 300 certificates, retrying through the balancer:
// every certificate chains to the one root, and each embeds an SCT for its own entry in the CT
// log's tree.
func TestCAReplicasShareOneKey(t *testing.T) {
	first, url, replicas := startCAReplicas(t, 3)
	ctx := context.Background()
	roots := x509.NewCertPool()
	roots.AddCert(first.Chain[len(first.Chain)-1])

	const total, signers = 300, 16
	var next, done atomic.Int64
	var mu sync.Mutex
	indices := map[uint64]bool{}
	retries := 0
	var wg sync.WaitGroup
	for range signers {
		wg.Go(func() {
			for n := next.Add(1); n <= total; n = next.Add(1) {
				s, err := signer.GenerateEphemeral()
				if err != nil {
					t.Error(err)
					return
				}
				tok := testservers.Token(t, first.Issuer, fmt.Sprintf("signer%d@example.com", n))
				var chain []*x509.Certificate
				for attempt := 0; ; attempt++ {
					if chain, err = ca.RequestCertificate(ctx, url, tok, s); err == nil {
						break
					}
					if attempt == 50 {
						t.Errorf("certificate %d not issued after 50 attempts: %v", n, err)
						return
					}
					mu.Lock()
					retries++
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
				}
				if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool(chain[1:]),
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
					t.Errorf("certificate %d does not chain to the CA's root: %v", n, err)
				}
				if err := ctlog.VerifyEmbeddedSCT(chain[0].Raw, chain[1].Raw, first.CTLog.PublicKey); err != nil {
					t.Errorf("certificate %d: %v", n, err)
				}
				idx, err := sctLeafIndex(chain[0].Raw)
				if err != nil {
					t.Errorf("certificate %d: %v", n, err)
				}
				mu.Lock()
				if indices[idx] {
					t.Errorf("two certificates embed an SCT for CT log entry %d", idx)
				}
				indices[idx] = true
				mu.Unlock()
				if done.Add(1) == total/3 {
					_ = replicas[1].Kill()
				}
			}
		})
	}
	wg.Wait()
	var highest uint64
	for idx := range indices {
		highest = max(highest, idx)
	}
	// The CT log publishes its checkpoint about once a second.
	size := ctTreeSize(t, first.CTLog.URL)
	for deadline := time.Now().Add(10 * time.Second); size <= highest && time.Now().Before(deadline); size = ctTreeSize(t, first.CTLog.URL) {
		time.Sleep(100 * time.Millisecond)
	}
	for idx := range indices {
		if idx >= size {
			t.Errorf("a certificate's SCT names CT log entry %d, beyond the tree size %d", idx, size)
		}
	}
	t.Logf("%d certificates from 3 replicas (one cut off after %d), %d retries; CT log tree size %d", len(indices), total/3, retries, size)
	if len(indices) != total {
		t.Fatalf("%d certificates issued, want %d", len(indices), total)
	}
}

// startCAReplicas serves one CA directory (with its dev issuer and CT log) from n replicas
// behind haproxy; it returns the first, the balancer's URL and the other replicas.
func startCAReplicas(tb testing.TB, n int) (*testservers.CA, string, []*testutil.Started[*ca.Server]) {
	tb.Helper()
	first := testservers.StartCA(tb)
	opts := ca.Options{Issuers: []ca.IssuerConfig{{URL: first.Issuer.Issuer(), Type: ca.IssuerEmail}},
		CTURL: first.CTLog.URL, CTPublicKey: first.CTLog.PublicKey}
	hosts := []string{strings.TrimPrefix(first.URL, "http://")}
	var replicas []*testutil.Started[*ca.Server]
	for range n - 1 {
		r := testutil.StartServer(tb, func(string) (*ca.Server, error) { return ca.Open(context.Background(), first.Dir, opts) })
		replicas = append(replicas, r)
		hosts = append(hosts, strings.TrimPrefix(r.URL, "http://"))
	}
	return first, testutil.StartHAProxy(tb, hosts), replicas
}

// BenchmarkCAReplicas issues 2,000 certificates to 64 clients through haproxy from 1 and from 3
// replicas of one CA (all in this process, with the CT log and the issuer), reporting
// certificates/s (make bench runs it once: -benchtime 1x).
func BenchmarkCAReplicas(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			first, url, _ := startCAReplicas(b, n)
			tok, err := first.Issuer.Token(oidc.TokenRequest{Email: "bench@example.com", Lifetime: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			const total, clients = 2000, 64
			for b.Loop() {
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for range clients {
					wg.Go(func() {
						s, err := signer.GenerateEphemeral()
						if err != nil {
							b.Error(err)
							return
						}
						for next.Add(1) <= total {
							if _, err := ca.RequestCertificate(context.Background(), url, tok, s); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(total/time.Since(start).Seconds(), "certs/s")
			}
		})
	}
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// sctLeafIndex is the CT log entry index that the SCT embedded in a certificate names.
func sctLeafIndex(der []byte) (uint64, error) {
	leaf, err := ctx509.ParseCertificate(der)
	if err != nil && ctx509.IsFatal(err) {
		return 0, err
	}
	if len(leaf.SCTList.SCTList) != 1 {
		return 0, fmt.Errorf("certificate embeds %d SCTs, want 1", len(leaf.SCTList.SCTList))
	}
	var sct ct.SignedCertificateTimestamp
	if _, err := cttls.Unmarshal(leaf.SCTList.SCTList[0].Val, &sct); err != nil {
		return 0, err
	}
	return testservers.CTLeafIndex(&sct)
}

// ctTreeSize reads the size of the CT log's checkpoint (its second line).
func ctTreeSize(t *testing.T, url string) uint64 {
	t.Helper()
	resp, err := http.Get(url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		t.Fatalf("CT log checkpoint %q", b)
	}
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("CT log checkpoint size %q: %v", lines[1], err)
	}
	return n
}

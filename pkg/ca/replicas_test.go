package ca_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TestCAReplicaKilledUnderLoad serves one CA directory from three `ca serve` processes behind
// haproxy, submitting to a CT log of two `ct serve` front-ends on MariaDB + S3, and SIGKILLs one
// replica while 16 signers request 300 certificates, retrying through the balancer: every
// certificate chains to the one root, and embeds an SCT whose entry is in the CT log's tree at
// the index it names, with an inclusion proof (no certificate is missing from the CT log). The
// intermediate key is in a file, or in one SoftHSM token that every replica opens.
func TestCAReplicaKilledUnderLoad(t *testing.T) {
	for _, key := range []string{"file", "pkcs11"} {
		t.Run(key, func(t *testing.T) {
			var k caKey
			if key == "pkcs11" {
				module := testutil.NewSoftHSMToken(t, "ca-replicas", "1234", nil)
				k = caKey{init: []string{"--kms", "pkcs11:token=ca-replicas;object=ca-intermediate?module-path=" + module, "--pkcs11-pin", "1234"},
					serve: []string{"--pkcs11-pin", "1234"}}
			}
			testCAReplicaKilled(t, k)
		})
	}
}

// caKey is where a CA's intermediate key is kept: the flags of ca init and ca serve (none for a
// key file).
type caKey struct{ init, serve []string }

func testCAReplicaKilled(t *testing.T, key caKey) {
	set := startCAReplicas(t, 3, key)
	if _, err := os.Stat(filepath.Join(set.dir, ca.KeyFile)); key.init != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written for a token-held intermediate key: %v", err)
	}
	ctx := context.Background()
	roots := x509.NewCertPool()
	roots.AddCert(set.root)

	const total, signers = 300, 16
	var next, done atomic.Int64
	var mu sync.Mutex
	entries := map[uint64][]byte{} // leaf hash of each certificate's CT log entry, by index
	retries := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range signers {
		wg.Go(func() {
			for n := next.Add(1); n <= total; n = next.Add(1) {
				s, err := signer.GenerateEphemeral()
				if err != nil {
					t.Error(err)
					return
				}
				tok := testservers.Token(t, set.issuer, fmt.Sprintf("signer%d@example.com", n))
				var chain []*x509.Certificate
				for attempt := 0; ; attempt++ {
					if chain, err = ca.RequestCertificate(ctx, set.url, tok, s); err == nil {
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
				if err := ctlog.VerifyEmbeddedSCT(chain[0].Raw, chain[1].Raw, set.ct.PublicKey); err != nil {
					t.Errorf("certificate %d: %v", n, err)
				}
				idx, hash, err := ctEntry(chain[0].Raw, chain[1].Raw)
				if err != nil {
					t.Errorf("certificate %d: %v", n, err)
					return
				}
				mu.Lock()
				if _, ok := entries[idx]; ok {
					t.Errorf("two certificates embed an SCT for CT log entry %d", idx)
				}
				entries[idx] = hash
				mu.Unlock()
				if done.Add(1) == total/3 {
					set.replicas.Procs[1].Kill()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var highest uint64
	for idx := range entries {
		highest = max(highest, idx)
	}
	tree := set.ct.ReadTree(t, highest+1)
	for idx, h := range entries {
		tree.CheckIncluded(t, idx, h)
	}
	t.Logf("%d certificates from 3 replicas (one SIGKILLed after %d) in %s, %d requests retried; CT log tree of %d entries",
		len(entries), total/3, elapsed.Round(time.Millisecond), retries, tree.Size)
	if len(entries) != total {
		t.Fatalf("%d certificates issued, want %d", len(entries), total)
	}
}

// caReplicas is one CA directory served by `ca serve` processes behind haproxy.
type caReplicas struct {
	dir      string
	url      string // the balancer
	root     *x509.Certificate
	issuer   *oidc.DevIssuer
	ct       *testservers.CTFrontEnds
	replicas *testutil.Balanced
}

// startCAReplicas runs `ca init` and n `ca serve` processes on its directory, as a user starts
// them, behind haproxy; they trust a dev issuer (email identities) and submit to a CT log of two
// `ct serve` front-ends on MariaDB + S3 that accepts chains to the CA's root.
func startCAReplicas(tb testing.TB, n int, key caKey) *caReplicas {
	tb.Helper()
	bin := testutil.Binary(tb)
	dir := filepath.Join(testutil.StorageDir(tb), "ca")
	if out, err := exec.Command(bin, append([]string{"ca", "init", "--dir", dir, "--url", "http://ca.test"}, key.init...)...).CombinedOutput(); err != nil {
		tb.Fatalf("cosign-like ca init: %v\n%s", err, out)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ca.ChainFile))
	if err != nil {
		tb.Fatal(err)
	}
	r := &caReplicas{dir: dir, root: chain[len(chain)-1], issuer: testservers.StartIssuer(tb, oidc.DevIssuerOptions{})}
	r.ct = testservers.StartCTFrontEnds(tb, bin, 2, pki.EncodeCertificates([]*x509.Certificate{r.root}))
	r.replicas = testutil.StartBalanced(tb, n, func(int) *testutil.ServerProcess {
		return testutil.StartServerCommand(tb, "CA", nil, bin, append([]string{"ca", "serve", "--dir", dir, "--addr", "127.0.0.1:0",
			"--log-level", "warn", "--ct-url", r.ct.URL, "--ct-public-key", r.ct.PublicKeyFile,
			"--issuer", r.issuer.Issuer() + ",type=email"}, key.serve...)...)
	})
	r.url = r.replicas.URL
	return r
}

// BenchmarkCAReplicas issues 2,000 certificates to 64 clients through haproxy from 1 and from 3
// `ca serve` processes of one CA (the CT log two front-ends on MariaDB + S3; the clients and the
// issuer in this process), reporting certificates/s and the p50 and p99 request latency (make
// bench runs it once: -benchtime 1x).
func BenchmarkCAReplicas(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			set := startCAReplicas(b, n, caKey{})
			tok, err := set.issuer.Token(oidc.TokenRequest{Email: "bench@example.com", Lifetime: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			const total, clients = 2000, 64
			for b.Loop() {
				var next atomic.Int64
				var mu sync.Mutex
				var latency []time.Duration
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
							t0 := time.Now()
							if _, err := ca.RequestCertificate(context.Background(), set.url, tok, s); err != nil {
								b.Error(err)
								return
							}
							mu.Lock()
							latency = append(latency, time.Since(t0))
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				b.ReportMetric(total/time.Since(start).Seconds(), "certs/s")
				slices.Sort(latency)
				if len(latency) > 0 {
					b.ReportMetric(float64(latency[len(latency)/2].Milliseconds()), "p50-ms")
					b.ReportMetric(float64(latency[len(latency)*99/100].Milliseconds()), "p99-ms")
				}
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

// ctEntry is the CT log entry that the SCT embedded in a certificate (DER, with its issuer's)
// names: its index and the Merkle leaf hash of the precertificate entry the CA logged.
func ctEntry(der, issuerDER []byte) (uint64, []byte, error) {
	var chain []*ctx509.Certificate
	for _, d := range [][]byte{der, issuerDER} {
		c, err := ctx509.ParseCertificate(d)
		if err != nil && ctx509.IsFatal(err) {
			return 0, nil, err
		}
		chain = append(chain, c)
	}
	if n := len(chain[0].SCTList.SCTList); n != 1 {
		return 0, nil, fmt.Errorf("certificate embeds %d SCTs, want 1", n)
	}
	var sct ct.SignedCertificateTimestamp
	if _, err := cttls.Unmarshal(chain[0].SCTList.SCTList[0].Val, &sct); err != nil {
		return 0, nil, err
	}
	idx, err := testservers.CTLeafIndex(&sct)
	if err != nil {
		return 0, nil, err
	}
	leaf, err := ct.MerkleTreeLeafForEmbeddedSCT(chain, sct.Timestamp)
	if err != nil {
		return 0, nil, err
	}
	h, err := testservers.CTLeafHash(leaf, &sct)
	return idx, h, err
}

package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// BenchmarkIssue64Clients measures certificates per second with 64 concurrent clients over
// HTTP: token verification (JWKS cached), CSR check, precertificate, CT log round trip (SCT
// signed after Tessera sequencing) and final certificate. It reports p50 latency and the
// process RSS (CA, CT log and issuer all run in this process).
func BenchmarkIssue64Clients(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, IssuerEmail, oidc.DevIssuerOptions{Algorithm: alg})
			tok := e.token(b, oidc.TokenRequest{Email: "bench@example.com", Lifetime: time.Hour})
			const clients = 64
			bodies := make([][]byte, clients)
			for i := range bodies {
				s, _ := signer.GenerateEphemeral()
				csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, signer.AsCryptoSigner(s))
				if err != nil {
					b.Fatal(err)
				}
				var req SigningCertRequest
				req.Credentials.OIDCIdentityToken = tok
				req.CertificateSigningRequest = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
				bodies[i], _ = json.Marshal(req)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			post := func(body []byte) error {
				resp, err := client.Post(e.caURL+SigningCertPath, "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return &httpStatusError{resp.StatusCode}
				}
				return nil
			}
			if err := post(bodies[0]); err != nil { // warm: discovery and JWKS fetched once
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			var next int
			var wg sync.WaitGroup
			work := make(chan struct{}, b.N)
			for i := 0; i < b.N; i++ {
				work <- struct{}{}
			}
			close(work)
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(body []byte) {
					defer wg.Done()
					var mine []time.Duration
					for range work {
						t0 := time.Now()
						if err := post(body); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					next++
					mu.Unlock()
				}(bodies[c])
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "certs/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
			b.ReportMetric(float64(rssKiB())/1024, "RSS-MiB")
			// CPU of the whole process (clients, CA, CT log) per certificate: the figure that
			// does not depend on what else the machine runs.
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "CPU-ms/cert")
		})
	}
}

type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return "HTTP " + strconv.Itoa(e.code) }

// rssKiB reads the resident set size of this process from /proc (0 elsewhere).
func rssKiB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return 0
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

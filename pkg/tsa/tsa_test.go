package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1" //nolint:gosec // building a refused request
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	trustroot "github.com/cosign-like/cosign-like/pkg/root"
)

// newTestTSA initialises a TSA in a temporary directory and serves it over HTTP; it returns the
// directory and the TSA's base URL.
func newTestTSA(t testing.TB) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://tsa.test/api/v1/timestamp"}); err != nil {
		t.Fatal(err)
	}
	return dir, testutil.StartServer(t, func(string) (*Server, error) { return Open(context.Background(), dir, Options{}) }).URL
}

func TestInitWritesChainAndTrustedRoot(t *testing.T) {
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://tsa.test/api/v1/timestamp"}); err != nil {
		t.Fatal(err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 {
		t.Fatalf("chain has %d certificates, want 2", len(chain))
	}
	leaf, root := chain[0], chain[1]
	critical := false
	for _, e := range leaf.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			critical = e.Critical
		}
	}
	if !critical || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Fatalf("TSA certificate EKU %v critical=%v, want critical timeStamping", leaf.ExtKeyUsage, critical)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatalf("TSA certificate does not chain: %v", err)
	}
	tr, err := trustroot.ReadTrustedRoot(filepath.Join(dir, TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.TimestampAuthorities) != 1 || len(tr.TimestampAuthorities[0].CertChain.Certificates) != 2 ||
		tr.TimestampAuthorities[0].Uri != "http://tsa.test/api/v1/timestamp" ||
		!bytes.Equal(tr.TimestampAuthorities[0].CertChain.Certificates[0].RawBytes, leaf.Raw) {
		t.Fatalf("trusted root timestampAuthorities = %v", tr.TimestampAuthorities)
	}
	if len(tr.CertificateAuthorities)+len(tr.Ctlogs)+len(tr.Tlogs) != 0 {
		t.Fatal("TSA trusted root part lists other services")
	}
	if err := Init(context.Background(), dir, InitOptions{}); !errors.Is(err, ErrStateExists) {
		t.Fatalf("second Init = %v, want ErrStateExists", err)
	}
}

func TestTimestampVerifiesWithOpenSSL(t *testing.T) {
	needOpenSSL(t)
	dir, base := newTestTSA(t)
	signature := []byte("a signature to timestamp")
	resp, err := Timestamp(context.Background(), base+TimestampPath, signature)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	opensslVerify(t, resp, signature, chain)
	// The chain endpoint serves the same certificates.
	res, err := http.Get(base + CertChainPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(body, pki.EncodeCertificates(chain)) {
		t.Fatalf("certchain endpoint returned %q", body)
	}
}

// needOpenSSL skips the test where openssl is missing, and fails it in CI.
func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl not installed")
		}
		t.Skip("openssl not installed")
	}
}

// opensslVerify has openssl verify resp over data against chain (TSA certificate, root), and
// refuse it over other data. It returns the path of resp on disk.
func opensslVerify(t *testing.T, resp, data []byte, chain []*x509.Certificate) string {
	t.Helper()
	work := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	respPath := write("resp.tsr", resp)
	rootPath := write("root.pem", pki.EncodeCertificates(chain[1:]))
	leafPath := write("leaf.pem", pki.EncodeCertificates(chain[:1]))
	verify := func(dataPath string) (string, error) {
		out, err := exec.Command("openssl", "ts", "-verify", "-in", respPath, "-data", dataPath,
			"-CAfile", rootPath, "-untrusted", leafPath).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(write("data.bin", data)); err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	if out, err := verify(write("other.bin", append([]byte("other "), data...))); err == nil || !strings.Contains(out, "message imprint mismatch") {
		t.Fatalf("openssl ts -verify on other data: %v\n%s", err, out)
	}
	return respPath
}

func mustRequest(t *testing.T, r timestamp.Request) []byte {
	t.Helper()
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestBadRequestsRefused(t *testing.T) {
	_, base := newTestTSA(t)
	sum := sha256.Sum256([]byte("x"))
	sum1 := sha1.Sum([]byte("x")) //nolint:gosec
	tests := []struct {
		name        string
		contentType string
		body        []byte
		code        int
		want        string
	}{
		{"wrong content type", "text/plain", mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:]}), 415, "want application/timestamp-query or application/json"},
		{"garbage", QueryContentType, []byte("not DER"), 400, "bad timestamp request"},
		{"SHA-1", QueryContentType, mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: sum1[:]}), 400, "hash algorithm SHA-1 not accepted"},
		{"short imprint", QueryContentType, mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:20]}), 400, "message imprint of 20 bytes"},
		{"foreign policy", QueryContentType, mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}), 400, "policy 1.2.3 not accepted"},
		{"negative nonce", QueryContentType, mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: big.NewInt(-5)}), 400, "nonce must be a non-negative"},
		{"too large", QueryContentType, make([]byte, MaxRequestSize+1), 413, "request body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := http.Post(base+TimestampPath, tc.contentType, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.code || !strings.Contains(string(body), tc.want) {
				t.Fatalf("HTTP %d %q, want %d containing %q", res.StatusCode, body, tc.code, tc.want)
			}
		})
	}
	res, err := http.Get(base + TimestampPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET timestamp: HTTP %d, want 405", res.StatusCode)
	}
}

func TestClientRefusesBadResponses(t *testing.T) {
	dir, _ := newTestTSA(t)
	a, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"HTTP error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down for maintenance", 503) }, "HTTP 503: down for maintenance"},
		{"garbage", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("garbage")) }, "invalid timestamp response"},
		{"other digest", func(w http.ResponseWriter, _ *http.Request) {
			sum := sha256.Sum256([]byte("something else"))
			resp, _ := a.Respond(mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true}))
			_, _ = w.Write(resp)
		}, "message imprint does not match"},
		{"nonce dropped", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			req, _ := timestamp.ParseRequest(body)
			req.Nonce = nil
			resp, _ := a.Respond(mustRequestTB(*req))
			_, _ = w.Write(resp)
		}, "nonce does not match"},
		{"rejection", func(w http.ResponseWriter, _ *http.Request) {
			resp, _ := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
			_, _ = w.Write(resp)
		}, "the request is rejected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := httptest.NewServer(tc.handler)
			defer s.Close()
			_, err := Timestamp(context.Background(), s.URL, []byte("sig"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Timestamp = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func mustRequestTB(r timestamp.Request) []byte {
	der, err := r.Marshal()
	if err != nil {
		panic(err)
	}
	return der
}

func FuzzParseRequest(f *testing.F) {
	sum := sha256.Sum256([]byte("x"))
	f.Add(mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true, Nonce: big.NewInt(7)}))
	f.Add(mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA512, HashedMessage: make([]byte, 64), TSAPolicyOID: PolicyOID}))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		req, err := ParseRequest(der)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if len(req.HashedMessage) != req.HashAlgorithm.Size() {
			t.Fatalf("accepted imprint of %d bytes for %v", len(req.HashedMessage), req.HashAlgorithm)
		}
	})
}

// BenchmarkTimestampHTTP measures timestamps per second over HTTP with parallel clients.
func BenchmarkTimestampHTTP(b *testing.B) {
	_, base := newTestTSA(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := base + TimestampPath
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := TimestampWithClient(context.Background(), client, url, []byte("signature")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "timestamps/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "CPU-ms/op")
}

// BenchmarkRespond measures the TSA's own work per timestamp (parse, sign, encode), without
// HTTP or client-side checks, in parallel on all CPUs.
func BenchmarkRespond(b *testing.B) {
	dir, _ := newTestTSA(b)
	a, err := Open(context.Background(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("signature"))
	req := mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true, Nonce: big.NewInt(42)})
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Respond(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "timestamps/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "CPU-ms/op")
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTimestampServerHTTP measures the server over HTTP with light clients: 64 goroutines
// post one prepared request and read the answer without checking it (BenchmarkTimestampHTTP
// runs the full client, which verifies every response).
func BenchmarkTimestampServerHTTP(b *testing.B) {
	_, base := newTestTSA(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	sum := sha256.Sum256([]byte("signature"))
	req := mustRequestTB(timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true, Nonce: big.NewInt(42)})
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(base+TimestampPath, QueryContentType, bytes.NewReader(req))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "timestamps/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "CPU-ms/op")
}

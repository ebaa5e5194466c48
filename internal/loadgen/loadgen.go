// Package loadgen drives a transparency log with concurrent hashedrekord submissions over
// loopback HTTP and measures throughput and latency. It is bounded in count and time and refuses
// any target that is not on a loopback address.
package loadgen

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Limits on one run.
const (
	MaxEntries  = 200000
	MaxDuration = 5 * time.Minute
	MaxClients  = 4096
)

// Config is one load run.
type Config struct {
	// URL is the log's base URL; it must be on a loopback address.
	URL string
	// Clients is the number of concurrent submitters, each waiting for its answer.
	Clients int
	// Entries bounds the submissions (at most MaxEntries); Duration bounds the run (at most
	// MaxDuration). The run stops at whichever comes first.
	Entries  int
	Duration time.Duration
	// VerifyEvery checks the full answer (body, inclusion proof and, when Keys are given, the
	// checkpoint signature) of every n-th entry; 0 = 100.
	VerifyEvery int
	Keys        []tlog.LogKey
}

// Result is what a run measured.
type Result struct {
	Clients       int
	Acknowledged  int
	Failed        int
	Elapsed       time.Duration
	PerSecond     float64
	P50, P95, P99 time.Duration
	FirstError    string
}

// String renders one result line.
func (r *Result) String() string {
	s := fmt.Sprintf("clients=%-5d acked=%-6d failed=%-4d elapsed=%-7s entries/s=%-8.0f p50=%-7s p95=%-7s p99=%s",
		r.Clients, r.Acknowledged, r.Failed, r.Elapsed.Round(time.Millisecond), r.PerSecond,
		r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.P99.Round(time.Millisecond))
	if r.FirstError != "" {
		s += " first-error=" + strconv.Quote(r.FirstError)
	}
	return s
}

// CheckLoopback refuses URLs whose host is not a loopback address.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", raw, err)
	}
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("load target %q is not a loopback address", raw)
}

// Prepare signs n distinct artifacts with one ECDSA P-256 key and returns the request bodies, so
// that signing does not compete with the server during the timed run.
func Prepare(n int) ([][]byte, error) {
	if n <= 0 || n > MaxEntries {
		return nil, fmt.Errorf("entries must be in 1..%d", MaxEntries)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for i := range out {
		d := sha256.Sum256(fmt.Appendf(nil, "load %x %d", nonce, i))
		sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		if err != nil {
			return nil, err
		}
		req, err := tlog.NewHashedRekordRequest(sig, d[:], crypto.SHA256, der, false)
		if err != nil {
			return nil, err
		}
		if out[i], err = req.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run submits the prepared request bodies with cfg.Clients concurrent clients.
func Run(ctx context.Context, cfg Config, bodies [][]byte) (*Result, error) {
	if err := CheckLoopback(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Clients < 1 || cfg.Clients > MaxClients {
		return nil, fmt.Errorf("clients must be in 1..%d", MaxClients)
	}
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		cfg.Duration = MaxDuration
	}
	if cfg.Entries <= 0 || cfg.Entries > len(bodies) {
		cfg.Entries = len(bodies)
	}
	if cfg.VerifyEvery <= 0 {
		cfg.VerifyEvery = 100
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	hc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients, IdleConnTimeout: 30 * time.Second},
	}
	defer hc.CloseIdleConnections()
	endpoint := strings.TrimSuffix(cfg.URL, "/") + "/api/v2/log/entries"
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, cfg.Entries)
	res := &Result{Clients: cfg.Clients}
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Entries {
					return
				}
				t0 := time.Now()
				err := submit(ctx, hc, endpoint, bodies[i], i%cfg.VerifyEvery == 0, cfg.Keys)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil || !errors.Is(err, context.DeadlineExceeded) {
						res.Failed++
						if res.FirstError == "" {
							res.FirstError = err.Error()
						}
					}
				} else {
					res.Acknowledged++
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if res.Elapsed > 0 {
		res.PerSecond = float64(res.Acknowledged) / res.Elapsed.Seconds()
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.P50, res.P95, res.P99 = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99)
	return res, nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// submit posts one request and reads the whole answer (the entry with its inclusion proof).
func submit(ctx context.Context, hc *http.Client, endpoint string, body []byte, verify bool, keys []tlog.LogKey) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(out))
	}
	if !verify {
		return nil
	}
	var tle rekorv1.TransparencyLogEntry
	if err := protojson.Unmarshal(out, &tle); err != nil {
		return fmt.Errorf("decoding answer: %w", err)
	}
	if len(keys) == 0 {
		if tle.GetInclusionProof().GetCheckpoint().GetEnvelope() == "" {
			return fmt.Errorf("answer without an inclusion proof: %.200s", out)
		}
		return nil
	}
	if _, err := tlog.VerifyEntry(&tle, keys, nil); err != nil {
		return fmt.Errorf("answer does not verify: %w", err)
	}
	return nil
}

// ProcessRSS returns the resident and peak resident memory of process pid, from /proc.
func ProcessRSS(pid int) (rss, peak int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "VmHWM:":
			peak = v << 10
		}
	}
	return rss, peak, nil
}

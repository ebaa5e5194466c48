package logserver

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend appends signed entries through the HTTP API of a real server (POSIX storage
// in a temp dir) from parallel clients (b.SetParallelism x GOMAXPROCS), each waiting for its
// inclusion proof. Requests are signed before the timer starts.
func BenchmarkAppend(b *testing.B) {
	for _, par := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("clients=%d", par), func(b *testing.B) {
			tl := newTestLog(b, nil)
			s := newECDSASigner(b, elliptic.P256(), crypto.SHA256)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				req := s.request(b, fmt.Appendf(nil, "bench %d %d", par, i))
				bodies[i], _ = req.MarshalJSON()
			}
			postParallel(b, tl.url+"/api/v2/log/entries", bodies, par)
			reportGroups(b, tl)
		})
	}
}

// postParallel POSTs bodies (b.N of them) to url from par x GOMAXPROCS clients, each waiting for
// its 201, and reports entries/s.
func postParallel(b *testing.B, url string, bodies [][]byte, par int) {
	b.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096}}
	var next atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			resp, err := hc.Post(url, "application/json", bytes.NewReader(bodies[i]))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}

// reportGroups prints the group metrics of a benchmark's server.
func reportGroups(b *testing.B, tl *testLog) {
	b.Helper()
	resp, err := http.Get(tl.url + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, l := range bytes.Split(m, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("tlog_group_entries_sum")) || bytes.HasPrefix(l, []byte("tlog_group_entries_count")) || bytes.HasPrefix(l, []byte("tlog_group_write_seconds_sum")) {
			b.Log(string(l))
		}
	}
}

// BenchmarkWitnessedAppend appends signed entries one after another through the HTTP API of a
// real server, with no witness policy and with a policy requiring one witness (ours, over HTTP
// on 127.0.0.1, its state flushed to disk), at the default checkpoint interval and at 100 ms,
// and reports the p50 and p99 latency of an append: with the witness, its answer waits for a
// checkpoint that the witness cosigned and the storage published. Requests are signed before
// the timer starts.
func BenchmarkWitnessedAppend(b *testing.B) {
	for _, interval := range []time.Duration{DefaultCheckpointInterval, 100 * time.Millisecond} {
		for _, witnessed := range []bool{false, true} {
			name := fmt.Sprintf("interval=%v/witnesses=0", interval)
			if witnessed {
				name = fmt.Sprintf("interval=%v/witnesses=1", interval)
			}
			b.Run(name, func(b *testing.B) {
				setInterval := func(o *Options) { o.CheckpointInterval = interval }
				var tl *testLog
				if witnessed {
					tl, _, _ = newWitnessedLog(b, DefaultWitnessTimeout, false, setInterval)
				} else {
					tl = newTestLog(b, setInterval)
				}
				s := newECDSASigner(b, elliptic.P256(), crypto.SHA256)
				bodies := make([][]byte, b.N)
				for i := range bodies {
					req := s.request(b, fmt.Appendf(nil, "witnessed bench %v %d", name, i))
					bodies[i], _ = req.MarshalJSON()
				}
				took := make([]time.Duration, b.N)
				b.ResetTimer()
				for i := range b.N {
					start := time.Now()
					resp, err := http.Post(tl.url+"/api/v2/log/entries", "application/json", bytes.NewReader(bodies[i]))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						b.Fatalf("status %d", resp.StatusCode)
					}
					took[i] = time.Since(start)
				}
				b.StopTimer()
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(took[(len(took)*99)/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

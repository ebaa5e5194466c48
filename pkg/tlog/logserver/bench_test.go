package logserver

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"io"
	"net/http"
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

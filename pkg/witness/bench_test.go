package witness

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// BenchmarkAddCheckpoint submits growing checkpoints, each with its consistency proof from the
// last, to a witness opened from its directory (state flushed to disk before each answer) and
// served over HTTP on 127.0.0.1, from logs parallel clients, each following its own log (the
// witness serialises the checks of one log). The requests are built before the timer starts.
func BenchmarkAddCheckpoint(b *testing.B) {
	for _, logs := range []int{1, 8} {
		b.Run(fmt.Sprintf("logs=%d", logs), func(b *testing.B) {
			mem := make([]*memLog, logs)
			for i := range mem {
				mem[i] = newMemLog(b, fmt.Sprintf("log%d.bench.example", i), byte(i+1))
			}
			w := startWitness(b, initDir(b, mem...), nil)
			// Request j of log i grows its tree from j+1 to j+2 entries (the first from 0).
			perLog := b.N/logs + 1
			bodies := make([][][]byte, logs)
			for i, l := range mem {
				l.grow(perLog+1, "bench")
				for j := range perLog {
					old, size := uint64(j), uint64(j+1)
					req := &tlog.AddCheckpointRequest{OldSize: old, Proof: l.proof(b, old, size), Checkpoint: l.checkpoint(b, size)}
					bodies[i] = append(bodies[i], req.Marshal())
				}
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range logs {
				wg.Go(func() {
					for j := range (b.N + logs - 1 - i) / logs {
						resp, err := hc.Post(w.url+"/add-checkpoint", "text/plain", bytes.NewReader(bodies[i][j]))
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Errorf("log %d request %d: status %d", i, j, resp.StatusCode)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cosignatures/s")
		})
	}
}

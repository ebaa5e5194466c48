package logclient

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

const idle = 300 * time.Millisecond

// TestStalledLog: a log that never answers, stops after its headers, or sends its body slower
// than the idle bound fails reads and submissions within the bound, naming the log and what
// was awaited.
func TestStalledLog(t *testing.T) {
	req := &tlog.HashedRekordRequest{Digest: []byte{1, 2, 3}, Signature: []byte{4, 5}, Verifier: []byte{6}, KeyDetails: 5}
	for _, b := range netutiltest.Behaviours {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			p := netutiltest.Start(t, b, 3*idle)
			c, err := NewClient(p.URL, WithIdleTimeout(idle))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = c.ReadCheckpoint(context.Background())
			netutiltest.AssertStalled(t, err, p, netutiltest.Awaited(b), time.Since(start), idle)

			start = time.Now()
			_, err = Submit(context.Background(), p.URL, req, WithIdleTimeout(idle))
			netutiltest.AssertStalled(t, err, p, netutiltest.Awaited(b), time.Since(start), idle)
		})
	}
}

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
	t.Run("checkpoint", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			c, err := NewClient(p.URL, WithIdleTimeout(idle))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ReadCheckpoint(context.Background())
			return err
		})
	})
	t.Run("submit", func(t *testing.T) {
		netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
			_, err := Submit(context.Background(), p.URL, req, WithIdleTimeout(idle))
			return err
		})
	})
}

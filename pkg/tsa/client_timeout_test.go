package tsa

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

// TestStalledTSA: a TSA that never answers, stops after its headers, or sends its body slower
// than the idle bound fails the timestamp request within the bound, naming the TSA and what
// was awaited.
func TestStalledTSA(t *testing.T) {
	const idle = 300 * time.Millisecond
	netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
		_, err := TimestampWithClient(context.Background(), netutil.Client(nil, idle), p.URL+"/api/v1/timestamp", []byte("signature"))
		return err
	})
}

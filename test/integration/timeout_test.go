package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

// TestVerifyTimeoutAgainstStalledRegistry: verify --timeout 2s against a registry that never
// answers, or that sends its answer a byte at a time (faster than the idle bound, so that only
// the deadline stops it), exits non-zero in about 2 s, naming the registry and what was awaited.
func TestVerifyTimeoutAgainstStalledRegistry(t *testing.T) {
	for _, tc := range []struct {
		b       netutiltest.Behaviour
		awaited string
	}{
		{netutiltest.Silent, "waiting for response headers from"},
		{netutiltest.Trickle, "waiting for the response body from"},
	} {
		t.Run(tc.b.String(), func(t *testing.T) {
			c := newCLI(t)
			c.ok("generate-key-pair")
			p := netutiltest.Start(t, tc.b, 200*time.Millisecond)
			start := time.Now()
			r := c.fails("--timeout 2s ran out", "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--timeout", "2s", p.Host+"/app:v1")
			elapsed := time.Since(start)
			if !strings.Contains(r.stderr, tc.awaited+" "+p.Host) {
				t.Errorf("error output does not say %q: %s", tc.awaited+" "+p.Host, r.stderr)
			}
			if elapsed > 3500*time.Millisecond {
				t.Errorf("verify --timeout 2s exited after %s", elapsed)
			}
		})
	}
}

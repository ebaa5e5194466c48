package ca

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil"
	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TestStalledCA: a CA that never answers, stops after its headers, or sends its body slower
// than the idle bound fails the certificate request within the bound, naming the CA and what
// was awaited.
func TestStalledCA(t *testing.T) {
	const idle = 300 * time.Millisecond
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range netutiltest.Behaviours {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			p := netutiltest.Start(t, b, 3*idle)
			start := time.Now()
			_, err := RequestCertificateWithClient(context.Background(), netutil.Client(nil, idle), p.URL, "a.b.c", s)
			netutiltest.AssertStalled(t, err, p, netutiltest.Awaited(b), time.Since(start), idle)
		})
	}
}

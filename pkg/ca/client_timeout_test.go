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
	netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
		_, err := RequestCertificateWithClient(context.Background(), netutil.Client(nil, idle), p.URL, "a.b.c", s)
		return err
	})
}

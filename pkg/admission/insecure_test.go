package admission

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// TestInsecureRegistryReusesConnections: with InsecureRegistry (--allow-insecure-registry) a
// registry whose certificate no one trusts is read over TLS, through the decider's one
// transport: reviews that each read the registry share a few connections instead of opening
// their own.
func TestInsecureRegistryReusesConnections(t *testing.T) {
	registry := testutil.RegistryHandler()
	plain := testutil.Serve(t, registry)
	var conns atomic.Int64
	tlsSrv := httptest.NewUnstartedServer(registry)
	tlsSrv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	u, err := url.Parse(tlsSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	img := signImage(t, plain, "app", key, false)
	image := u.Host + "/app@" + img.DigestStr()

	pols := parsePolicies(t, keyPolicy(t, "tls", u.Host+"/**", key))
	// Without the setting, a loopback registry is spoken to in plain HTTP, which this one
	// refuses.
	hook := startWebhook(t, Config{Policies: pols, Decider: DeciderOptions{CacheTTL: -1, Registry: []oci.Option{oci.WithRetry(oci.Retry{Attempts: 1})}}})
	if r := hook.review("/validate", fixture(t, "pod", image, image)); r.Allowed || !strings.Contains(message(r), "GET http://"+u.Host) {
		t.Fatalf("plain HTTP to a TLS registry: allowed %t, %q", r.Allowed, message(r))
	}

	hook = startWebhook(t, Config{Policies: pols, Decider: DeciderOptions{CacheTTL: -1, InsecureRegistry: true}})
	conns.Store(0)
	const reviews = 50
	for range reviews {
		if r := hook.review("/validate", fixture(t, "pod", image, image)); !r.Allowed {
			t.Fatalf("refused: %s", message(r))
		}
	}
	requests := hook.metric("cosign_like_admission_registry_requests_total")
	if n := conns.Load(); n > 4 || requests < reviews {
		t.Fatalf("%d reviews made %v registry requests over %d connections; want them to share at most 4", reviews, requests, n)
	}
}

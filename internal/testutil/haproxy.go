package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// HAProxyConfig is the configuration StartHAProxy writes for a round-robin balancer on listen
// over servers (host:port each): a server is taken out after two failed /healthz checks 250 ms
// apart; a request whose connection to a server fails is sent to another (it never reached the
// first, so this is safe for POSTs); nothing else is retried: clients retry.
func HAProxyConfig(listen string, servers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 90s
  timeout server 90s
  retries 3
  option redispatch
  retry-on conn-failure
frontend log
  bind %s
  default_backend frontends
backend frontends
  balance roundrobin
  option httpchk GET /healthz
`, listen)
	for i, s := range servers {
		fmt.Fprintf(&b, "  server fe%d %s check inter 250ms fall 2 rise 2\n", i+1, s)
	}
	return b.String()
}

// StartHAProxy runs Debian's haproxy in front of servers on a free loopback port and returns
// http://<addr>; it stops when the test ends. Without haproxy the test is skipped, or fails when
// RequireAll; in -short mode it is skipped.
func StartHAProxy(tb testing.TB, servers []string) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not starting haproxy")
	}
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/haproxy"); err != nil {
			if RequireAll() {
				tb.Fatal("haproxy is not installed: apt-get install -y haproxy")
			}
			tb.Skip("haproxy is not installed; apt-get install -y haproxy (set CI or COSIGN_LIKE_REQUIRE_ALL to make this fatal)")
		}
	}
	dir := tb.TempDir()
	addr := FreeAddr(tb)
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(HAProxyConfig(addr, servers)), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	var p childProcess
	if err := p.start(cmd); err != nil {
		tb.Fatalf("starting haproxy: %v", err)
	}
	tb.Cleanup(func() { p.stop(5 * time.Second) })
	err = p.awaitReady("haproxy", logf.Name(), 10*time.Second, 50*time.Millisecond, dialable(addr))
	if err != nil {
		tb.Fatal(err)
	}
	return "http://" + addr
}

package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// A request whose body arrives at one byte a second is cut at the read timeout by every server
// of the stack, instead of holding its connection open.
func TestSlowBodiesAreCut(t *testing.T) {
	const readTimeout = time.Second
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: t.TempDir(), ReadTimeout: readTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) }) // after the parallel subtests
	for _, tc := range []struct {
		name, url, contentType string
	}{
		{"ca", st.CAURL + ca.SigningCertPath, "application/json"},
		{"ct", st.CTURL + ctlog.AddPreChainPath, "application/json"},
		{"log", st.LogURL + "/api/v2/log/entries", "application/json"},
		{"tsa", st.TSAURL, "application/timestamp-query"},
		{"tuf", st.TUFMirror + "/root.json", "application/json"},
		{"oidc", st.OIDCURL + oidc.DevMintPath, "application/x-www-form-urlencoded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			open, status := slowPost(t, tc.url, tc.contentType, readTimeout+3*time.Second)
			if open > readTimeout+2*time.Second {
				t.Fatalf("connection open %v (read timeout %v; answer %q)", open, readTimeout, status)
			}
			t.Logf("cut after %v, answer %q", open.Round(10*time.Millisecond), status)
		})
	}
}

// slowPost sends a POST to rawURL announcing a 1000-byte body and sends it one byte a second
// until the server closes the connection or patience runs out. It returns how long the
// connection stayed open and the status line of whatever the server answered.
func slowPost(t *testing.T, rawURL, contentType string, patience time.Duration) (time.Duration, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n", u.RequestURI(), u.Host, contentType); err != nil {
		t.Fatal(err)
	}
	type result struct {
		open   time.Duration
		status string
	}
	closed := make(chan result, 1)
	go func() {
		r := bufio.NewReader(conn)
		status, _ := r.ReadString('\n')
		_, _ = io.Copy(io.Discard, r)
		closed <- result{time.Since(start), strings.TrimSpace(status)}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	giveUp := time.After(patience)
	for {
		select {
		case r := <-closed:
			return r.open, r.status
		case <-tick.C:
			_, _ = conn.Write([]byte("x")) // fails once the server has cut the connection
		case <-giveUp:
			return time.Since(start), "(no end of connection)"
		}
	}
}

// Without Config.ReadTimeout every server keeps its standalone limits; with it, only the read
// timeout changes.
func TestServiceLimits(t *testing.T) {
	for _, override := range []time.Duration{0, 2 * time.Second} {
		s := &Stack{cfg: Config{ReadTimeout: override}}
		for _, ks := range keylessServers {
			want := ks.timeouts
			if override != 0 {
				want.Read = override
			}
			if got := s.service(ks.name, nil, ks.timeouts).Timeouts; got != want {
				t.Errorf("ReadTimeout %v: %s limits %+v, want %+v", override, ks.name, got, want)
			}
		}
	}
	for _, ks := range keylessServers {
		if want := (httpserver.Timeouts{}); ks.name != "log" && ks.timeouts != want {
			t.Errorf("%s has limits of its own: %+v", ks.name, ks.timeouts)
		}
	}
}

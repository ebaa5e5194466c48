package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// runServerCmd runs a serve command until the test ends; it returns its base URL and a function
// that stops it and returns the command's error.
func runServerCmd(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	out := &testutil.SyncBuffer{}
	root.SetOut(out)
	root.SetErr(io.Discard)
	root.SetArgs(append(args, "--addr", addr, "--log-level", "error"))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("%s did not stop", args[0])
		}
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on") {
		select {
		case err := <-done:
			t.Fatalf("%v exited: %v", args, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v did not start", args)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr, stop
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestServersFromTheCommandLine(t *testing.T) {
	work := t.TempDir()
	caDir, ctDir, tsaDir := filepath.Join(work, "ca"), filepath.Join(work, "ct"), filepath.Join(work, "tsa")
	for _, args := range [][]string{
		{"ca", "init", "--dir", caDir},
		{"ct", "init", "--dir", ctDir},
		{"tsa", "init", "--dir", tsaDir},
	} {
		if out, err := runCmd(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// The dev issuer stands in for the operator's OpenID provider.
	issuer := testservers.StartIssuer(t, oidc.DevIssuerOptions{})
	config := filepath.Join(work, "ca.yaml")
	if err := os.WriteFile(config, []byte("issuers:\n  - url: "+issuer.Issuer()+"\n    type: email\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctURL, stopCT := runServerCmd(t, "ct", "serve", "--dir", ctDir)
	caURL, stopCA := runServerCmd(t, "ca", "serve", "--dir", caDir, "--config", config, "--ct-url", ctURL,
		"--ct-public-key", filepath.Join(ctDir, "ct_pub.pem"),
		"--issuer", "http://127.0.0.1:1/other,type=username")
	tsaURL, stopTSA := runServerCmd(t, "tsa", "serve", "--dir", tsaDir)

	tok, _ := issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
	out, err := runCmd(t, "ca", "cert", "--fulcio-url", caURL, "--identity-token", tok)
	if err != nil {
		t.Fatalf("ca cert: %v", err)
	}
	chain, err := pki.ParseCertificates([]byte(out))
	if err != nil || len(chain) != 3 || chain[0].EmailAddresses[0] != "alice@example.com" {
		t.Fatalf("ca cert printed %d certificates (%v):\n%s", len(chain), err, out)
	}
	if _, err := runCmd(t, "ca", "cert", "--fulcio-url", caURL, "--identity-token", "x.y.z"); err == nil ||
		!strings.Contains(err.Error(), "invalid identity token") {
		t.Fatalf("ca cert with a bad token: %v", err)
	}
	if _, err := tsa.Timestamp(context.Background(), tsaURL+tsa.TimestampPath, []byte("sig")); err != nil {
		t.Fatalf("timestamp from tsa serve: %v", err)
	}
	for _, u := range []string{caURL + "/healthz", ctURL + "/healthz", tsaURL + "/healthz", caURL + "/metrics", caURL + "/api/v2/configuration", caURL + "/api/v2/trustBundle"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
		if strings.HasSuffix(u, "/metrics") && !strings.Contains(string(body), `cosign_like_ca_requests_total{code="200",path="POST /api/v2/signingCert"} 1`) {
			t.Errorf("metrics lack the issued certificate:\n%s", body)
		}
		if strings.HasSuffix(u, "/configuration") {
			var c struct {
				Issuers []struct{ IssuerURL, Audience, ChallengeClaim string }
			}
			_ = json.Unmarshal(body, &c)
			if len(c.Issuers) != 2 || c.Issuers[0].ChallengeClaim == c.Issuers[1].ChallengeClaim {
				t.Errorf("configuration: %s", body)
			}
		}
	}
	for name, stop := range map[string]func() error{"ca": stopCA, "ct": stopCT, "tsa": stopTSA} {
		if err := stop(); err != nil {
			t.Errorf("%s serve did not shut down cleanly: %v", name, err)
		}
	}

	merged := filepath.Join(work, "trusted_root.json")
	if _, err := runCmd(t, "trusted-root", "create", "--from", filepath.Join(caDir, "trusted_root.json"),
		"--from", filepath.Join(ctDir, "trusted_root.json"), "--from", filepath.Join(tsaDir, "trusted_root.json"), "--out", merged); err != nil {
		t.Fatal(err)
	}
	tr, err := root.ReadTrustedRoot(merged)
	if err != nil || len(tr.CertificateAuthorities) != 1 || len(tr.Ctlogs) != 1 || len(tr.TimestampAuthorities) != 1 {
		t.Fatalf("merged trusted root: %v %v", tr, err)
	}
	out, err = runCmd(t, "signing-config", "create", "--fulcio-url", caURL, "--rekor-url", "http://127.0.0.1:3003",
		"--timestamp-server-url", tsaURL+tsa.TimestampPath, "--oidc-url", issuer.Issuer())
	if err != nil || !strings.Contains(out, `"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"`) {
		t.Fatalf("signing-config create: %v\n%s", err, out)
	}

	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"ca", "serve", "--dir", caDir, "--ct-url", ctURL}, "no trusted issuers"},
		{[]string{"ca", "serve", "--dir", caDir, "--issuer", "http://accounts.example.com", "--ct-url", ctURL}, "http is allowed only on loopback"},
		{[]string{"ca", "serve", "--dir", caDir, "--issuer", issuer.Issuer()}, "--ct-url is required"},
		{[]string{"ca", "init", "--dir", caDir}, "state directory already initialised"},
		{[]string{"trusted-root", "create", "--from", config}, "decoding trusted root"},
	}
	for _, r := range refusals {
		if _, err := runCmd(t, r.args...); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%v: %v, want %q", r.args, err, r.want)
		}
	}
}

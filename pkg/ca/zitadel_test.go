package ca

import (
	"context"
	"encoding/asn1"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// zitadelVersion is the zitadel/oidc example OpenID provider the test runs: a real provider
// this project did not write, installed through the Go module proxy.
const zitadelVersion = "v3.51.17"

// zitadelServer returns the example provider's binary: COSIGN_LIKE_ZITADEL_SERVER when set,
// else a fresh `go install` into a temporary GOBIN (about 80 s). The test is skipped unless CI
// or COSIGN_LIKE_REQUIRE_ALL is set.
func zitadelServer(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("COSIGN_LIKE_ZITADEL_SERVER"); bin != "" {
		return bin
	}
	if os.Getenv("CI") == "" && os.Getenv("COSIGN_LIKE_REQUIRE_ALL") == "" {
		t.Skip("installing the zitadel example provider takes about 80 s: set CI or COSIGN_LIKE_REQUIRE_ALL")
	}
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/zitadel/oidc/v3/example/server@"+zitadelVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	cmd.Dir = gobin
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install zitadel example server: %v\n%s", err, out)
	}
	return filepath.Join(gobin, "server")
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// loginAtZitadel plays the person at the browser: it follows the authorization URL to the
// provider's login form and signs in as one of its built-in users.
func loginAtZitadel(t *testing.T, authURL, username, password string) error {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := client.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("no login form at %s (HTTP %d): %s", resp.Request.URL, resp.StatusCode, page)
	}
	loginURL := *resp.Request.URL
	loginURL.Path, loginURL.RawQuery = "/login/username", ""
	resp, err = client.PostForm(loginURL.String(), url.Values{"id": {string(m[1])}, "username": {username}, "password": {password}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Signed in") {
		return fmt.Errorf("after login: HTTP %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	return nil
}

// TestZitadelProvider gets a token from the zitadel example provider through pkg/oidc's
// browser flow (authorization code + PKCE, loopback redirect) and trades it at the CA for a
// certificate naming the username identity (its tokens carry no email claim).
func TestZitadelProvider(t *testing.T) {
	bin := zitadelServer(t)
	port, cbPort := freePort(t), freePort(t)
	redirect := "http://localhost:" + cbPort + "/auth/callback"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srvCmd := exec.CommandContext(ctx, bin)
	srvCmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+redirect)
	logs := &strings.Builder{}
	srvCmd.Stdout, srvCmd.Stderr = logs, logs
	if err := srvCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srvCmd.Process.Kill()
		_ = srvCmd.Wait()
		if t.Failed() {
			t.Logf("provider logs:\n%s", logs.String())
		}
	}()
	issuer := "http://localhost:" + port + "/"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(issuer + ".well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("provider did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	tok, err := oidc.GetToken(ctx, oidc.Options{Issuer: issuer, ClientID: "native", RedirectURL: redirect,
		Getenv: func(string) string { return "" },
		OpenBrowser: func(u string) error {
			go func() {
				if err := loginAtZitadel(t, u, "test-user@localhost", "verysecure"); err != nil {
					t.Errorf("login: %v", err)
				}
			}()
			return nil
		}})
	if err != nil {
		t.Fatalf("browser flow against zitadel: %v", err)
	}

	e := &testEnv{}
	e.ct, e.ctURL = startCTLog(t)
	e.startCA(t, []IssuerConfig{{URL: issuer, ClientID: "native", Type: IssuerUsername}}, e.ctURL)
	s, _ := signer.GenerateEphemeral()
	chain, err := RequestCertificate(ctx, e.caURL, tok, s)
	if err != nil {
		t.Fatalf("certificate for the zitadel token: %v", err)
	}
	var san []byte
	for _, ext := range chain[0].Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			san = ext.Value
		}
	}
	if !strings.Contains(string(san), "id1!localhost") {
		t.Fatalf("SAN %q does not name id1!localhost", san)
	}
	verifyCodeSigning(t, chain)
	opensslVerify(t, chain)

	// The same provider's token is refused by a CA that expects another audience.
	e2 := &testEnv{}
	e2.startCA(t, []IssuerConfig{{URL: issuer, Type: IssuerUsername}}, e.ctURL)
	if _, err := RequestCertificate(ctx, e2.caURL, tok, s); err == nil || !strings.Contains(err.Error(), `expected audience "sigstore" got ["native"]`) {
		t.Fatalf("wrong audience: %v", err)
	}
}

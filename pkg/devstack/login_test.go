package devstack

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// chromium returns Debian's headless Chromium, or skips (fails when every program is required).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if testutil.RequireAll() {
		t.Fatal("chromium is not installed: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

// headless runs Chromium without a sandbox, network services or a profile of its own, as the
// test machine allows, with extra arguments.
func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}

// TestLoginPageInChromium opens the dev issuer's login page, the page the browser flow of keyless
// signing lands on, in headless Chromium: the page must offer the identities, and its screenshot
// must show something.
func TestLoginPageInChromium(t *testing.T) {
	bin := chromium(t)
	ctx := context.Background()
	st, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	q := url.Values{
		"client_id":             {"sigstore"},
		"redirect_uri":          {"http://127.0.0.1:9/auth/callback"},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"state-1234"},
		"nonce":                 {"nonce-1234"},
		"code_challenge":        {strings.Repeat("A", 43)},
		"code_challenge_method": {"S256"},
	}
	page := st.OIDCURL + oidc.DevAuthPath + "?" + q.Encode()

	dom := string(headless(t, bin, "--dump-dom", page))
	for _, want := range []string{"alice@example.com", "bob@example.com", "<form"} {
		if !strings.Contains(dom, want) {
			t.Fatalf("login page lacks %q:\n%s", want, dom)
		}
	}

	shot := filepath.Join(t.TempDir(), "login.png")
	headless(t, bin, "--window-size=800,600", "--screenshot="+shot, page)
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 600 {
		t.Fatalf("screenshot is %dx%d, want 800x600", b.Dx(), b.Dy())
	}
	// A rendered page has text: many distinct colours. A blank or error page has few.
	colours := map[uint32]bool{}
	for y := 0; y < 600; y += 2 {
		for x := 0; x < 800; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 8 {
		t.Fatalf("screenshot has %d colours: the page did not render", len(colours))
	}
	if dir := os.Getenv("COSIGN_LIKE_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "login.png"), data, 0o644)
	}
}

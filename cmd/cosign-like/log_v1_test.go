package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogV1Flags: the Rekor v1 commands refuse what they cannot act on before they dial, with
// messages naming the flags; --rekor_server is rekor-cli's name of --rekor-url.
func TestLogV1Flags(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing listens here: a command that dialled would fail with a connection error instead.
	url := "http://127.0.0.1:1"
	entry := []string{"--artifact", f, "--signature", f, "--public-key", f}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"log", "get", "--rekor-url", url}, "pass --index (Rekor v2 API), or --uuid or --log-index (Rekor v1 API)"},
		{[]string{"log", "get", "--rekor-url", url, "--index", "0", "--uuid", "ab"}, "pass --index (Rekor v2 API) or --uuid/--log-index (Rekor v1 API), not both"},
		{[]string{"log", "get", "--rekor_server", url, "--uuid", "ab", "--log-index", "1", "--log-key", f}, "pass either --uuid or --log-index, not both"},
		{[]string{"log", "verify", "--rekor-url", url}, "pass --bundle, or --artifact with --signature and --public-key, or --uuid or --log-index"},
		{[]string{"log", "verify", "--rekor-url", url, "--bundle", f, "--uuid", "ab"}, "pass --bundle, or an entry of the Rekor v1 API"},
		{[]string{"log", "verify", "--rekor-url", url, "--artifact", f}, "an entry needs --artifact, --signature and --public-key"},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rpm"}, entry...), `--type "rpm": want hashedrekord[:0.0.1] or rekord[:0.0.1]`},
		{append([]string{"log", "verify", "--rekor-url", url, "--pki-format", "ssh"}, entry...), `--type hashedrekord takes --pki-format x509, not "ssh"`},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rekord", "--pki-format", "tuf"}, entry...), `rekord signature format "tuf" is not accepted`},
		{append([]string{"log", "verify", "--rekor-url", url, "--type", "rekord", "--pki-format", "ssh"}, entry...), "signature:"},
		{append([]string{"log", "upload", "--rekor_server", url, "--type", "rekord", "--pki-format", "minisign"}, entry...), "invalid Rekor entry"},
		{[]string{"log", "upload", "--rekor-url", url}, "an entry needs --artifact, --signature and --public-key"},
		{[]string{"log", "search", "--rekor_server", url}, "an index search needs a hash, a public key or an email"},
		{[]string{"log", "search", "--rekor-url", url, "--sha", "abc"}, `--sha: invalid Rekor entry: hash "abc" is not`},
		{[]string{"log", "search", "--rekor-url", url, "--sha", strings.Repeat("a", 64), "--artifact", f}, "pass either --sha or --artifact, not both"},
		{[]string{"sign-blob", "--key", f, "--bundle", filepath.Join(dir, "b.json"), "--rekor-url", url, "--rekor-api-version", "3", f}, "--rekor-api-version 3: want 1 or 2"},
	} {
		out, err := runLogCmd(t, c.args...)
		if err == nil || !strings.Contains(out+err.Error(), c.want) {
			t.Errorf("%s: %v\n%s\nwant an error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}

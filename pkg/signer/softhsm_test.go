package signer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// softHSMModule is where Debian's softhsm2 package installs the PKCS#11 module.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

const (
	testTokenLabel = "signing"
	testPIN        = "1234"
)

// requireAll reports whether missing test dependencies must fail the test instead of skipping it.
func requireAll() bool {
	return os.Getenv("CI") != "" || os.Getenv("COSIGN_LIKE_REQUIRE_ALL") != ""
}

// newSoftHSM initialises a SoftHSM2 token store in a temporary directory (SOFTHSM2_CONF points
// to it for the rest of the test) with one token "signing", PIN 1234, and returns the token URI
// prefix "pkcs11:token=signing". PKCS#11 state of earlier tests is closed first, so the module
// reads the new configuration; it is closed again when the test ends.
func newSoftHSM(tb testing.TB) string {
	tb.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if _, statErr := os.Stat(softHSMModule); err != nil || statErr != nil {
		msg := "SoftHSM2 is not installed (apt-get install softhsm2): softhsm2-util or " + softHSMModule + " missing"
		if requireAll() {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	if err := ClosePKCS11(); err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	cfg := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("SOFTHSM2_CONF", conf)
	tb.Setenv(EnvPKCS11PIN, "")
	tb.Setenv(EnvPKCS11ModulePath, "")
	cmd := exec.Command(util, "--init-token", "--free", "--label", testTokenLabel, "--pin", testPIN, "--so-pin", "5678")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if err := ClosePKCS11(); err != nil {
			tb.Errorf("closing PKCS#11: %v", err)
		}
	})
	return "pkcs11:token=" + testTokenLabel
}

// keyURI builds a key URI on the test token with module path and PIN.
func keyURI(object, pin string) string {
	u := "pkcs11:token=" + testTokenLabel + ";object=" + object + "?module-path=" + softHSMModule
	if pin != "" {
		u += "&pin-value=" + pin
	}
	return u
}

func TestRequireAllFlag(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("COSIGN_LIKE_REQUIRE_ALL", "")
	if requireAll() {
		t.Fatal("requireAll with neither variable set")
	}
	t.Setenv("COSIGN_LIKE_REQUIRE_ALL", "1")
	if !requireAll() {
		t.Fatal("requireAll ignores COSIGN_LIKE_REQUIRE_ALL")
	}
	if !strings.HasPrefix(keyURI("k", ""), "pkcs11:token=signing;object=k?module-path=") {
		t.Fatal(keyURI("k", ""))
	}
}

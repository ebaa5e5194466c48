package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package installs its PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// NewSoftHSMToken initialises a SoftHSM2 token with label and user PIN (SO PIN: pin+"0") in a
// token store of its own (SOFTHSM2_CONF points at it for the rest of the test) and returns the
// module path. Without SoftHSM the test is skipped, or fails when RequireAll. reset, when not
// nil, closes the PKCS#11 modules the process holds open (signer.ClosePKCS11): it runs before the
// token is made, so that the module reads the new configuration, and again when the test ends.
// Tests that use it must not run in parallel: the PKCS#11 module is loaded once per process.
func NewSoftHSMToken(tb testing.TB, label, pin string, reset func() error) string {
	tb.Helper()
	module := os.Getenv("SOFTHSM2_MODULE")
	if module == "" {
		module = SoftHSMModule
	}
	_, modErr := os.Stat(module)
	_, utilErr := exec.LookPath("softhsm2-util")
	if modErr != nil || utilErr != nil {
		if RequireAll() {
			tb.Fatal("SoftHSM is not installed: apt-get install -y softhsm2")
		}
		tb.Skip("SoftHSM is not installed (apt-get install -y softhsm2)")
	}
	if reset != nil {
		if err := reset(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := reset(); err != nil {
				tb.Errorf("closing PKCS#11: %v", err)
			}
		})
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
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin+"0")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return module
}

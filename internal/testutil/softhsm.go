package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package installs its PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// NewSoftHSMToken initialises a SoftHSM2 token with label and user PIN in a token store of its
// own (SOFTHSM2_CONF points at it for the rest of the test) and returns the module path. Without
// SoftHSM the test is skipped, or fails when RequireAll. Tests that use it must not run in
// parallel: the PKCS#11 module is loaded once per process.
func NewSoftHSMToken(tb testing.TB, label, pin string) string {
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
	dir := tb.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+dir+"\nobjectstore.backend = file\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", pin+"0").CombinedOutput()
	if err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return module
}

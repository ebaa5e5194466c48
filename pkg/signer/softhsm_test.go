package signer

import (
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// softHSMModule is where Debian's softhsm2 package installs the PKCS#11 module.
const softHSMModule = testutil.SoftHSMModule

const (
	testTokenLabel = "signing"
	testPIN        = "1234"
)

// newSoftHSM initialises a SoftHSM2 token store in a temporary directory (SOFTHSM2_CONF points
// to it for the rest of the test) with one token "signing", PIN 1234, and returns the token URI
// prefix "pkcs11:token=signing". PKCS#11 state of earlier tests is closed first, so the module
// reads the new configuration; it is closed again when the test ends.
func newSoftHSM(tb testing.TB) string {
	tb.Helper()
	testutil.NewSoftHSMToken(tb, testTokenLabel, testPIN, ClosePKCS11)
	tb.Setenv(EnvPKCS11PIN, "")
	tb.Setenv(EnvPKCS11ModulePath, "")
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
	if testutil.RequireAll() {
		t.Fatal("requireAll with neither variable set")
	}
	t.Setenv("COSIGN_LIKE_REQUIRE_ALL", "1")
	if !testutil.RequireAll() {
		t.Fatal("requireAll ignores COSIGN_LIKE_REQUIRE_ALL")
	}
	if !strings.HasPrefix(keyURI("k", ""), "pkcs11:token=signing;object=k?module-path=") {
		t.Fatal(keyURI("k", ""))
	}
}

package verify

import (
	"crypto"
	"strings"
	"testing"
)

// The timestamp library cannot produce SHA-1 imprints, so the refusal is tested directly.
func TestCheckImprintHash(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if err := checkImprintHash(h); err != nil {
			t.Errorf("%s refused: %v", h, err)
		}
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.MD5, crypto.SHA224, 0} {
		if err := checkImprintHash(h); err == nil || !strings.Contains(err.Error(), "not accepted") {
			t.Errorf("%s: %v, want a refusal", h, err)
		}
	}
}

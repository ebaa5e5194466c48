package root

import (
	"fmt"
	"time"
)

// Material is the trust material a client signs and verifies with, as a TUF repository
// distributes it: the trusted root, and the signing config's services selected at the time it
// was read.
type Material struct {
	TrustedRoot *TrustedRoot
	// SigningConfig is nil when the source has no signing config.
	SigningConfig *SigningConfig
}

// ParseMaterial parses a trusted root and, when signingConfig is not nil, a signing config
// (services selected at now).
func ParseMaterial(trustedRoot, signingConfig []byte, now time.Time) (*Material, error) {
	tr, err := ParseTrustedRoot(trustedRoot)
	if err != nil {
		return nil, err
	}
	m := &Material{TrustedRoot: tr}
	if signingConfig != nil {
		if m.SigningConfig, err = ParseSigningConfig(signingConfig, now); err != nil {
			return nil, fmt.Errorf("signing config: %w", err)
		}
	}
	return m, nil
}

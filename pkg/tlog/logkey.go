package tlog

import (
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
)

// LogKeyFromPKIX returns the key of the log at baseURL from its PKIX DER public key (Ed25519 for
// Rekor v2 logs, ECDSA for Rekor v1 logs); the origin is baseURL's hostname.
func LogKeyFromPKIX(baseURL string, der []byte) (LogKey, error) {
	origin, err := OriginFromURL(baseURL)
	if err != nil {
		return LogKey{}, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return LogKey{}, fmt.Errorf("parsing log public key: %w", err)
	}
	k := LogKey{Origin: origin, PublicKey: pub}
	if ed, ok := pub.(ed25519.PublicKey); ok {
		id := Ed25519KeyID(origin, ed)
		k.KeyID = id[:]
	}
	return k, nil
}

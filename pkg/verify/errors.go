package verify

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrVerification is wrapped by every error Verify returns: a bundle that does not verify, for
// whatever reason, gives an error for which errors.Is(err, ErrVerification) holds.
var ErrVerification = errors.New("verification failed")

// Specific failures. Each wraps ErrVerification, so callers can test for the family or for one
// step.
var (
	// ErrPolicy: the policy itself is unusable (no key and no identity, both, a bad regexp).
	ErrPolicy = fmt.Errorf("%w: invalid policy", ErrVerification)
	// ErrBundle: the bundle is malformed or of an unknown version.
	ErrBundle = fmt.Errorf("%w: invalid bundle", ErrVerification)
	// ErrMaterial: the bundle's verification material does not suit the policy (a key bundle
	// checked by identity, a certificate bundle checked with a key).
	ErrMaterial = fmt.Errorf("%w: verification material does not fit the policy", ErrVerification)
	// ErrNoMatchingSignature: the signature does not verify under the key or certificate.
	ErrNoMatchingSignature = fmt.Errorf("%w: signature does not verify", ErrVerification)
	// ErrArtifactMismatch: the bundle signs another artifact than the one given.
	ErrArtifactMismatch = fmt.Errorf("%w: artifact does not match", ErrVerification)
	// ErrCertificate: the certificate does not chain to a trusted CA at the signing time.
	ErrCertificate = fmt.Errorf("%w: certificate not trusted", ErrVerification)
	// ErrSCT: the certificate's signed certificate timestamps do not verify.
	ErrSCT = fmt.Errorf("%w: certificate transparency", ErrVerification)
	// ErrIdentityMismatch: the certificate names another identity or issuer than the policy.
	ErrIdentityMismatch = fmt.Errorf("%w: identity mismatch", ErrVerification)
	// ErrTimestamp: an RFC 3161 timestamp does not verify, or no signing time is established.
	ErrTimestamp = fmt.Errorf("%w: timestamp", ErrVerification)
	// ErrTlog: a transparency log entry does not verify or does not match the signature, or too
	// few logs vouch for it.
	ErrTlog = fmt.Errorf("%w: transparency log", ErrVerification)
	// ErrStatement: the DSSE payload is not a usable in-toto statement.
	ErrStatement = fmt.Errorf("%w: statement", ErrVerification)
	// ErrNoSCT: the certificate carries no SCT while the trusted root lists CT logs
	// (Policy.UnsafeIgnoreSCT skips this check). It wraps ErrSCT.
	ErrNoSCT = fmt.Errorf("%w: the certificate carries no SCT and the trusted root lists CT logs", ErrSCT)
)

// keyIDHex renders a log ID for messages.
func keyIDHex(id []byte) string { return hex.EncodeToString(id) }

// MissingTlogEntryError is a bundle without a transparency log entry when the policy requires
// Required of them (Policy.UnsafeIgnoreTlog skips this check). It wraps ErrTlog.
type MissingTlogEntryError struct {
	Required int
}

// Error says how many entries were required.
func (e *MissingTlogEntryError) Error() string {
	return fmt.Sprintf("%v: the bundle has no transparency log entry (%d required)", ErrTlog, e.Required)
}

// Unwrap returns ErrTlog.
func (e *MissingTlogEntryError) Unwrap() error { return ErrTlog }

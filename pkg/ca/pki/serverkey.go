package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

// KeyFiles name where a server keeps its signing key in its state directory: a PKCS#8 PEM file,
// or a file holding the reference of a key kept in a PKCS#11 token.
type KeyFiles struct {
	Key, KMS string
}

// ErrNotPKCS11 is returned when a server key is to be created in a KMS other than a PKCS#11 token.
var ErrNotPKCS11 = errors.New("a pkcs11: URI is required")

// KeyReferenceError is a server key reference that is not a pkcs11: URI. It matches ErrNotPKCS11.
type KeyReferenceError struct {
	Ref string
}

// Error names the reference.
func (e *KeyReferenceError) Error() string {
	return fmt.Sprintf("key reference %q: %v", e.Ref, ErrNotPKCS11)
}

// Is makes errors.Is(err, ErrNotPKCS11) true.
func (e *KeyReferenceError) Is(target error) bool { return target == ErrNotPKCS11 }

// CheckAbsent fails when dir already holds a key of either kind.
func (f KeyFiles) CheckAbsent(dir string, exists error) error {
	for _, name := range []string{f.Key, f.KMS} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%w: %s exists", exists, filepath.Join(dir, name))
		}
	}
	return nil
}

// NewServerKey creates a server's ECDSA P-256 signing key: in the PKCS#11 token that kms names
// (a pkcs11: URI), or in memory when kms is empty. It returns the public key and a function that
// records the key in dir (the key file, or the token reference), to call once the rest of the
// state is ready.
func NewServerKey(ctx context.Context, dir, kms string, files KeyFiles, opts ...signer.Option) (crypto.PublicKey, func() error, error) {
	if kms != "" {
		if !strings.HasPrefix(kms, "pkcs11:") {
			return nil, nil, &KeyReferenceError{Ref: kms}
		}
		pub, err := signer.CreateKey(ctx, kms, "ecdsa-p256", opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("creating the key in %s: %w", kms, err)
		}
		return pub, func() error { return WriteFile(filepath.Join(dir, files.KMS), []byte(kms+"\n"), 0o600) }, nil
	}
	key, err := GenerateP256()
	if err != nil {
		return nil, nil, err
	}
	return key.Public(), func() error { return WritePrivateKey(filepath.Join(dir, files.Key), key) }, nil
}

// LoadServerKey opens the signing key NewServerKey recorded in dir.
func LoadServerKey(ctx context.Context, dir string, files KeyFiles, opts ...signer.Option) (crypto.Signer, error) {
	ref, err := os.ReadFile(filepath.Join(dir, files.KMS))
	if errors.Is(err, os.ErrNotExist) {
		return ReadPrivateKey(filepath.Join(dir, files.Key))
	}
	if err != nil {
		return nil, err
	}
	s, err := signer.LoadSigner(ctx, strings.TrimSpace(string(ref)), nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("opening the key %s: %w", strings.TrimSpace(string(ref)), err)
	}
	return signer.AsCryptoSigner(s), nil
}

// NewThrowawayRoot makes a self-signed ECDSA P-256 root for a server's chain whose private key
// is returned to sign the one subordinate and then dropped: the root can never sign again, and
// rotating means a new init.
func NewThrowawayRoot(subject pkix.Name, validity time.Duration, maxPathLen int) (*x509.Certificate, crypto.Signer, error) {
	key, err := GenerateP256()
	if err != nil {
		return nil, nil, err
	}
	root, err := NewCA(CAOptions{Subject: subject, Validity: validity, MaxPathLen: maxPathLen}, key.Public(), nil, key)
	if err != nil {
		return nil, nil, err
	}
	return root, key, nil
}

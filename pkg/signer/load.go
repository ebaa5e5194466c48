package signer

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// kmsRefPattern matches a KMS key reference "<scheme>://...", whose scheme names the provider.
var kmsRefPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9+.-]*)://`)

// kmsScheme returns the provider name of a "<name>://" key reference, or "".
func kmsScheme(keyRef string) string {
	m := kmsRefPattern.FindStringSubmatch(keyRef)
	if m == nil {
		return ""
	}
	return m[1]
}

// LoadSigner opens the key keyRef names: a path to an encrypted cosign key file (the password
// comes from pw; a nil pw means the empty password, as in cosign), a PKCS#11 URI ("pkcs11:...")
// or a KMS reference "<name>://..." served by the plugin sigstore-kms-<name> on PATH.
func LoadSigner(ctx context.Context, keyRef string, pw PasswordFunc) (Signer, error) {
	if keyRef == "" {
		return nil, fmt.Errorf("no key given")
	}
	if isPKCS11URI(keyRef) {
		return loadPKCS11Signer(ctx, keyRef)
	}
	if scheme := kmsScheme(keyRef); scheme != "" {
		return loadPluginSigner(ctx, scheme, keyRef)
	}
	data, err := readKeyFile(keyRef)
	if err != nil {
		return nil, err
	}
	password := []byte{}
	if pw != nil {
		if password, err = pw(false); err != nil {
			return nil, fmt.Errorf("reading password for %s: %w", keyRef, err)
		}
	}
	s, err := LoadEncryptedPrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", keyRef, err)
	}
	return s, nil
}

// LoadPublicKey returns the public key keyRef names: a PEM public key or certificate file
// (cosign.pub), a PKCS#11 URI or a KMS reference. An encrypted private key file holds no
// readable public key: it gives an error wrapping ErrPasswordRequired (use LoadSigner).
func LoadPublicKey(ctx context.Context, keyRef string) (crypto.PublicKey, error) {
	if keyRef == "" {
		return nil, fmt.Errorf("no key given")
	}
	if isPKCS11URI(keyRef) || kmsScheme(keyRef) != "" {
		s, err := LoadSigner(ctx, keyRef, nil)
		if err != nil {
			return nil, err
		}
		return s.Public(), nil
	}
	data, err := readKeyFile(keyRef)
	if err != nil {
		return nil, err
	}
	if isEncryptedKeyPEM(data) {
		return nil, fmt.Errorf("%s is an encrypted private key: %w to read its public key (give the .pub file instead)",
			keyRef, ErrPasswordRequired)
	}
	pub, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", keyRef, err)
	}
	return pub, nil
}

// readKeyFile reads a key file of at most maxKeyFileSize bytes.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	return data, nil
}

// isPKCS11URI reports whether keyRef is an RFC 7512 PKCS#11 URI.
func isPKCS11URI(keyRef string) bool {
	return strings.HasPrefix(keyRef, "pkcs11:")
}

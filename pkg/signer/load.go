package signer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/cosign-like/cosign-like/internal/limitio"
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
// comes from pw; a nil pw means the empty password, as in cosign), a PKCS#11 URI ("pkcs11:...",
// see PKCS11URI; the key stays on the token) or a KMS reference "<name>://..." served by the
// plugin program sigstore-kms-<name> on PATH (see package kmsplugin).
func LoadSigner(ctx context.Context, keyRef string, pw PasswordFunc, opts ...Option) (Signer, error) {
	if keyRef == "" {
		return nil, fmt.Errorf("no key given")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if isPKCS11URI(keyRef) {
		return loadPKCS11Signer(ctx, keyRef, applyOptions(opts))
	}
	if kmsScheme(keyRef) != "" {
		return loadPluginSigner(ctx, keyRef, applyOptions(opts))
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
func LoadPublicKey(ctx context.Context, keyRef string, opts ...Option) (crypto.PublicKey, error) {
	if keyRef == "" {
		return nil, fmt.Errorf("no key given")
	}
	if isPKCS11URI(keyRef) || kmsScheme(keyRef) != "" {
		s, err := LoadSigner(ctx, keyRef, nil, opts...)
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

// CreateKey creates a key that never leaves its keeper and returns its public key: on a PKCS#11
// token for a "pkcs11:" URI (object= becomes the label; an existing key is never replaced), or
// through the KMS plugin of a "<name>://" reference. alg is as for GenerateKey for PKCS#11
// (default ecdsa-p256) and passed unchanged to a plugin (default: the plugin's own).
func CreateKey(ctx context.Context, keyRef, alg string, opts ...Option) (crypto.PublicKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	switch {
	case isPKCS11URI(keyRef):
		pub, _, err := createPKCS11Key(ctx, keyRef, alg, o)
		return pub, err
	case kmsScheme(keyRef) != "":
		return createPluginKey(ctx, keyRef, alg, o)
	default:
		return nil, fmt.Errorf("key reference %q: a pkcs11: URI or <kms>:// reference is required to create a key there", keyRef)
	}
}

// readKeyFile reads a key file of at most maxKeyFileSize bytes.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening key: %w", err)
	}
	defer f.Close()
	data, err := limitio.ReadAll(f, maxKeyFileSize)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("key file %s is %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	return data, nil
}

// isPKCS11URI reports whether keyRef is an RFC 7512 PKCS#11 URI.
func isPKCS11URI(keyRef string) bool {
	return strings.HasPrefix(keyRef, "pkcs11:")
}

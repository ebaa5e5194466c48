package tuf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/cosign-like/cosign-like/internal/limitio"
)

// Key types a repository can generate.
const (
	// KeyEd25519 generates Ed25519 keys (TUF scheme "ed25519"). The default.
	KeyEd25519 = "ed25519"
	// KeyECDSAP256 generates ECDSA P-256 keys (TUF scheme "ecdsa-sha2-nistp256").
	KeyECDSAP256 = "ecdsa-p256"
)

// maxKeyFileSize bounds a private key file read from the keys directory.
const maxKeyFileSize = 64 << 10

// keySigner is a crypto.Signer with its TUF key and key ID.
type keySigner struct {
	signer crypto.Signer
	key    *metadata.Key
	id     string
}

// newKeySigner checks that s holds a key TUF metadata can name (Ed25519 or ECDSA P-256) and
// computes its TUF key ID.
func newKeySigner(s crypto.Signer) (*keySigner, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrUnsupportedKey)
	}
	pub := s.Public()
	switch p := pub.(type) {
	case ed25519.PublicKey:
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s (only P-256)", ErrUnsupportedKey, p.Curve.Params().Name)
		}
	default:
		return nil, fmt.Errorf("%w: %T (Ed25519 or ECDSA P-256 only)", ErrUnsupportedKey, pub)
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	id, err := key.ID()
	if err != nil {
		return nil, fmt.Errorf("computing key ID: %w", err)
	}
	return &keySigner{signer: s, key: key, id: id}, nil
}

// sign signs payload the way TUF verifies this key type: pure Ed25519, or ECDSA over SHA-256.
func (k *keySigner) sign(payload []byte) ([]byte, error) {
	switch k.key.Type {
	case metadata.KeyTypeEd25519:
		return k.signer.Sign(rand.Reader, payload, crypto.Hash(0))
	default:
		digest := sha256.Sum256(payload)
		return k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
}

// generateKeySigner generates a key of keyType for role.
func generateKeySigner(keyType, role string) (*keySigner, error) {
	s, err := generateKey(keyType)
	if err != nil {
		return nil, fmt.Errorf("generating %s key: %w", role, err)
	}
	return newKeySigner(s)
}

// generateKey makes a new private key of the given type.
func generateKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case KeyEd25519, "":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("%w: key type %q (want %s or %s)", ErrUnsupportedKey, keyType, KeyEd25519, KeyECDSAP256)
	}
}

// marshalPrivateKeyPEM encodes a private key as PKCS#8 PEM.
func marshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parsePrivateKeyPEM decodes one PKCS#8 "PRIVATE KEY" PEM block holding an Ed25519 or ECDSA
// P-256 key.
func parsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	if len(pemTrim(rest)) != 0 {
		return nil, errors.New("trailing data after the PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing PKCS#8 key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
	}
	if _, err := newKeySigner(s); err != nil {
		return nil, err
	}
	return s, nil
}

// pemTrim drops whitespace so that a trailing newline does not count as trailing data.
func pemTrim(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\n' || b[0] == '\r' || b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// ReadKeyFile reads an unencrypted PKCS#8 PEM private key (Ed25519 or ECDSA P-256), the format
// the repository's keys directory uses.
func ReadKeyFile(path string) (crypto.Signer, error) {
	data, err := readBounded(path, maxKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", path, err)
	}
	s, err := parsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return s, nil
}

// readBounded reads a file, refusing one larger than limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := limitio.ReadAll(f, limit)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	return data, err
}

// writeKeyFile stores a generated private key under keysDir, named by its key ID, mode 0600.
func writeKeyFile(keysDir string, ks *keySigner) error {
	data, err := marshalPrivateKeyPEM(ks.signer)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(keysDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", keysDir, err)
	}
	path := filepath.Join(keysDir, ks.id+".pem")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	return f.Close()
}

// signMetadata adds a signature by ks over the canonical JSON of md's signed part, replacing an
// earlier signature by the same key.
func signMetadata[T metadata.Roles](md *metadata.Metadata[T], ks *keySigner) error {
	payload, err := cjson.EncodeCanonical(md.Signed)
	if err != nil {
		return fmt.Errorf("canonicalizing metadata: %w", err)
	}
	sig, err := ks.sign(payload)
	if err != nil {
		return fmt.Errorf("signing with key %s: %w", shortID(ks.id), err)
	}
	kept := md.Signatures[:0]
	for _, s := range md.Signatures {
		if s.KeyID != ks.id {
			kept = append(kept, s)
		}
	}
	md.Signatures = append(kept, metadata.Signature{KeyID: ks.id, Signature: sig})
	return nil
}

// shortID abbreviates a key ID for messages.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

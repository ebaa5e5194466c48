package signer

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"golang.org/x/crypto/nacl/secretbox"
)

// PEM block types of key files, as cosign writes and reads them.
const (
	// SigstorePrivateKeyPEMType is the PEM type of an encrypted private key written by cosign and
	// by this package.
	SigstorePrivateKeyPEMType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// CosignPrivateKeyPEMType is the PEM type older cosign releases wrote; it is still read.
	CosignPrivateKeyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"
	// PublicKeyPEMType is the PEM type of a PKIX public key.
	PublicKeyPEMType = "PUBLIC KEY"
)

// secretboxKeySize is the length of the key go-securesystemslib derives with scrypt for NaCl
// secretbox.
const secretboxKeySize = 32

// maxKeyFileSize bounds every key or certificate file this package parses.
const maxKeyFileSize = 1 << 20

// scrypt parameters go-securesystemslib accepts (legacy, standard, OWASP); anything else is
// refused before any key derivation, so a crafted file cannot demand unbounded work.
func knownScryptParams(n, r, p int) bool {
	return r == 8 && p == 1 && (n == 1<<15 || n == 1<<16 || n == 1<<17)
}

// encryptedKeyJSON mirrors the JSON document go-securesystemslib's encrypted package writes, so
// that its structure can be checked before decryption: after that check, a failure to decrypt
// can only mean a wrong password (or a corrupted ciphertext, which secretbox cannot tell apart).
type encryptedKeyJSON struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// MarshalEncryptedPrivateKey encrypts a private key as cosign does: the PKCS#8 DER of the key,
// encrypted with go-securesystemslib's encrypted package (scrypt N=2^16, r=8, p=1, then NaCl
// secretbox), in a PEM block of type "ENCRYPTED SIGSTORE PRIVATE KEY". Unsupported keys are
// refused with ErrUnsupportedKey.
func MarshalEncryptedPrivateKey(priv crypto.PrivateKey, password []byte) ([]byte, error) {
	if _, err := NewSigner(priv); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding private key as PKCS#8: %w", err)
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("encrypting private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: enc}), nil
}

// LoadEncryptedPrivateKey decrypts a cosign key file (PEM "ENCRYPTED SIGSTORE PRIVATE KEY" or
// "ENCRYPTED COSIGN PRIVATE KEY") with password and returns its Signer. A password that does
// not decrypt the key gives an error wrapping ErrWrongPassword.
func LoadEncryptedPrivateKey(pemBytes, password []byte) (Signer, error) {
	priv, err := decryptPrivateKey(pemBytes, password)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv)
}

// decryptPrivateKey opens a key file as go-securesystemslib's encrypted.Decrypt does (a 32-byte
// secretbox key from scrypt over the password and the document's salt and parameters), but
// derives that key with scryptKey, which holds at most scryptTableBytes of scrypt state instead
// of the 64 MiB (N=2^16) or 128 MiB (N=2^17) a full scrypt table takes.
func decryptPrivateKey(pemBytes, password []byte) (crypto.PrivateKey, error) {
	body, err := parseEncryptedKeyPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	var doc encryptedKeyJSON
	if err := json.Unmarshal(body, &doc); err != nil { // checked by parseEncryptedKeyPEM already
		return nil, fmt.Errorf("parsing encrypted private key: %w", err)
	}
	key, err := scryptKey(password, doc.KDF.Salt, doc.KDF.Params.N, doc.KDF.Params.R, doc.KDF.Params.P, secretboxKeySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the private key's encryption key: %w", err)
	}
	var boxKey [secretboxKeySize]byte
	copy(boxKey[:], key)
	clear(key)
	der, ok := secretbox.Open(nil, doc.Ciphertext, (*[24]byte)(doc.Cipher.Nonce), &boxKey)
	clear(boxKey[:])
	if !ok {
		return nil, fmt.Errorf("decrypting private key: %w?", ErrWrongPassword)
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parsing decrypted private key (PKCS#8): %w", err)
	}
	return priv, nil
}

// parseEncryptedKeyPEM checks the PEM block and the encryption parameters of a cosign key file
// and returns the JSON document to decrypt. Everything but the password is checked here.
func parseEncryptedKeyPEM(pemBytes []byte) ([]byte, error) {
	if len(pemBytes) > maxKeyFileSize {
		return nil, fmt.Errorf("private key file of %d bytes is too large (limit %d)", len(pemBytes), maxKeyFileSize)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("parsing private key: no PEM block found")
	}
	if block.Type != SigstorePrivateKeyPEMType && block.Type != CosignPrivateKeyPEMType {
		return nil, fmt.Errorf("parsing private key: PEM type %q, %q required (an unencrypted key can be converted with import-key-pair)",
			block.Type, SigstorePrivateKeyPEMType)
	}
	var doc encryptedKeyJSON
	if err := json.Unmarshal(block.Bytes, &doc); err != nil {
		return nil, fmt.Errorf("parsing encrypted private key: %w", err)
	}
	switch {
	case doc.KDF.Name != "scrypt":
		return nil, fmt.Errorf("parsing encrypted private key: key derivation %q, scrypt required", doc.KDF.Name)
	case !knownScryptParams(doc.KDF.Params.N, doc.KDF.Params.R, doc.KDF.Params.P):
		return nil, fmt.Errorf("parsing encrypted private key: scrypt parameters N=%d r=%d p=%d are not supported",
			doc.KDF.Params.N, doc.KDF.Params.R, doc.KDF.Params.P)
	case doc.Cipher.Name != "nacl/secretbox":
		return nil, fmt.Errorf("parsing encrypted private key: cipher %q, nacl/secretbox required", doc.Cipher.Name)
	case len(doc.Cipher.Nonce) != 24:
		return nil, fmt.Errorf("parsing encrypted private key: nonce of %d bytes, 24 required", len(doc.Cipher.Nonce))
	case len(doc.Ciphertext) == 0:
		return nil, errors.New("parsing encrypted private key: empty ciphertext")
	}
	return block.Bytes, nil
}

// ParsePrivateKeyPEM parses an unencrypted private key: PKCS#8 ("PRIVATE KEY": ECDSA, Ed25519
// or RSA), SEC 1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). The key type is checked as
// NewSigner checks it.
func ParsePrivateKeyPEM(pemBytes []byte) (crypto.PrivateKey, error) {
	if len(pemBytes) > maxKeyFileSize {
		return nil, fmt.Errorf("private key file of %d bytes is too large (limit %d)", len(pemBytes), maxKeyFileSize)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("parsing private key: no PEM block found")
	}
	var (
		priv crypto.PrivateKey
		err  error
	)
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case SigstorePrivateKeyPEMType, CosignPrivateKeyPEMType:
		return nil, fmt.Errorf("parsing private key: %q is already an encrypted cosign key", block.Type)
	default:
		return nil, fmt.Errorf("parsing private key: PEM type %q, one of \"PRIVATE KEY\", \"EC PRIVATE KEY\", \"RSA PRIVATE KEY\" required", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
	}
	if _, err := NewSigner(priv); err != nil {
		return nil, err
	}
	return priv, nil
}

// MarshalPublicKeyPEM encodes a public key as a PKIX "PUBLIC KEY" PEM block, the format of
// cosign.pub.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	if _, _, err := AlgorithmFor(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyPEMType, Bytes: der}), nil
}

// ParsePublicKeyPEM parses the first PEM block of data: a PKIX "PUBLIC KEY", a PKCS#1 "RSA
// PUBLIC KEY", or a "CERTIFICATE", whose public key is returned. Key types Sigstore does not
// sign with give an error wrapping ErrUnsupportedKey.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("public key file of %d bytes is too large (limit %d)", len(data), maxKeyFileSize)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parsing public key: no PEM block found")
	}
	var (
		pub crypto.PublicKey
		err error
	)
	switch block.Type {
	case PublicKeyPEMType:
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	case SigstorePrivateKeyPEMType, CosignPrivateKeyPEMType:
		return nil, fmt.Errorf("parsing public key: this is an encrypted private key: %w to derive its public key", ErrPasswordRequired)
	default:
		return nil, fmt.Errorf("parsing public key: PEM type %q, \"PUBLIC KEY\" or \"CERTIFICATE\" required", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
	}
	if _, _, err := AlgorithmFor(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// isEncryptedKeyPEM reports whether data holds a cosign encrypted private key.
func isEncryptedKeyPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "+SigstorePrivateKeyPEMType+"-----")) ||
		bytes.Contains(data, []byte("-----BEGIN "+CosignPrivateKeyPEMType+"-----"))
}

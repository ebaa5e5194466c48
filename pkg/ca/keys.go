package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Errors about the key a certificate is requested for; the API answers them with 400.
var (
	// ErrUnsupportedKey: the key (or the CSR carrying it) is missing, does not parse, or is refused.
	ErrUnsupportedKey = errors.New("unsupported public key")
	// ErrWeakKey wraps ErrUnsupportedKey (and reads the same) for a key that parses but whose
	// type, curve or size is refused (CheckPublicKey).
	ErrWeakKey = fmt.Errorf("%w", ErrUnsupportedKey)
	ErrProof   = errors.New("proof of possession failed")
)

// CheckPublicKey accepts ECDSA P-256/P-384/P-521, Ed25519 and RSA keys of 2048 to 4096 bits.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		name := "unknown"
		if k.Curve != nil && k.Curve.Params() != nil {
			name = k.Curve.Params().Name
		}
		return fmt.Errorf("%w: ECDSA curve %s (P-256, P-384 or P-521 required)", ErrWeakKey, name)
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 || bits > 4096 {
			return fmt.Errorf("%w: RSA key of %d bits (2048 to 4096 required)", ErrWeakKey, bits)
		}
		return nil
	default:
		return fmt.Errorf("%w: %T", ErrWeakKey, pub)
	}
}

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" (PKIX), as the Fulcio API carries it. DER is
// accepted too.
func ParsePublicKeyPEM(content []byte) (crypto.PublicKey, error) {
	if len(content) == 0 {
		return nil, fmt.Errorf("%w: no public key given", ErrUnsupportedKey)
	}
	der := content
	if block, _ := pem.Decode(content); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: PEM type %q, want PUBLIC KEY", ErrUnsupportedKey, block.Type)
		}
		der = block.Bytes
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		// x509 refuses curves it does not know; name the problem for the caller.
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return pub, CheckPublicKey(pub)
}

// VerifyProof checks the proof of possession: the key's signature over subject (the email or
// sub the certificate will name). ECDSA and RSA (PKCS#1 v1.5) signatures over the SHA-256 of
// subject are accepted, as Fulcio and cosign make them, and also over the key's own hash
// (SHA-384 for P-384, SHA-512 for P-521); Ed25519 signs subject itself, or its SHA-512 as
// Ed25519ph.
func VerifyProof(pub crypto.PublicKey, subject string, sig []byte) error {
	if len(sig) == 0 {
		return fmt.Errorf("%w: empty signature", ErrProof)
	}
	s256 := sha256.Sum256([]byte(subject))
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, s256[:], sig) {
			return nil
		}
		switch k.Curve {
		case elliptic.P384():
			d := sha512.Sum384([]byte(subject))
			if ecdsa.VerifyASN1(k, d[:], sig) {
				return nil
			}
		case elliptic.P521():
			d := sha512.Sum512([]byte(subject))
			if ecdsa.VerifyASN1(k, d[:], sig) {
				return nil
			}
		}
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, s256[:], sig) == nil {
			return nil
		}
	case ed25519.PublicKey:
		if ed25519.Verify(k, []byte(subject), sig) {
			return nil
		}
		d := sha512.Sum512([]byte(subject))
		if ed25519.VerifyWithOptions(k, d[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil {
			return nil
		}
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	return fmt.Errorf("%w: the signature is not the key's signature over %q", ErrProof, subject)
}

// ParseCSR parses a PEM (or DER) PKCS#10 request and checks that it is signed by the key it
// carries; the key is returned. Nothing else in the request is used.
func ParseCSR(data []byte) (crypto.PublicKey, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("%w: certificate request of PEM type %q, want CERTIFICATE REQUEST", ErrUnsupportedKey, block.Type)
		}
		der = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing certificate request: %v", ErrUnsupportedKey, err)
	}
	if err := CheckPublicKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: certificate request is not signed by the key it carries: %v", ErrProof, err)
	}
	return csr.PublicKey, nil
}

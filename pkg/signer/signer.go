package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"errors"
	"fmt"
	"io"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// Signer signs digests with a private key held in memory, a file, a token or a KMS.
type Signer interface {
	// Public returns the public key of the signing key.
	Public() crypto.PublicKey
	// Algorithm is the Sigstore algorithm (protobuf-specs common v1 PublicKeyDetails):
	// PKIX_ECDSA_P256_SHA_256, PKIX_ECDSA_P384_SHA_384, PKIX_ECDSA_P521_SHA_512,
	// PKIX_ED25519_PH, PKIX_RSA_PKCS1V15_2048_SHA256, _3072_ or _4096_.
	Algorithm() protocommon.PublicKeyDetails
	// HashFunc is the hash that digests given to SignDigest are made with (SHA-256 for P-256
	// and RSA, SHA-384 for P-384, SHA-512 for P-521 and Ed25519ph).
	HashFunc() crypto.Hash
	// SignDigest signs a digest made with HashFunc. ECDSA signatures are ASN.1 DER; Ed25519
	// keys sign Ed25519ph (the form the transparency log accepts); RSA signs PKCS#1 v1.5.
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// PasswordFunc supplies a key password; confirm asks for it twice when a key is created.
// Package signer never reads a terminal: the command line provides this function.
type PasswordFunc func(confirm bool) ([]byte, error)

var (
	// ErrWrongPassword is returned when an encrypted private key does not decrypt with the
	// password given.
	ErrWrongPassword = errors.New("wrong password")
	// ErrUnsupportedKey is returned for keys whose type, curve or size Sigstore does not sign
	// with: anything but ECDSA P-256/P-384/P-521, Ed25519 and RSA of 2048, 3072 or 4096 bits.
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrPasswordRequired is returned by LoadPublicKey for an encrypted private key: its public
	// key is only known after decryption, which needs the password (use LoadSigner).
	ErrPasswordRequired = errors.New("password required")
)

// AlgorithmFor returns the Sigstore algorithm and the digest hash for a public key, or an error
// wrapping ErrUnsupportedKey.
func AlgorithmFor(pub crypto.PublicKey) (protocommon.PublicKeyDetails, crypto.Hash, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return 0, 0, fmt.Errorf("%w: empty ECDSA key", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P256():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, crypto.SHA256, nil
		case elliptic.P384():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384, crypto.SHA384, nil
		case elliptic.P521():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, crypto.SHA512, nil
		default:
			return 0, 0, fmt.Errorf("%w: ECDSA curve %s: P-256, P-384 or P-521 required",
				ErrUnsupportedKey, k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return 0, 0, fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return protocommon.PublicKeyDetails_PKIX_ED25519_PH, crypto.SHA512, nil
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return 0, 0, fmt.Errorf("%w: empty RSA key", ErrUnsupportedKey)
		}
		switch bits := k.N.BitLen(); {
		case bits < 2048:
			return 0, 0, fmt.Errorf("%w: RSA key of %d bits is too small: at least 2048 required",
				ErrUnsupportedKey, bits)
		case bits == 2048:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256, crypto.SHA256, nil
		case bits == 3072:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256, crypto.SHA256, nil
		case bits == 4096:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256, crypto.SHA256, nil
		default:
			return 0, 0, fmt.Errorf("%w: RSA key of %d bits: 2048, 3072 or 4096 bits required",
				ErrUnsupportedKey, bits)
		}
	default:
		return 0, 0, fmt.Errorf("%w: %T (ECDSA P-256/P-384/P-521, Ed25519 or RSA required)",
			ErrUnsupportedKey, pub)
	}
}

// VerifyDigest checks sig over a digest as the Sigstore algorithm of pub defines it: ECDSA ASN.1
// DER, Ed25519ph, RSA PKCS#1 v1.5; the digest must have been made with the algorithm's hash.
func VerifyDigest(pub crypto.PublicKey, digest, sig []byte) error {
	_, hash, err := AlgorithmFor(pub)
	if err != nil {
		return err
	}
	if err := checkDigest(hash, digest); err != nil {
		return err
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("invalid ECDSA signature")
		}
		return nil
	case ed25519.PublicKey:
		if err := ed25519.VerifyWithOptions(k, digest, sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
			return fmt.Errorf("invalid Ed25519ph signature: %w", err)
		}
		return nil
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, hash, digest, sig); err != nil {
			return fmt.Errorf("invalid RSA PKCS#1 v1.5 signature: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// memorySigner signs with a private key held in process memory.
type memorySigner struct {
	key  crypto.Signer
	alg  protocommon.PublicKeyDetails
	hash crypto.Hash
}

// NewSigner wraps an in-memory private key (*ecdsa.PrivateKey P-256/P-384/P-521,
// ed25519.PrivateKey, *rsa.PrivateKey of 2048, 3072 or 4096 bits) as a Signer. Other keys give
// an error wrapping ErrUnsupportedKey.
func NewSigner(priv crypto.PrivateKey) (Signer, error) {
	var key crypto.Signer
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil ECDSA key", ErrUnsupportedKey)
		}
		key = k
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrUnsupportedKey, len(k))
		}
		key = k
	case *rsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil RSA key", ErrUnsupportedKey)
		}
		key = k
	default:
		return nil, fmt.Errorf("%w: %T (ECDSA P-256/P-384/P-521, Ed25519 or RSA required)",
			ErrUnsupportedKey, priv)
	}
	alg, hash, err := AlgorithmFor(key.Public())
	if err != nil {
		return nil, err
	}
	return &memorySigner{key: key, alg: alg, hash: hash}, nil
}

func (s *memorySigner) Public() crypto.PublicKey                { return s.key.Public() }
func (s *memorySigner) Algorithm() protocommon.PublicKeyDetails { return s.alg }
func (s *memorySigner) HashFunc() crypto.Hash                   { return s.hash }

func (s *memorySigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkDigest(s.hash, digest); err != nil {
		return nil, err
	}
	var opts crypto.SignerOpts = s.hash
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		opts = &ed25519.Options{Hash: crypto.SHA512}
	}
	sig, err := s.key.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("signing digest: %w", err)
	}
	return sig, nil
}

// cryptoSigner gives the underlying crypto.Signer to AsCryptoSigner.
func (s *memorySigner) cryptoSigner() crypto.Signer { return s.key }

// checkDigest refuses a digest whose length does not match the signer's hash.
func checkDigest(h crypto.Hash, digest []byte) error {
	if len(digest) != h.Size() {
		return fmt.Errorf("digest of %d bytes given, %s digest of %d bytes required",
			len(digest), h, h.Size())
	}
	return nil
}

// GenerateEphemeral creates a Signer with a fresh ECDSA P-256 key that lives only in memory.
func GenerateEphemeral() (Signer, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating ephemeral key: %w", err)
	}
	return NewSigner(priv)
}

// KeyAlgorithms lists the names GenerateKey accepts, default first.
func KeyAlgorithms() []string {
	return []string{"ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096"}
}

// fromSigstoreAlgorithmName maps a name of the Sigstore algorithm registry (cosign's
// --signing-algorithm values) to ours; other names are returned unchanged.
func fromSigstoreAlgorithmName(name string) string {
	switch name {
	case "ecdsa-sha2-256-nistp256":
		return "ecdsa-p256"
	case "ecdsa-sha2-384-nistp384":
		return "ecdsa-p384"
	case "ecdsa-sha2-512-nistp521":
		return "ecdsa-p521"
	case "ed25519-ph":
		return "ed25519"
	case "rsa-sign-pkcs1-2048-sha256":
		return "rsa-2048"
	case "rsa-sign-pkcs1-3072-sha256":
		return "rsa-3072"
	case "rsa-sign-pkcs1-4096-sha256":
		return "rsa-4096"
	}
	return name
}

// GenerateKey creates a private key: alg is one of KeyAlgorithms ("ecdsa-p256" when empty), or a
// Sigstore algorithm registry name such as "ecdsa-sha2-256-nistp256" or "rsa-sign-pkcs1-3072-sha256".
func GenerateKey(alg string) (crypto.PrivateKey, error) {
	return generateKey(fromSigstoreAlgorithmName(strings.ToLower(strings.TrimSpace(alg))), rand.Reader)
}

func generateKey(name string, r io.Reader) (crypto.PrivateKey, error) {
	switch name {
	case "", "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), r)
	case "ecdsa-p521":
		return ecdsa.GenerateKey(elliptic.P521(), r)
	case "ed25519":
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	case "rsa-2048":
		return rsa.GenerateKey(r, 2048)
	case "rsa-3072":
		return rsa.GenerateKey(r, 3072)
	case "rsa-4096":
		return rsa.GenerateKey(r, 4096)
	default:
		return nil, fmt.Errorf("%w: key algorithm %q (one of %s)", ErrUnsupportedKey, name,
			strings.Join(KeyAlgorithms(), ", "))
	}
}

// AsCryptoSigner adapts a Signer to crypto.Signer, for x509.CreateCertificate, TLS and similar
// users. For in-memory and PKCS#11 keys it is the key's own crypto.Signer, so any hash the key
// type supports works (x509 signs Ed25519 certificates with pure Ed25519). For other Signers
// (KMS plugins) Sign accepts only digests made with s.HashFunc() and uses a background context.
func AsCryptoSigner(s Signer) crypto.Signer {
	if p, ok := s.(interface{ cryptoSigner() crypto.Signer }); ok {
		return p.cryptoSigner()
	}
	return digestCryptoSigner{s}
}

type digestCryptoSigner struct{ s Signer }

func (d digestCryptoSigner) Public() crypto.PublicKey { return d.s.Public() }

func (d digestCryptoSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	want := d.s.HashFunc()
	if opts == nil || opts.HashFunc() != want {
		got := crypto.Hash(0)
		if opts != nil {
			got = opts.HashFunc()
		}
		return nil, fmt.Errorf("%w: this key signs %s digests only, %s requested", ErrUnsupportedKey, want, got)
	}
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, fmt.Errorf("%w: RSA-PSS requested, this key signs PKCS#1 v1.5", ErrUnsupportedKey)
	}
	return d.s.SignDigest(context.Background(), digest)
}

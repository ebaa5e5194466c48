package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 5280 method 1 key identifiers, not a security use
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/internal/fsutil"
)

// ErrNoPEM is returned when a file that must hold PEM blocks holds none of the expected type.
var ErrNoPEM = errors.New("no PEM data")

// GenerateP256 creates an ECDSA P-256 key.
func GenerateP256() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating P-256 key: %w", err)
	}
	return k, nil
}

// WritePrivateKey writes key as a PKCS#8 "PRIVATE KEY" PEM file readable by its owner only.
func WritePrivateKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding private key for %s: %w", path, err)
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// ReadPrivateKey reads a PKCS#8, EC or PKCS#1 private key PEM file.
func ReadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("reading private key %s: %w", path, ErrNoPEM)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("reading private key %s: PEM type %q is not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key %s: %w", path, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %s: %T cannot sign", path, key)
	}
	return s, nil
}

// EncodeCertificates returns the certificates as concatenated "CERTIFICATE" PEM blocks.
func EncodeCertificates(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// WriteCertificates writes the certificates as a PEM file.
func WriteCertificates(path string, certs []*x509.Certificate) error {
	return writeFile(path, EncodeCertificates(certs), 0o644)
}

// ParseCertificates parses concatenated PEM certificates; anything but CERTIFICATE blocks and
// whitespace is an error, and at least one certificate is required.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q where a CERTIFICATE was expected", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("certificates: %w", ErrNoPEM)
	}
	for _, b := range rest {
		if b != ' ' && b != '\n' && b != '\r' && b != '\t' {
			return nil, errors.New("data after the last PEM certificate")
		}
	}
	return certs, nil
}

// ReadCertificates reads a PEM certificate file.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading certificates: %w", err)
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("reading certificates from %s: %w", path, err)
	}
	return certs, nil
}

// SerialNumber returns a random positive 159-bit serial number.
func SerialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// SubjectKeyID is the RFC 5280 method 1 key identifier: SHA-1 of the subject public key bits.
func SubjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("decoding public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes) //nolint:gosec // identifier, not a security use
	return sum[:], nil
}

// CAOptions describe a CA certificate.
type CAOptions struct {
	// Subject of the certificate.
	Subject pkix.Name
	// Validity is how long the certificate is valid from one minute ago.
	Validity time.Duration
	// MaxPathLen is the basic-constraints path length; -1 for none.
	MaxPathLen int
	// ExtKeyUsage, when set, constrains what the CA's subordinates may do (for example
	// x509.ExtKeyUsageCodeSigning for a Fulcio-style intermediate).
	ExtKeyUsage []x509.ExtKeyUsage
}

// NewCA makes a CA certificate for pub signed by parent/parentKey, or self-signed when parent is
// nil (parentKey then signs for itself).
func NewCA(opts CAOptions, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := SerialNumber()
	if err != nil {
		return nil, err
	}
	skid, err := SubjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Minute).UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               opts.Subject,
		NotBefore:             now,
		NotAfter:              now.Add(opts.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           opts.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            opts.MaxPathLen,
		MaxPathLenZero:        opts.MaxPathLen == 0,
		SubjectKeyId:          skid,
	}
	if opts.MaxPathLen < 0 {
		tmpl.MaxPathLen, tmpl.MaxPathLenZero = -1, false
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate %q: %w", opts.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// writeFile writes data atomically (temporary file, then rename) with the given mode, creating
// the directory when it is missing.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(path, data, mode)
}

// WriteFile writes data to path atomically with the given mode.
func WriteFile(path string, data []byte, mode os.FileMode) error { return writeFile(path, data, mode) }

package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// Files in a CA state directory.
const (
	KeyFile         = "ca_key.pem"        // intermediate key, PKCS#8 PEM (absent with a KMS key)
	KMSFile         = "ca_kms.txt"        // reference of the intermediate key held in a KMS
	ChainFile       = "ca_chain.pem"      // intermediate, then root
	TrustedRootFile = "trusted_root.json" // the certificateAuthorities part of a trusted root
)

var keyFiles = pki.KeyFiles{Key: KeyFile, KMS: KMSFile}

// ErrStateExists is returned by Init when the directory already holds a CA.
var ErrStateExists = errors.New("state directory already initialised")

// InitOptions configure Init.
type InitOptions struct {
	// Organization names the operator in the certificate subjects ("cosign-like" by default).
	Organization string
	// URL is the CA's URL recorded in the trusted root (may be empty).
	URL string
	// KMS, when set, is a key reference (pkcs11:... URI) where the intermediate key is created
	// and kept; otherwise the key is generated and written to ca_key.pem.
	KMS string
	// SignerOptions are passed to the signer package for the KMS key (PIN, module path).
	SignerOptions []signer.Option
	// Validity of the root (10 years by default); the intermediate gets the same.
	Validity time.Duration
}

// Init creates a code-signing CA in dir: an ECDSA P-256 root (its private key is not kept), an
// intermediate restricted to code signing whose key is a new P-256 key (or a key created in the
// KMS), the chain file, and trusted_root.json listing the chain under certificateAuthorities.
func Init(ctx context.Context, dir string, opts InitOptions) error {
	if err := keyFiles.CheckAbsent(dir, ErrStateExists); err != nil {
		return err
	}
	if opts.Organization == "" {
		opts.Organization = "cosign-like"
	}
	if opts.Validity == 0 {
		opts.Validity = 10 * 365 * 24 * time.Hour
	}
	root, rootKey, err := pki.NewThrowawayRoot(pkix.Name{Organization: []string{opts.Organization}, CommonName: opts.Organization + " root"}, opts.Validity, 1)
	if err != nil {
		return err
	}
	interPub, writeKey, err := pki.NewServerKey(ctx, dir, opts.KMS, keyFiles, opts.SignerOptions...)
	if err != nil {
		return fmt.Errorf("intermediate key: %w", err)
	}
	inter, err := pki.NewCA(pki.CAOptions{
		Subject:     pkix.Name{Organization: []string{opts.Organization}, CommonName: opts.Organization + " intermediate"},
		Validity:    opts.Validity,
		MaxPathLen:  0,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, interPub, root, rootKey)
	if err != nil {
		return err
	}
	if err := writeKey(); err != nil {
		return err
	}
	chain := []*x509.Certificate{inter, root}
	if err := pki.WriteCertificates(filepath.Join(dir, ChainFile), chain); err != nil {
		return err
	}
	authority, err := pki.CertificateAuthority(chain, opts.URL)
	if err != nil {
		return err
	}
	return pki.WriteTrustedRoot(filepath.Join(dir, TrustedRootFile), &prototrustroot.TrustedRoot{
		CertificateAuthorities: []*prototrustroot.CertificateAuthority{authority},
	})
}

// LoadKey opens the intermediate key and chain of the CA in dir: the key file, or the KMS key
// named in ca_kms.txt.
func LoadKey(ctx context.Context, dir string, opts ...signer.Option) (crypto.Signer, []*x509.Certificate, error) {
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		return nil, nil, err
	}
	key, err := pki.LoadServerKey(ctx, dir, keyFiles, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the CA key: %w", err)
	}
	if !chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		return nil, nil, fmt.Errorf("CA key does not match the certificate in %s", filepath.Join(dir, ChainFile))
	}
	return key, chain, nil
}

package tsa

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/signer"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
)

// Files in a TSA state directory.
const (
	KeyFile         = "tsa_key.pem"       // the TSA signing key, PKCS#8 PEM (absent with a KMS key)
	KMSFile         = "tsa_kms.txt"       // reference of the signing key held in a PKCS#11 token
	ChainFile       = "tsa_chain.pem"     // TSA certificate, then its root
	TrustedRootFile = "trusted_root.json" // the timestampAuthorities part of a trusted root
)

// PolicyOID is the TSA policy OID put in every timestamp (Sigstore's timestamp policy arc).
var PolicyOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}

// InitOptions configure Init.
type InitOptions struct {
	// Organization names the operator in the certificates' subjects ("cosign-like" by default).
	Organization string
	// URL is the TSA's timestamp URL recorded in the trusted root (may be empty).
	URL string
	// Validity of the root and TSA certificates (10 years by default).
	Validity time.Duration
	// KMS, when set, is a pkcs11: URI where the signing key is created and kept; otherwise the
	// key is generated and written to tsa_key.pem.
	KMS string
	// SignerOptions are passed to the signer package for the KMS key (PIN, module path).
	SignerOptions []signer.Option
}

var keyFiles = pki.KeyFiles{Key: KeyFile, KMS: KMSFile}

// ErrStateExists is returned by Init when the directory already holds a TSA.
var ErrStateExists = errors.New("state directory already initialised")

// Init creates a TSA in dir: an ECDSA P-256 root (whose private key is not kept: run Init in a
// new directory to rotate), a P-256 signing key (in a file, or in a PKCS#11 token), its TSA certificate with the critical timeStamping extended key
// usage, and trusted_root.json listing the chain under timestampAuthorities.
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
	root, rootKey, err := pki.NewThrowawayRoot(pkix.Name{Organization: []string{opts.Organization}, CommonName: opts.Organization + " TSA root"}, opts.Validity, 0)
	if err != nil {
		return err
	}
	pub, writeKey, err := pki.NewServerKey(ctx, dir, opts.KMS, keyFiles, opts.SignerOptions...)
	if err != nil {
		return fmt.Errorf("TSA signing key: %w", err)
	}
	leaf, err := newTSACertificate(opts, pub, root, rootKey)
	if err != nil {
		return err
	}
	chain := []*x509.Certificate{leaf, root}
	if err := writeKey(); err != nil {
		return err
	}
	if err := pki.WriteCertificates(filepath.Join(dir, ChainFile), chain); err != nil {
		return err
	}
	authority, err := pki.CertificateAuthority(chain, opts.URL)
	if err != nil {
		return err
	}
	return pki.WriteTrustedRoot(filepath.Join(dir, TrustedRootFile), &prototrustroot.TrustedRoot{
		TimestampAuthorities: []*prototrustroot.CertificateAuthority{authority},
	})
}

// newTSACertificate issues the timestamping certificate: digitalSignature key usage and the
// timeStamping extended key usage, marked critical as RFC 3161 section 2.3 requires.
func newTSACertificate(opts InitOptions, pub crypto.PublicKey, root *x509.Certificate, rootKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := pki.SerialNumber()
	if err != nil {
		return nil, err
	}
	skid, err := pki.SubjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, fmt.Errorf("encoding extended key usage: %w", err)
	}
	now := time.Now().Add(-time.Minute).UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{opts.Organization}, CommonName: opts.Organization + " TSA"},
		NotBefore:             now,
		NotAfter:              now.Add(opts.Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          skid,
		ExtraExtensions: []pkix.Extension{{
			Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku,
		}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, pub, rootKey)
	if err != nil {
		return nil, fmt.Errorf("creating TSA certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

package virtualsigstore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"

	"github.com/digitorus/timestamp"
)

// TSA is an RFC 3161 timestamp authority: a self-signed root and a timestamping leaf.
type TSA struct {
	Root, Leaf *x509.Certificate
	leafKey    *ecdsa.PrivateKey
}

// NewTSA makes a TSA whose certificates are valid [notBefore, notAfter].
func NewTSA(name string, notBefore, notAfter time.Time) (*TSA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{name}, CommonName: name + " TSA root"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	root, err := create(rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ekuTimestamping, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	leaf, err := create(&x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{name}, CommonName: name + " TSA"},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		// RFC 3161 requires the timestamping EKU to be critical.
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: ekuTimestamping}},
	}, root, leafKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	return &TSA{Root: root, Leaf: leaf, leafKey: leafKey}, nil
}

// Timestamp returns a DER TimeStampResp over SHA-256(signature) stating time at; embedCert
// puts the TSA certificate into the token.
func (t *TSA) Timestamp(signature []byte, at time.Time, embedCert bool) ([]byte, error) {
	sum := sha256.Sum256(signature)
	ts := timestamp.Timestamp{
		HashAlgorithm:     crypto.SHA256,
		HashedMessage:     sum[:],
		Time:              at,
		Policy:            asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
		AddTSACertificate: embedCert,
	}
	return ts.CreateResponseWithOpts(t.Leaf, t.leafKey, crypto.SHA256)
}

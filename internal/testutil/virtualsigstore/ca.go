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
	"fmt"
	"math/big"
	"net/url"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"

	"github.com/cosign-like/cosign-like/pkg/certext"
)

var (
	oidPrecertPoison = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	oidSCTList       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

// CA is a root and an intermediate code-signing CA.
type CA struct {
	Root, Intermediate       *x509.Certificate
	rootKey, intermediateKey *ecdsa.PrivateKey
}

// CTLog is a certificate transparency log's signing key.
type CTLog struct {
	Key *ecdsa.PrivateKey
	ID  [32]byte
}

// NewCTLog makes a CT log key; its ID is SHA-256 of the PKIX public key.
func NewCTLog() (*CTLog, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	return &CTLog{Key: k, ID: sha256.Sum256(der)}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// NewCA makes a root valid [notBefore, notAfter] and an intermediate valid
// [notBefore, interNotAfter] (interNotAfter zero: notAfter).
func NewCA(name string, notBefore, notAfter, interNotAfter time.Time) (*CA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{name}, CommonName: name + " root"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	root, err := create(rootTmpl, rootTmpl, rootKey.Public(), rootKey) // self-signed
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if interNotAfter.IsZero() {
		interNotAfter = notAfter
	}
	inter, err := create(&x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{name}, CommonName: name + " intermediate"},
		NotBefore: notBefore, NotAfter: interNotAfter, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, root, interKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	return &CA{Root: root, Intermediate: inter, rootKey: rootKey, intermediateKey: interKey}, nil
}

// CertOptions describe a signing certificate.
type CertOptions struct {
	// Email, URI or Username (a Fulcio otherName) is the SAN.
	Email    string
	URI      string
	Username string
	// Extensions are the Fulcio extensions (issuer, GitHub workflow fields...).
	Extensions certext.Extensions
	// NotBefore and NotAfter bound the certificate (Fulcio issues 10-minute certificates).
	NotBefore, NotAfter time.Time
	// CTLog, when set, logs the precertificate and embeds its SCT; nil gives a certificate
	// without SCT.
	CTLog *CTLog
	// SubmitPrecert, when set instead of CTLog, sends the precertificate chain (DER, leaf
	// first, root last) to a real CT log and returns the SCT list extension to embed.
	SubmitPrecert func(chain [][]byte) (pkix.Extension, error)
}

// Issue makes a leaf certificate for pub, signed by the intermediate, with an embedded SCT
// from opts.CTLog over the precertificate, as Fulcio does.
func (ca *CA) Issue(pub crypto.PublicKey, opts CertOptions) (*x509.Certificate, error) {
	exts, err := opts.Extensions.Render()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial(),
		NotBefore:       opts.NotBefore,
		NotAfter:        opts.NotAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	if opts.Email != "" {
		tmpl.EmailAddresses = []string{opts.Email}
	}
	if opts.URI != "" {
		u, err := url.Parse(opts.URI)
		if err != nil {
			return nil, err
		}
		tmpl.URIs = []*url.URL{u}
	}
	if opts.Username != "" {
		san, err := otherNameSAN(opts.Username)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append([]pkix.Extension{san}, tmpl.ExtraExtensions...)
		exts = tmpl.ExtraExtensions
	}
	if opts.CTLog == nil && opts.SubmitPrecert == nil {
		return create(tmpl, ca.Intermediate, pub, ca.intermediateKey)
	}
	pre := *tmpl
	pre.ExtraExtensions = append(append([]pkix.Extension(nil), exts...), pkix.Extension{Id: oidPrecertPoison, Critical: true, Value: []byte{0x05, 0x00}})
	precert, err := create(&pre, ca.Intermediate, pub, ca.intermediateKey)
	if err != nil {
		return nil, err
	}
	var sctExt pkix.Extension
	if opts.SubmitPrecert != nil {
		sctExt, err = opts.SubmitPrecert([][]byte{precert.Raw, ca.Intermediate.Raw, ca.Root.Raw})
	} else {
		sctExt, err = embeddedSCT(opts.CTLog, precert, ca.Intermediate, opts.NotBefore)
	}
	if err != nil {
		return nil, err
	}
	final := *tmpl
	final.ExtraExtensions = append(append([]pkix.Extension(nil), exts...), sctExt)
	return create(&final, ca.Intermediate, pub, ca.intermediateKey)
}

// embeddedSCT has the CT log sign a v1 SCT over the precertificate and returns the X.509
// extension that carries it.
func embeddedSCT(log *CTLog, precert, issuer *x509.Certificate, when time.Time) (pkix.Extension, error) {
	parsed, err := ctx509.ParseCertificate(precert.Raw)
	if err != nil && ctx509.IsFatal(err) {
		return pkix.Extension{}, err
	}
	tbs, err := ctx509.BuildPrecertTBS(parsed.RawTBSCertificate, nil)
	if err != nil {
		return pkix.Extension{}, err
	}
	ms := uint64(when.UnixMilli())
	sct := ct.SignedCertificateTimestamp{
		SCTVersion: ct.V1,
		LogID:      ct.LogID{KeyID: log.ID},
		Timestamp:  ms,
		Extensions: ct.CTExtensions{},
	}
	entry := ct.LogEntry{Leaf: ct.MerkleTreeLeaf{
		Version:  ct.V1,
		LeafType: ct.TimestampedEntryLeafType,
		TimestampedEntry: &ct.TimestampedEntry{
			Timestamp:    ms,
			EntryType:    ct.PrecertLogEntryType,
			PrecertEntry: &ct.PreCert{IssuerKeyHash: sha256.Sum256(issuer.RawSubjectPublicKeyInfo), TBSCertificate: tbs},
		},
	}}
	input, err := ct.SerializeSCTSignatureInput(sct, entry)
	if err != nil {
		return pkix.Extension{}, err
	}
	sig, err := cttls.CreateSignature(*log.Key, cttls.SHA256, input)
	if err != nil {
		return pkix.Extension{}, err
	}
	sct.Signature = ct.DigitallySigned(sig)
	sctBytes, err := cttls.Marshal(sct)
	if err != nil {
		return pkix.Extension{}, err
	}
	list, err := cttls.Marshal(ctx509.SignedCertificateTimestampList{SCTList: []ctx509.SerializedSCT{{Val: sctBytes}}})
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal(list)
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encoding SCT list: %w", err)
	}
	return pkix.Extension{Id: oidSCTList, Value: value}, nil
}

// otherNameSAN is a critical SAN extension holding one otherName of Fulcio's username type
// (1.3.6.1.4.1.57264.1.7) with a UTF8String value.
func otherNameSAN(username string) (pkix.Extension, error) {
	value, err := asn1.MarshalWithParams(username, "utf8")
	if err != nil {
		return pkix.Extension{}, err
	}
	inner, err := asn1.Marshal(struct {
		TypeID asn1.ObjectIdentifier
		Value  asn1.RawValue
	}{
		TypeID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 7},
		Value:  asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value},
	})
	if err != nil {
		return pkix.Extension{}, err
	}
	inner[0] = 0xa0 // [0] IMPLICIT, constructed: GeneralName otherName
	san, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: inner})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Critical: true, Value: san}, nil
}

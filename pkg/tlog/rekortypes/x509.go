package rekortypes

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// maxChain bounds a PEM certificate chain given as an x509 key, as Rekor bounds it.
const maxChain = 10

// x509Key is a PEM public key, certificate or certificate chain (leaf first), read as Rekor's
// x509 PKI reads it.
type x509Key struct {
	pub   crypto.PublicKey
	certs []*x509.Certificate // one certificate, or a chain; nil for a bare key
	chain bool                // several PEM blocks were given
}

func parseX509Key(content []byte) (*x509Key, error) {
	trimmed := bytes.TrimSpace(content)
	block, rest := pem.Decode(trimmed)
	if block == nil {
		return nil, fmt.Errorf("%w: x509 public key: no PEM block", ErrInvalid)
	}
	if len(rest) > 0 {
		var certs []*x509.Certificate
		for rest = trimmed; len(rest) > 0; {
			if len(certs) == maxChain {
				return nil, fmt.Errorf("%w: x509 certificate chain of more than %d certificates", ErrInvalid, maxChain)
			}
			block, rest = pem.Decode(rest)
			if block == nil {
				return nil, fmt.Errorf("%w: x509 certificate chain: data that is not a PEM block", ErrInvalid)
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: x509 certificate chain: certificate %d: %v", ErrInvalid, len(certs), err)
			}
			certs = append(certs, c)
		}
		return &x509Key{pub: certs[0].PublicKey, certs: certs, chain: true}, nil
	}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: x509 public key: %v", ErrInvalid, err)
		}
		return &x509Key{pub: pub}, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: x509 certificate: %v", ErrInvalid, err)
		}
		return &x509Key{pub: c.PublicKey, certs: []*x509.Certificate{c}}, nil
	}
	return nil, fmt.Errorf("%w: x509 public key: PEM block %q (want PUBLIC KEY or CERTIFICATE)", ErrInvalid, block.Type)
}

// canonical is the key re-encoded as Rekor's CanonicalValue writes it: a PEM PUBLIC KEY of the
// key's PKIX DER, or the PEM CERTIFICATE of each certificate.
func (k *x509Key) canonical() ([]byte, error) {
	if k.certs == nil {
		der, err := x509.MarshalPKIXPublicKey(k.pub)
		if err != nil {
			return nil, fmt.Errorf("%w: x509 public key: %v", ErrInvalid, err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
	}
	var b []byte
	for _, c := range k.certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b, nil
}

// subjects are the leaf certificate's subject alternative names in Rekor's order: DNS names,
// email addresses, IP addresses, URIs, then a Fulcio username (OtherName) if there is exactly one.
func (k *x509Key) subjects() []string {
	if len(k.certs) == 0 {
		return nil
	}
	c := k.certs[0]
	s := append([]string{}, c.DNSNames...)
	s = append(s, c.EmailAddresses...)
	for _, ip := range c.IPAddresses {
		s = append(s, ip.String())
	}
	for _, u := range c.URIs {
		s = append(s, u.String())
	}
	if name, ok := otherNameSAN(c); ok {
		s = append(s, name)
	}
	return s
}

// otherNameSAN is the certificate's one Fulcio username OtherName SAN, read as sigstore's
// cryptoutils reads it for Rekor: any malformed SAN extension, an OtherName of another type,
// or more than one, and there is none.
func otherNameSAN(c *x509.Certificate) (string, bool) {
	var names []string
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidSAN) {
			continue
		}
		var seq asn1.RawValue
		rest, err := asn1.Unmarshal(e.Value, &seq)
		if err != nil || len(rest) != 0 || !seq.IsCompound || seq.Tag != asn1.TagSequence || seq.Class != asn1.ClassUniversal {
			return "", false
		}
		for rest = seq.Bytes; len(rest) > 0; {
			var v asn1.RawValue
			if rest, err = asn1.Unmarshal(rest, &v); err != nil {
				return "", false
			}
			if v.Tag != 0 {
				continue
			}
			var on struct {
				ID    asn1.ObjectIdentifier
				Value string `asn1:"utf8,explicit,tag:0"`
			}
			if _, err := asn1.UnmarshalWithParams(v.FullBytes, &on, "tag:0"); err != nil || !on.ID.Equal(certext.OIDOtherName) {
				return "", false
			}
			names = append(names, on.Value)
		}
	}
	if len(names) != 1 {
		return "", false
	}
	return names[0], true
}

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// checkChain verifies a chain given as the key: the last certificate is the root, those between
// are intermediates, at the leaf's notBefore and for any key usage, as Rekor checks it.
func (k *x509Key) checkChain() error {
	if !k.chain || len(k.certs) < 2 {
		return nil
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(k.certs[len(k.certs)-1])
	for _, c := range k.certs[1 : len(k.certs)-1] {
		inter.AddCert(c)
	}
	_, err := k.certs[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		CurrentTime: k.certs[0].NotBefore,
	})
	if err != nil {
		return fmt.Errorf("%w: x509 certificate chain does not verify: %v", ErrInvalid, err)
	}
	return nil
}

// errSignature reports a signature that does not verify.
var errSignature = errors.New("signature does not verify")

// verifyDigest checks an x509 signature over digest as sigstore's verifiers do: ECDSA in ASN.1
// DER or IEEE P1363 (r||s) form, RSA PKCS#1 v1.5, Ed25519ph (SHA-512 only).
func verifyDigest(pub crypto.PublicKey, hash crypto.Hash, digest, sig []byte) error {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			// IEEE P1363: r and s of equal length, concatenated.
			if len(sig) == 0 || len(sig) > 132 || len(sig)%2 != 0 {
				return fmt.Errorf("%w: ECDSA signature is neither ASN.1 DER nor IEEE P1363", ErrInvalid)
			}
			r := new(big.Int).SetBytes(sig[:len(sig)/2])
			s := new(big.Int).SetBytes(sig[len(sig)/2:])
			if !ecdsa.Verify(k, digest, r, s) {
				return fmt.Errorf("%w: %w (ECDSA, IEEE P1363 form)", ErrInvalid, errSignature)
			}
			return nil
		}
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("%w: x509 key of type %T is not supported", ErrInvalid, pub)
	}
	if _, ok := pub.(ed25519.PublicKey); ok && hash != crypto.SHA512 {
		return fmt.Errorf("%w: an Ed25519 key signs a hashedrekord as Ed25519ph, over a sha512 digest, not %s", ErrInvalid, hash)
	}
	if len(digest) != hash.Size() {
		return fmt.Errorf("%w: digest of %d bytes for %s", ErrInvalid, len(digest), hash)
	}
	if !tlog.VerifyDigest(pub, hash, digest, sig) {
		return fmt.Errorf("%w: %w (%s key, %s digest)", ErrInvalid, errSignature, keyType(pub), hash)
	}
	return nil
}

// verifyMessage checks an x509 signature over message with the defaults of sigstore's
// LoadVerifier: SHA-256 for ECDSA and RSA, pure Ed25519.
func verifyMessage(pub crypto.PublicKey, message, sig []byte) error {
	if k, ok := pub.(ed25519.PublicKey); ok {
		if !ed25519.Verify(k, message, sig) {
			return fmt.Errorf("%w: %w (Ed25519)", ErrInvalid, errSignature)
		}
		return nil
	}
	d := sha256.Sum256(message)
	return verifyDigest(pub, crypto.SHA256, d[:], sig)
}

func keyType(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// verify checks the signature with the key (and its chain, if one was given).
func (k *x509Key) verify(check func(crypto.PublicKey) error) error {
	if err := k.checkChain(); err != nil {
		return err
	}
	return check(k.pub)
}

package tlog

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// Kind and version of the only entry type this log accepts, as rekor-tiles names them.
const (
	HashedRekordKind    = "hashedrekord"
	HashedRekordVersion = "0.0.2"
)

// Errors of entry requests. Each wraps ErrInvalidRequest.
var (
	// ErrInvalidRequest is the family of every rejected create-entry request.
	ErrInvalidRequest = errors.New("invalid entry request")
	// ErrUnsupportedAlgorithm reports a key type, size or key-details value the log does not accept.
	ErrUnsupportedAlgorithm = wrapErr(ErrInvalidRequest, "unsupported signature algorithm")
	// ErrSignatureInvalid reports a signature that does not verify over the digest.
	ErrSignatureInvalid = wrapErr(ErrInvalidRequest, "signature does not verify")
)

// allowedKeyDetails are the signature algorithms rekor-tiles accepts for hashedrekord v0.0.2:
// ECDSA P-256/P-384/P-521 with SHA-2, Ed25519ph, RSA PKCS#1 v1.5 of 2048, 3072 or 4096 bits.
var allowedKeyDetails = map[commonv1.PublicKeyDetails]crypto.Hash{
	commonv1.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256:       crypto.SHA256,
	commonv1.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384:       crypto.SHA384,
	commonv1.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512:       crypto.SHA512,
	commonv1.PublicKeyDetails_PKIX_ED25519_PH:               crypto.SHA512,
	commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256: crypto.SHA256,
	commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256: crypto.SHA256,
	commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256: crypto.SHA256,
}

// HashedRekordRequest is a Rekor v2 hashedrekord v0.0.2 request: a signature over a digest with
// the public key (PKIX DER) or certificate (DER) that verifies it.
type HashedRekordRequest struct {
	// Digest is the hash of the signed artifact.
	Digest []byte
	// Signature is the signature over Digest.
	Signature []byte
	// Verifier is a PKIX DER public key, or a DER certificate when IsCertificate.
	Verifier []byte
	// IsCertificate says whether Verifier is a certificate.
	IsCertificate bool
	// KeyDetails names the key and signature algorithm.
	KeyDetails commonv1.PublicKeyDetails
}

// NewHashedRekordRequest builds a request from a signature over digest (computed with hash), and
// the PKIX DER public key or DER certificate (isCert) that verifies it. The key details are the
// default ones for the key, as sigstore clients choose them: ECDSA with the curve's SHA-2, Ed25519
// as Ed25519ph (hash must be SHA-512), RSA PKCS#1 v1.5 with SHA-256.
func NewHashedRekordRequest(sig []byte, digest []byte, hash crypto.Hash, verifier []byte, isCert bool) (*HashedRekordRequest, error) {
	pub, err := parseVerifier(verifier, isCert)
	if err != nil {
		return nil, err
	}
	details, err := DefaultKeyDetails(pub)
	if err != nil {
		return nil, err
	}
	if want := allowedKeyDetails[details]; want != hash {
		return nil, fmt.Errorf("%w: %s needs a %s digest, got %s", ErrUnsupportedAlgorithm, details, want, hash)
	}
	if len(digest) != hash.Size() {
		return nil, fmt.Errorf("%w: digest is %d bytes, %s needs %d", ErrInvalidRequest, len(digest), hash, hash.Size())
	}
	return &HashedRekordRequest{Digest: digest, Signature: sig, Verifier: verifier, IsCertificate: isCert, KeyDetails: details}, nil
}

// DefaultKeyDetails is the key-details value a sigstore client uses for pub.
func DefaultKeyDetails(pub crypto.PublicKey) (commonv1.PublicKeyDetails, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return commonv1.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, nil
		case elliptic.P384():
			return commonv1.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384, nil
		case elliptic.P521():
			return commonv1.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, nil
		}
		return 0, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedAlgorithm, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return commonv1.PublicKeyDetails_PKIX_ED25519_PH, nil
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256, nil
		case 3072:
			return commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256, nil
		case 4096:
			return commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256, nil
		}
		return 0, fmt.Errorf("%w: RSA key of %d bits (2048, 3072 or 4096 accepted)", ErrUnsupportedAlgorithm, k.N.BitLen())
	}
	return 0, fmt.Errorf("%w: key type %T", ErrUnsupportedAlgorithm, pub)
}

// parseVerifier returns the public key in a PKIX DER key or a DER certificate.
func parseVerifier(der []byte, isCert bool) (crypto.PublicKey, error) {
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: missing verifier (public key or certificate)", ErrInvalidRequest)
	}
	if isCert {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing certificate: %v", ErrInvalidRequest, err)
		}
		return cert.PublicKey, nil
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing public key: %v", ErrInvalidRequest, err)
	}
	return pub, nil
}

// Verify checks the request as the log does before accepting it: every field present, an allowed
// algorithm that matches the key, a digest of the algorithm's size, and a signature that verifies.
func (r *HashedRekordRequest) Verify() error {
	if len(r.Digest) == 0 {
		return fmt.Errorf("%w: missing digest", ErrInvalidRequest)
	}
	if len(r.Signature) == 0 {
		return fmt.Errorf("%w: missing signature content", ErrInvalidRequest)
	}
	hash, err := keyDetailsHash(r.KeyDetails)
	if err != nil {
		return err
	}
	pub, err := parseVerifier(r.Verifier, r.IsCertificate)
	if err != nil {
		return err
	}
	want, err := DefaultKeyDetails(pub)
	if err != nil {
		return err
	}
	if want != r.KeyDetails {
		return fmt.Errorf("%w: keyDetails %s does not match the key (%s)", ErrUnsupportedAlgorithm, r.KeyDetails, want)
	}
	if len(r.Digest) != hash.Size() {
		return fmt.Errorf("%w: digest is %d bytes, %s needs %d", ErrInvalidRequest, len(r.Digest), hash, hash.Size())
	}
	if !VerifyDigest(pub, hash, r.Digest, r.Signature) {
		return fmt.Errorf("%w: %s signature over the %d-byte digest", ErrSignatureInvalid, r.KeyDetails, len(r.Digest))
	}
	return nil
}

// VerifyDigest reports whether sig is pub's signature over digest, the hash (of algorithm hash)
// of the signed data: ECDSA with an ASN.1 DER signature, RSA PKCS#1 v1.5, or Ed25519ph (hash
// must then be SHA-512). Other key types never verify. The Rekor v2 request and the Rekor v1
// entry types (package rekortypes) both verify with it.
func VerifyDigest(pub crypto.PublicKey, hash crypto.Hash, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, hash, digest, sig) == nil
	case ed25519.PublicKey:
		return hash == crypto.SHA512 && ed25519.VerifyWithOptions(k, digest, sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	return false
}

// keyDetailsHash is the digest algorithm of key details the log accepts; other key details are
// refused.
func keyDetailsHash(d commonv1.PublicKeyDetails) (crypto.Hash, error) {
	if d == commonv1.PublicKeyDetails_PUBLIC_KEY_DETAILS_UNSPECIFIED {
		return 0, fmt.Errorf("%w: missing keyDetails", ErrInvalidRequest)
	}
	hash, ok := allowedKeyDetails[d]
	if !ok {
		return 0, fmt.Errorf("%w: keyDetails %s is not accepted", ErrUnsupportedAlgorithm, d)
	}
	return hash, nil
}

// PublicKey returns the verifier's public key.
func (r *HashedRekordRequest) PublicKey() (crypto.PublicKey, error) {
	return parseVerifier(r.Verifier, r.IsCertificate)
}

// hashAlgorithm is the protobuf-specs name of the digest algorithm of the key details.
func hashAlgorithm(d commonv1.PublicKeyDetails) commonv1.HashAlgorithm {
	switch allowedKeyDetails[d] {
	case crypto.SHA256:
		return commonv1.HashAlgorithm_SHA2_256
	case crypto.SHA384:
		return commonv1.HashAlgorithm_SHA2_384
	case crypto.SHA512:
		return commonv1.HashAlgorithm_SHA2_512
	}
	return commonv1.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED
}

// JSON shapes, with fields in lexicographic order so that encoding/json writes RFC 8785 (JCS)
// canonical JSON: every value is an ASCII string without characters that need escaping.
type (
	jsonRawBytes struct {
		RawBytes []byte `json:"rawBytes,omitempty"`
	}
	jsonVerifier struct {
		KeyDetails      string        `json:"keyDetails,omitempty"`
		PublicKey       *jsonRawBytes `json:"publicKey,omitempty"`
		X509Certificate *jsonRawBytes `json:"x509Certificate,omitempty"`
	}
	jsonSignature struct {
		Content  []byte       `json:"content,omitempty"`
		Verifier jsonVerifier `json:"verifier"`
	}
	jsonHashOutput struct {
		Algorithm string `json:"algorithm,omitempty"`
		Digest    []byte `json:"digest,omitempty"`
	}
	jsonHashedRekordEntry struct {
		Data      jsonHashOutput `json:"data"`
		Signature jsonSignature  `json:"signature"`
	}
	jsonEntry struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			HashedRekordV002 jsonHashedRekordEntry `json:"hashedRekordV002"`
		} `json:"spec"`
	}
	jsonHashedRekordRequest struct {
		Digest    []byte        `json:"digest,omitempty"`
		Signature jsonSignature `json:"signature"`
	}
)

func (r *HashedRekordRequest) jsonSignature() jsonSignature {
	s := jsonSignature{Content: r.Signature, Verifier: jsonVerifier{KeyDetails: r.KeyDetails.String()}}
	if r.IsCertificate {
		s.Verifier.X509Certificate = &jsonRawBytes{RawBytes: r.Verifier}
	} else {
		s.Verifier.PublicKey = &jsonRawBytes{RawBytes: r.Verifier}
	}
	return s
}

// MarshalJSON writes the create-entry request body: {"hashedRekordRequestV002": {...}}.
func (r *HashedRekordRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Req jsonHashedRekordRequest `json:"hashedRekordRequestV002"`
	}{jsonHashedRekordRequest{Digest: r.Digest, Signature: r.jsonSignature()}})
}

// CanonicalBody is the log entry for the request exactly as rekor-tiles writes it: the protojson
// form of a hashedrekord 0.0.2 Entry, canonicalized with RFC 8785 (JCS). Its RFC 6962 leaf hash
// is what the inclusion proof proves.
func (r *HashedRekordRequest) CanonicalBody() ([]byte, error) {
	var e jsonEntry
	e.APIVersion = HashedRekordVersion
	e.Kind = HashedRekordKind
	e.Spec.HashedRekordV002 = jsonHashedRekordEntry{
		Data:      jsonHashOutput{Algorithm: hashAlgorithm(r.KeyDetails).String(), Digest: r.Digest},
		Signature: r.jsonSignature(),
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding entry: %w", err)
	}
	return b, nil
}

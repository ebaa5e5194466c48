package bundle

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
)

// KeyHint returns the hint cosign and sigstore-go record for a public key in keyed bundles: the
// standard base64 encoding of the SHA-256 of the key's PKIX DER form.
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// KeyMaterial returns the verification material of a bundle signed with a key: a publicKey
// identifier whose hint is KeyHint(pub). The key itself is not in the bundle; the verifier is
// given it.
func KeyMaterial(pub crypto.PublicKey) (*protobundle.VerificationMaterial, error) {
	hint, err := KeyHint(pub)
	if err != nil {
		return nil, err
	}
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{
			PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint},
		},
	}, nil
}

// CertificateMaterial returns the verification material of a bundle v0.3 signed under a
// certificate: the leaf certificate alone (the chain comes from the trusted root).
func CertificateMaterial(leaf *x509.Certificate) *protobundle.VerificationMaterial {
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{
			Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw},
		},
	}
}

// hashAlgorithm maps a crypto.Hash to its protobuf-specs name.
func hashAlgorithm(h crypto.Hash) (protocommon.HashAlgorithm, error) {
	switch h {
	case crypto.SHA256:
		return protocommon.HashAlgorithm_SHA2_256, nil
	case crypto.SHA384:
		return protocommon.HashAlgorithm_SHA2_384, nil
	case crypto.SHA512:
		return protocommon.HashAlgorithm_SHA2_512, nil
	}
	return 0, fmt.Errorf("unsupported hash %s (SHA-256, SHA-384 or SHA-512 required)", h)
}

// HashFunc maps a protobuf-specs hash algorithm to a crypto.Hash (0 if unknown).
func HashFunc(alg protocommon.HashAlgorithm) crypto.Hash {
	switch alg {
	case protocommon.HashAlgorithm_SHA2_256:
		return crypto.SHA256
	case protocommon.HashAlgorithm_SHA2_384:
		return crypto.SHA384
	case protocommon.HashAlgorithm_SHA2_512:
		return crypto.SHA512
	}
	return 0
}

// NewMessageSignatureBundle returns a bundle v0.3 holding a signature over an artifact digest.
// vm is the verification material (KeyMaterial or CertificateMaterial); the caller adds tlog
// entries and timestamps to vm. An unsupported hash leaves messageDigest unset, which Parse
// and the verifier refuse.
func NewMessageSignatureBundle(vm *protobundle.VerificationMaterial, hash crypto.Hash, digest, sig []byte) *protobundle.Bundle {
	ms := &protocommon.MessageSignature{Signature: sig}
	if alg, err := hashAlgorithm(hash); err == nil {
		ms.MessageDigest = &protocommon.HashOutput{Algorithm: alg, Digest: digest}
	}
	return &protobundle.Bundle{
		MediaType:            MediaTypeV03,
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_MessageSignature{MessageSignature: ms},
	}
}

// NewDSSEBundle returns a bundle v0.3 holding a DSSE envelope.
func NewDSSEBundle(vm *protobundle.VerificationMaterial, env *protodsse.Envelope) *protobundle.Bundle {
	return &protobundle.Bundle{
		MediaType:            MediaTypeV03,
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env},
	}
}

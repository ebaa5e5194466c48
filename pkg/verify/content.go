package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// signedContent is the bundle's signature and what it signs.
type signedContent struct {
	signature []byte
	msg       *protocommon.MessageSignature // message signature bundles
	env       *protodsse.Envelope           // DSSE bundles
	pae       []byte                        // PAE of env
}

func newSignedContent(b *protobundle.Bundle) (*signedContent, error) {
	switch c := b.GetContent().(type) {
	case *protobundle.Bundle_MessageSignature:
		return &signedContent{signature: c.MessageSignature.GetSignature(), msg: c.MessageSignature}, nil
	case *protobundle.Bundle_DsseEnvelope:
		env := c.DsseEnvelope
		return &signedContent{
			signature: env.GetSignatures()[0].GetSig(),
			env:       env,
			pae:       bundle.PAE(env.GetPayloadType(), env.GetPayload()),
		}, nil
	}
	return nil, fmt.Errorf("%w: no content", ErrBundle)
}

// verifySignature checks the signature under pub: over the message digest, or over the DSSE
// envelope's PAE. Pure Ed25519 message signatures, and bundles without a message digest, are
// checked over the artifact's bytes when the caller gave them.
func (sc *signedContent) verifySignature(pub crypto.PublicKey, artifact Artifact) error {
	if sc.env != nil {
		if err := verifyMessage(pub, sc.pae, sc.signature); err != nil {
			return fmt.Errorf("%w (over the DSSE envelope)", err)
		}
		return nil
	}
	md := sc.msg.GetMessageDigest()
	if md == nil {
		data, ok := artifact.Bytes()
		if !ok {
			return fmt.Errorf("%w: the bundle has no messageDigest and the artifact bytes were not given", ErrArtifactMismatch)
		}
		return verifyMessage(pub, data, sc.signature)
	}
	h := bundle.HashFunc(md.GetAlgorithm())
	if h == 0 {
		return fmt.Errorf("%w: messageDigest algorithm %s not supported", ErrBundle, md.GetAlgorithm())
	}
	err := verifyDigest(pub, h, md.GetDigest(), sc.signature)
	if ed, isEd := pub.(ed25519.PublicKey); err != nil && isEd {
		// Pure Ed25519 signs the message itself: possible only with the artifact's bytes,
		// which verifyArtifact then checks against the message digest.
		if data, ok := artifact.Bytes(); ok && ed25519.Verify(ed, data, sc.signature) {
			return nil
		}
	}
	return err
}

// verifyArtifact checks that the signed content is the artifact: the message digest equals the
// artifact's, or (DSSE) the payload is an in-toto statement with the artifact among its subjects.
func (sc *signedContent) verifyArtifact(artifact Artifact, res *Result) error {
	if sc.env != nil {
		return sc.verifyStatement(artifact, res)
	}
	md := sc.msg.GetMessageDigest()
	if md == nil {
		return nil // the signature was checked over the artifact's bytes
	}
	h := bundle.HashFunc(md.GetAlgorithm())
	want, ok := artifact.Digest(h)
	if !ok {
		return fmt.Errorf("%w: the bundle signs a %s digest, the artifact is known only as %s", ErrArtifactMismatch, hashName(h), artifact.describe())
	}
	if !bytes.Equal(md.GetDigest(), want) {
		return fmt.Errorf("%w: the bundle signs %s:%s, the artifact is %s:%s", ErrArtifactMismatch,
			hashName(h), hex.EncodeToString(md.GetDigest()), hashName(h), hex.EncodeToString(want))
	}
	return nil
}

func (sc *signedContent) verifyStatement(artifact Artifact, res *Result) error {
	res.PayloadType = sc.env.GetPayloadType()
	res.Payload = sc.env.GetPayload()
	if sc.env.GetPayloadType() != bundle.PayloadTypeInToto {
		return fmt.Errorf("%w: DSSE payloadType %q, want %q", ErrStatement, sc.env.GetPayloadType(), bundle.PayloadTypeInToto)
	}
	st, err := bundle.ParseStatement(sc.env.GetPayload())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStatement, err)
	}
	res.Statement = st
	var seen []string
	for _, s := range st.GetSubject() {
		for alg, hexDigest := range s.GetDigest() {
			seen = append(seen, alg+":"+hexDigest)
			var h crypto.Hash
			switch strings.ToLower(alg) {
			case "sha256":
				h = crypto.SHA256
			case "sha384":
				h = crypto.SHA384
			case "sha512":
				h = crypto.SHA512
			default:
				continue
			}
			want, ok := artifact.Digest(h)
			if !ok {
				continue
			}
			got, err := hex.DecodeString(hexDigest)
			if err == nil && bytes.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: the statement's subjects are [%s], the artifact is %s", ErrArtifactMismatch, strings.Join(seen, ", "), artifact.describe())
}

// keyHash is the hash a key signs messages with (as signer.AlgorithmFor assigns it).
func keyHash(pub crypto.PublicKey) crypto.Hash {
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384
		case elliptic.P521():
			return crypto.SHA512
		}
	}
	if _, ok := pub.(ed25519.PublicKey); ok {
		return crypto.SHA512
	}
	return crypto.SHA256
}

// verifyMessage checks a signature over a whole message (a DSSE PAE, a blob): ECDSA and RSA
// PKCS #1 v1.5 over the key's hash of it; Ed25519 pure or Ed25519ph.
func verifyMessage(pub crypto.PublicKey, msg, sig []byte) error {
	if k, ok := pub.(ed25519.PublicKey); ok {
		if ed25519.Verify(k, msg, sig) {
			return nil
		}
	}
	h := keyHash(pub)
	hh := h.New()
	hh.Write(msg)
	return verifyDigest(pub, h, hh.Sum(nil), sig)
}

// verifyDigest checks a signature over a digest made with h.
func verifyDigest(pub crypto.PublicKey, h crypto.Hash, digest, sig []byte) error {
	if len(digest) != h.Size() {
		return fmt.Errorf("%w: %s digest of %d bytes", ErrNoMatchingSignature, h, len(digest))
	}
	ok := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, h, digest, sig) == nil
	case ed25519.PublicKey:
		if h != crypto.SHA512 {
			return fmt.Errorf("%w: an Ed25519 key signs a message or a SHA-512 digest (Ed25519ph), the bundle gives a %s digest and the artifact bytes are needed", ErrNoMatchingSignature, h)
		}
		ok = ed25519.VerifyWithOptions(k, digest, sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	default:
		return fmt.Errorf("%w: unsupported key type %T", ErrNoMatchingSignature, pub)
	}
	if !ok {
		return fmt.Errorf("%w under the %s", ErrNoMatchingSignature, describeKey(pub))
	}
	return nil
}

// describeKey names a key for messages: type and the hint (SHA-256 of its PKIX form).
func describeKey(pub crypto.PublicKey) string {
	kind := fmt.Sprintf("%T key", pub)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		kind = "ECDSA " + k.Curve.Params().Name + " key"
	case *rsa.PublicKey:
		kind = fmt.Sprintf("RSA-%d key", k.N.BitLen())
	case ed25519.PublicKey:
		kind = "Ed25519 key"
	}
	if hint, err := bundle.KeyHint(pub); err == nil {
		return kind + " " + hint
	}
	return kind
}

// sha256Of is SHA-256 of data.
func sha256Of(data []byte) []byte {
	s := sha256.Sum256(data)
	return s[:]
}

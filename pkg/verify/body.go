package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// Log entry bodies, as Rekor v1 (OpenAPI types) and Rekor v2 (protojson) write them. Only the
// fields the verifier compares are read.

type entryHeader struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Spec       json.RawMessage `json:"spec"`
}

type hexHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

type hashedRekordV001 struct {
	Data struct {
		Hash hexHash `json:"hash"`
	} `json:"data"`
	Signature struct {
		Content   []byte `json:"content"`
		PublicKey struct {
			Content []byte `json:"content"`
		} `json:"publicKey"`
	} `json:"signature"`
}

type dsseV001 struct {
	PayloadHash *hexHash `json:"payloadHash"`
	Signatures  []struct {
		Signature string `json:"signature"`
		Verifier  []byte `json:"verifier"`
	} `json:"signatures"`
}

type intotoV002 struct {
	Content struct {
		Envelope struct {
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig       []byte `json:"sig"`
				PublicKey []byte `json:"publicKey"`
			} `json:"signatures"`
		} `json:"envelope"`
		PayloadHash *hexHash `json:"payloadHash"`
	} `json:"content"`
}

type v2Verifier struct {
	PublicKey *struct {
		RawBytes []byte `json:"rawBytes"`
	} `json:"publicKey"`
	X509Certificate *struct {
		RawBytes []byte `json:"rawBytes"`
	} `json:"x509Certificate"`
	KeyDetails string `json:"keyDetails"`
}

type v2Signature struct {
	Content  []byte     `json:"content"`
	Verifier v2Verifier `json:"verifier"`
}

type v2Digest struct {
	Algorithm string `json:"algorithm"`
	Digest    []byte `json:"digest"`
}

type v2Spec struct {
	HashedRekordV002 *struct {
		Data      v2Digest    `json:"data"`
		Signature v2Signature `json:"signature"`
	} `json:"hashedRekordV002"`
	DsseV002 *struct {
		PayloadHash v2Digest      `json:"payloadHash"`
		Signatures  []v2Signature `json:"signatures"`
	} `json:"dsseV002"`
}

// matchBody checks that a log entry body records this bundle's signature, signer and content.
func matchBody(body []byte, kind, version string, sc *signedContent, m *material) error {
	var h entryHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("entry body is not JSON: %w", err)
	}
	if h.Kind != kind || h.APIVersion != version {
		return fmt.Errorf("entry body is %s %s, the bundle says %s %s", h.Kind, h.APIVersion, kind, version)
	}
	match, ok := bodyMatchers[kind+"/"+version]
	if !ok {
		return fmt.Errorf("entry kind %s %s is not supported", kind, version)
	}
	return match(h.Spec, sc, m)
}

// A bodyMatcher checks the spec of an entry body of one kind and version against the bundle.
type bodyMatcher func(spec json.RawMessage, sc *signedContent, m *material) error

// bodyMatchers are the entry kinds and versions the verifier reads, by "kind/version".
var bodyMatchers = map[string]bodyMatcher{
	"hashedrekord/0.0.1": matchHashedRekordV001,
	"dsse/0.0.1":         matchDSSEV001,
	"intoto/0.0.2":       matchIntotoV002,
	"hashedrekord/0.0.2": matchHashedRekordV002,
	"dsse/0.0.2":         matchDSSEV002,
}

func matchHashedRekordV001(spec json.RawMessage, sc *signedContent, m *material) error {
	var s hashedRekordV001
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("hashedrekord body: %w", err)
	}
	if err := matchSignature(s.Signature.Content, sc); err != nil {
		return err
	}
	if err := matchPEMVerifier(s.Signature.PublicKey.Content, m); err != nil {
		return err
	}
	h, err := hexHashFunc(s.Data.Hash.Algorithm)
	if err != nil {
		return err
	}
	return matchHexDigest(s.Data.Hash, sc.hashedRekordDigest(h))
}

func matchDSSEV001(spec json.RawMessage, sc *signedContent, m *material) error {
	if sc.env == nil {
		return errors.New("a dsse entry for a bundle without a DSSE envelope")
	}
	var s dsseV001
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("dsse body: %w", err)
	}
	if err := matchPayloadHash("dsse", s.PayloadHash, sc); err != nil {
		return err
	}
	if len(s.Signatures) != 1 {
		return fmt.Errorf("dsse entry has %d signatures, the envelope 1", len(s.Signatures))
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signatures[0].Signature)
	if err != nil {
		return fmt.Errorf("dsse entry signature is not base64: %w", err)
	}
	if err := matchSignature(sig, sc); err != nil {
		return err
	}
	return matchPEMVerifier(s.Signatures[0].Verifier, m)
}

func matchIntotoV002(spec json.RawMessage, sc *signedContent, m *material) error {
	if sc.env == nil {
		return errors.New("an intoto entry for a bundle without a DSSE envelope")
	}
	var s intotoV002
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("intoto body: %w", err)
	}
	if err := matchPayloadHash("intoto", s.Content.PayloadHash, sc); err != nil {
		return err
	}
	if s.Content.Envelope.PayloadType != sc.env.GetPayloadType() {
		return fmt.Errorf("entry payloadType %q, envelope %q", s.Content.Envelope.PayloadType, sc.env.GetPayloadType())
	}
	sigs := s.Content.Envelope.Signatures
	if len(sigs) != 1 {
		return fmt.Errorf("intoto entry has %d signatures, the envelope 1", len(sigs))
	}
	// The intoto type stores the signature base64-encoded twice; a value that does not
	// decode a second time cannot be this bundle's signature.
	sig, err := base64.StdEncoding.DecodeString(string(sigs[0].Sig))
	if err != nil {
		sig = sigs[0].Sig
	}
	if err := matchSignature(sig, sc); err != nil {
		return err
	}
	return matchPEMVerifier(sigs[0].PublicKey, m)
}

func matchHashedRekordV002(spec json.RawMessage, sc *signedContent, m *material) error {
	var s v2Spec
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("hashedrekord body: %w", err)
	}
	hr := s.HashedRekordV002
	if hr == nil {
		return errors.New("hashedrekord 0.0.2 body has no hashedRekordV002 spec")
	}
	h := bundle.HashFunc(protocommon.HashAlgorithm(protocommon.HashAlgorithm_value[hr.Data.Algorithm]))
	if h == 0 {
		return fmt.Errorf("entry digest algorithm %q not supported (SHA2_256, SHA2_384, SHA2_512)", hr.Data.Algorithm)
	}
	if err := matchDigest(hr.Data.Digest, sc.hashedRekordDigest(h)); err != nil {
		return err
	}
	if err := matchSignature(hr.Signature.Content, sc); err != nil {
		return err
	}
	return matchV2Verifier(hr.Signature.Verifier, m)
}

func matchDSSEV002(spec json.RawMessage, sc *signedContent, m *material) error {
	var s v2Spec
	if err := json.Unmarshal(spec, &s); err != nil {
		return fmt.Errorf("dsse body: %w", err)
	}
	d := s.DsseV002
	if d == nil || sc.env == nil {
		return errors.New("dsse 0.0.2 entry without a dsseV002 spec or a DSSE envelope")
	}
	if d.PayloadHash.Algorithm != "SHA2_256" {
		return fmt.Errorf("entry payload hash algorithm %q, want SHA2_256", d.PayloadHash.Algorithm)
	}
	if err := matchDigest(d.PayloadHash.Digest, sha256Of(sc.env.GetPayload())); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if len(d.Signatures) != 1 {
		return fmt.Errorf("dsse entry has %d signatures, the envelope 1", len(d.Signatures))
	}
	if err := matchSignature(d.Signatures[0].Content, sc); err != nil {
		return err
	}
	return matchV2Verifier(d.Signatures[0].Verifier, m)
}

// matchPayloadHash checks the payloadHash of a Rekor v1 dsse or intoto entry against the
// envelope's payload.
func matchPayloadHash(kind string, h *hexHash, sc *signedContent) error {
	if h == nil {
		return fmt.Errorf("%s entry has no payloadHash", kind)
	}
	if err := matchHexDigest(*h, sha256Of(sc.env.GetPayload())); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}

// hashedRekordDigest is the digest under h a hashedrekord entry must record for this content:
// the message digest (when the bundle's is made with h), or h of a DSSE envelope's PAE.
func (sc *signedContent) hashedRekordDigest(h crypto.Hash) []byte {
	if sc.env != nil {
		hh := h.New()
		hh.Write(sc.pae)
		return hh.Sum(nil)
	}
	if md := sc.msg.GetMessageDigest(); md != nil && bundle.HashFunc(md.GetAlgorithm()) == h {
		return md.GetDigest()
	}
	return nil
}

// hexHashFunc maps a Rekor v1 hash algorithm name to a crypto.Hash.
func hexHashFunc(alg string) (crypto.Hash, error) {
	switch strings.ToLower(alg) {
	case "sha256":
		return crypto.SHA256, nil
	case "sha384":
		return crypto.SHA384, nil
	case "sha512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("entry digest algorithm %q not supported (sha256, sha384, sha512)", alg)
}

func matchSignature(logged []byte, sc *signedContent) error {
	if !bytes.Equal(logged, sc.signature) {
		return errors.New("the entry records another signature than the bundle's")
	}
	return nil
}

func matchHexDigest(h hexHash, want []byte) error {
	if _, err := hexHashFunc(h.Algorithm); err != nil {
		return err
	}
	got, err := hex.DecodeString(h.Value)
	if err != nil {
		return fmt.Errorf("entry digest %q is not hex", h.Value)
	}
	return matchDigest(got, want)
}

func matchDigest(got, want []byte) error {
	if len(want) == 0 {
		return errors.New("the bundle has no digest of the entry's algorithm to compare it with")
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the entry records digest %x, the bundle signs %x", got, want)
	}
	return nil
}

// matchPEMVerifier compares a PEM certificate or public key from a Rekor v1 body with the
// bundle's signer.
func matchPEMVerifier(pemBytes []byte, m *material) error {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return errors.New("the entry's verifier is not PEM")
	}
	return matchVerifierDER(block.Type == "CERTIFICATE", block.Bytes, m)
}

func matchV2Verifier(v v2Verifier, m *material) error {
	switch {
	case v.X509Certificate != nil:
		return matchVerifierDER(true, v.X509Certificate.RawBytes, m)
	case v.PublicKey != nil:
		return matchVerifierDER(false, v.PublicKey.RawBytes, m)
	}
	return errors.New("the entry has no verifier")
}

func matchVerifierDER(isCert bool, der []byte, m *material) error {
	if isCert {
		if m.leaf == nil {
			return errors.New("the entry names a certificate, the bundle is signed with a key")
		}
		if !bytes.Equal(der, m.leaf.Raw) {
			return errors.New("the entry records another certificate than the bundle's")
		}
		return nil
	}
	if m.leaf != nil {
		return errors.New("the entry names a public key, the bundle carries a certificate")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("the entry's public key does not parse: %w", err)
	}
	got, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil || !bytes.Equal(got, m.keyDER) {
		return fmt.Errorf("the entry records another public key than %s", describeKey(m.pub))
	}
	return nil
}

package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// keyCase is a key type with its way of signing a digest, as our signer does.
type keyCase struct {
	name string
	hash crypto.Hash
	gen  func(t *testing.T) crypto.Signer
}

var keyCases = []keyCase{
	{"ecdsa-p256", crypto.SHA256, func(t *testing.T) crypto.Signer {
		return mustKey[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	}},
	{"ecdsa-p384", crypto.SHA384, func(t *testing.T) crypto.Signer {
		return mustKey[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	}},
	{"ecdsa-p521", crypto.SHA512, func(t *testing.T) crypto.Signer {
		return mustKey[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P521(), rand.Reader))
	}},
	{"rsa-2048", crypto.SHA256, func(t *testing.T) crypto.Signer {
		return mustKey[*rsa.PrivateKey](t)(rsa.GenerateKey(rand.Reader, 2048))
	}},
	{"ed25519ph", crypto.SHA512, func(t *testing.T) crypto.Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}},
}

func mustKey[K crypto.Signer](t *testing.T) func(K, error) crypto.Signer {
	return func(k K, err error) crypto.Signer {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// signDigest signs a digest the way a Sigstore signer does (Ed25519 keys sign Ed25519ph).
func signDigest(t *testing.T, k crypto.Signer, h crypto.Hash, digest []byte) []byte {
	t.Helper()
	var opts crypto.SignerOpts = h
	if _, ok := k.(ed25519.PrivateKey); ok {
		opts = &ed25519.Options{Hash: crypto.SHA512}
	}
	sig, err := k.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func hashOf(h crypto.Hash, data []byte) []byte {
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil)
}

func blobBundle(t *testing.T, k crypto.Signer, h crypto.Hash, data []byte) *protobundle.Bundle {
	t.Helper()
	digest := hashOf(h, data)
	vm, err := bundle.KeyMaterial(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return bundle.NewMessageSignatureBundle(vm, h, digest, signDigest(t, k, h, digest))
}

func imageBundle(t *testing.T, k crypto.Signer, h crypto.Hash, manifestDigest []byte) *protobundle.Bundle {
	t.Helper()
	payload, err := bundle.NewImageStatement("registry.example/app", hex.EncodeToString(manifestDigest), map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	pae := bundle.PAE(bundle.PayloadTypeInToto, payload)
	sig := signDigest(t, k, h, hashOf(h, pae))
	vm, err := bundle.KeyMaterial(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return bundle.NewDSSEBundle(vm, bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, sig))
}

func keyVerifier(t *testing.T) *verify.Verifier {
	t.Helper()
	v, err := verify.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// roundTrip marshals and re-parses a bundle, as it travels through a registry or a file.
func roundTrip(t *testing.T, b *protobundle.Bundle) *protobundle.Bundle {
	t.Helper()
	data, err := bundle.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := bundle.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyedRoundTrips(t *testing.T) {
	blob := []byte("an artifact to sign\n")
	manifest := sha256.Sum256([]byte(`{"schemaVersion":2}`))
	for _, kc := range keyCases {
		t.Run(kc.name, func(t *testing.T) {
			k := kc.gen(t)
			p := verify.Policy{Key: k.Public(), UnsafeIgnoreTlog: true}
			v := keyVerifier(t)

			b := roundTrip(t, blobBundle(t, k, kc.hash, blob))
			if _, err := v.Verify(b, verify.ArtifactBytes(blob), p); err != nil {
				t.Errorf("blob by bytes: %v", err)
			}
			if _, err := v.Verify(b, verify.ArtifactDigest(kc.hash, hashOf(kc.hash, blob)), p); err != nil {
				t.Errorf("blob by digest: %v", err)
			}

			ib := roundTrip(t, imageBundle(t, k, kc.hash, manifest[:]))
			res, err := v.Verify(ib, verify.ArtifactDigest(crypto.SHA256, manifest[:]), p)
			if err != nil {
				t.Fatalf("image: %v", err)
			}
			if res.Statement.GetPredicateType() != bundle.PredicateCosignSign ||
				res.Statement.GetSubject()[0].GetAnnotations().GetFields()["env"].GetStringValue() != "prod" {
				t.Errorf("result statement %v", res.Statement)
			}
			if hint, _ := bundle.KeyHint(k.Public()); res.KeyHint != hint {
				t.Errorf("key hint %q, want %q", res.KeyHint, hint)
			}
		})
	}
}

func TestPureEd25519NeedsArtifactBytes(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("pure ed25519")
	digest := sha512.Sum512(blob)
	vm, err := bundle.KeyMaterial(pub)
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.NewMessageSignatureBundle(vm, crypto.SHA512, digest[:], ed25519.Sign(priv, blob))
	p := verify.Policy{Key: pub, UnsafeIgnoreTlog: true}
	v := keyVerifier(t)
	if _, err := v.Verify(b, verify.ArtifactBytes(blob), p); err != nil {
		t.Errorf("pure Ed25519 with the artifact bytes: %v", err)
	}
	_, err = v.Verify(b, verify.ArtifactDigest(crypto.SHA512, digest[:]), p)
	if !errors.Is(err, verify.ErrNoMatchingSignature) {
		t.Errorf("pure Ed25519 with only the digest: %v, want ErrNoMatchingSignature", err)
	}
}

func TestKeyedNegative(t *testing.T) {
	blob := []byte("the real artifact")
	other := []byte("another artifact")
	k := keyCases[0].gen(t)
	wrong := keyCases[0].gen(t)
	manifest := sha256.Sum256([]byte("manifest"))
	v := keyVerifier(t)
	p := verify.Policy{Key: k.Public(), UnsafeIgnoreTlog: true}

	tamperedPayload := imageBundle(t, k, crypto.SHA256, manifest[:])
	tamperedPayload.GetDsseEnvelope().Payload = []byte(strings.Replace(string(tamperedPayload.GetDsseEnvelope().Payload), "prod", "dev!", 1))

	copied := blobBundle(t, k, crypto.SHA256, other) // a genuine signature, of another artifact

	forged := blobBundle(t, k, crypto.SHA256, other)
	realDigest := sha256.Sum256(blob)
	forged.GetMessageSignature().MessageDigest.Digest = realDigest[:] // digest swapped, signature kept

	unknownMT := blobBundle(t, k, crypto.SHA256, blob)
	unknownMT.MediaType = "application/vnd.dev.sigstore.bundle.v0.9+json"

	tests := []struct {
		name     string
		b        *protobundle.Bundle
		artifact verify.Artifact
		policy   verify.Policy
		is       error
		want     string
	}{
		{"wrong key", blobBundle(t, k, crypto.SHA256, blob), verify.ArtifactBytes(blob), verify.Policy{Key: wrong.Public(), UnsafeIgnoreTlog: true},
			verify.ErrNoMatchingSignature, "does not verify under the ECDSA P-256 key"},
		{"tampered payload", tamperedPayload, verify.ArtifactDigest(crypto.SHA256, manifest[:]), p,
			verify.ErrNoMatchingSignature, "DSSE envelope"},
		{"signature copied from another artifact", copied, verify.ArtifactBytes(blob), p,
			verify.ErrArtifactMismatch, "the bundle signs sha256:" + hex.EncodeToString(hashOf(crypto.SHA256, other))},
		{"digest swapped under a copied signature", forged, verify.ArtifactBytes(blob), p,
			verify.ErrNoMatchingSignature, "does not verify"},
		{"image signature for another image", imageBundle(t, k, crypto.SHA256, manifest[:]), verify.ArtifactDigest(crypto.SHA256, realDigest[:]), p,
			verify.ErrArtifactMismatch, "subjects are [sha256:" + hex.EncodeToString(manifest[:]) + "]"},
		{"unknown media type", unknownMT, verify.ArtifactBytes(blob), p,
			verify.ErrBundle, "unknown media type"},
		{"no tlog entry", blobBundle(t, k, crypto.SHA256, blob), verify.ArtifactBytes(blob), verify.Policy{Key: k.Public()},
			verify.ErrPolicy, "no trusted root"},
		{"identity policy on a key bundle", blobBundle(t, k, crypto.SHA256, blob), verify.ArtifactBytes(blob),
			verify.Policy{Identity: &verify.Identity{Subject: "a@example.com", Issuer: "https://issuer"}},
			verify.ErrPolicy, "no trusted root"},
		{"key and identity", blobBundle(t, k, crypto.SHA256, blob), verify.ArtifactBytes(blob),
			verify.Policy{Key: k.Public(), Identity: &verify.Identity{Subject: "a", Issuer: "b"}},
			verify.ErrPolicy, "both a key and an identity"},
		{"neither key nor identity", blobBundle(t, k, crypto.SHA256, blob), verify.ArtifactBytes(blob), verify.Policy{},
			verify.ErrPolicy, "neither a key nor an identity"},
		{"no artifact", blobBundle(t, k, crypto.SHA256, blob), verify.Artifact{}, p,
			verify.ErrPolicy, "no artifact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.b, tc.artifact, tc.policy)
			if err == nil {
				t.Fatal("verified")
			}
			if !errors.Is(err, tc.is) || !errors.Is(err, verify.ErrVerification) {
				t.Errorf("error %v does not wrap %v and ErrVerification", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestMalformedBundleJSON(t *testing.T) {
	k := keyCases[0].gen(t)
	data, err := bundle.Marshal(blobBundle(t, k, crypto.SHA256, []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{data[:len(data)-10], []byte(`{"mediaType":`), []byte(`[]`)} {
		if _, err := bundle.Parse(in); !errors.Is(err, bundle.ErrInvalidBundle) {
			t.Errorf("Parse(%q): %v, want ErrInvalidBundle", in, err)
		}
	}
}

func TestArtifactReaderMatchesBytes(t *testing.T) {
	data := []byte(strings.Repeat("stream me ", 10000))
	a, err := verify.ArtifactReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	b := verify.ArtifactBytes(data)
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		x, _ := a.Digest(h)
		y, _ := b.Digest(h)
		if string(x) != string(y) {
			t.Errorf("%s digests differ", h)
		}
	}
	if _, ok := a.Bytes(); ok {
		t.Error("a streamed artifact kept its bytes")
	}
	only, err := verify.ArtifactReader(strings.NewReader(string(data)), crypto.SHA384)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := only.Digest(crypto.SHA256); ok {
		t.Error("SHA-256 computed though only SHA-384 was asked for")
	}
	if d, _ := only.Digest(crypto.SHA384); string(d) != string(hashOf(crypto.SHA384, data)) {
		t.Error("SHA-384 digest wrong")
	}
	k := keyCases[1].gen(t)
	if hs := verify.BundleHashes(blobBundle(t, k, crypto.SHA384, data)); len(hs) != 1 || hs[0] != crypto.SHA384 {
		t.Errorf("BundleHashes of a SHA-384 message signature: %v", hs)
	}
	if _, err := verify.ArtifactReader(strings.NewReader("x"), crypto.MD5); err == nil {
		t.Error("MD5 accepted")
	}
	if _, err := verify.ParseArtifactDigest("sha256:abc"); err == nil {
		t.Error("short digest accepted")
	}
	if _, err := verify.ParseArtifactDigest("md5:" + strings.Repeat("0", 32)); err == nil {
		t.Error("md5 accepted")
	}
}

func TestLegacySignatureVerifies(t *testing.T) {
	k := keyCases[0].gen(t)
	manifest := sha256.Sum256([]byte("manifest"))
	payload, err := bundle.NewSimpleSigning("registry.example/app", "sha256:"+hex.EncodeToString(manifest[:]), map[string]any{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	sig := signDigest(t, k, crypto.SHA256, sum[:])
	b, err := bundle.FromLegacy(payload, map[string]string{bundle.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)})
	if err != nil {
		t.Fatal(err)
	}
	v := keyVerifier(t)
	if _, err := v.Verify(b, verify.ArtifactBytes(payload), verify.Policy{Key: k.Public(), UnsafeIgnoreTlog: true}); err != nil {
		t.Fatalf("legacy signature: %v", err)
	}
	tampered := append([]byte(nil), payload...)
	tampered[len(tampered)-3] = 'X'
	_, err = v.Verify(b, verify.ArtifactBytes(tampered), verify.Policy{Key: k.Public(), UnsafeIgnoreTlog: true})
	if !errors.Is(err, verify.ErrArtifactMismatch) {
		t.Errorf("tampered payload: %v", err)
	}
}

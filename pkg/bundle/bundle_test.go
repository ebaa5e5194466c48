package bundle

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/proto"
)

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signedMessageBundle(t *testing.T) *protobundle.Bundle {
	t.Helper()
	k := testKey(t)
	digest := sha256.Sum256([]byte("hello"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	vm, err := KeyMaterial(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return NewMessageSignatureBundle(vm, crypto.SHA256, digest[:], sig)
}

func TestMarshalParseRoundTrip(t *testing.T) {
	b := signedMessageBundle(t)
	data, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"`) {
		t.Errorf("unexpected encoding: %s", data)
	}
	again, err := Marshal(b)
	if err != nil || string(again) != string(data) {
		t.Errorf("Marshal is not stable: %s vs %s", data, again)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !proto.Equal(got, b) {
		t.Errorf("round trip changed the bundle")
	}
}

func TestKeyHintIsCosignFormat(t *testing.T) {
	k := testKey(t)
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	want := base64.StdEncoding.EncodeToString(sum[:])
	vm, err := KeyMaterial(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if got := vm.GetPublicKey().GetHint(); got != want {
		t.Errorf("hint %q, want %q", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	good := signedMessageBundle(t)
	goodJSON, err := Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b *protobundle.Bundle)) []byte {
		b := proto.Clone(good).(*protobundle.Bundle)
		f(b)
		out, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	entry := func() *protorekor.TransparencyLogEntry {
		return &protorekor.TransparencyLogEntry{
			LogIndex:          1,
			LogId:             &protocommon.LogId{KeyId: []byte{1}},
			KindVersion:       &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.2"},
			CanonicalizedBody: []byte("{}"),
			InclusionProof:    &protorekor.InclusionProof{LogIndex: 1, TreeSize: 2, Checkpoint: &protorekor.Checkpoint{Envelope: "x"}},
		}
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty document"},
		{"truncated", goodJSON[:len(goodJSON)/2], "parsing JSON"},
		{"not JSON", []byte("hello"), "parsing JSON"},
		{"unknown field", []byte(strings.Replace(string(goodJSON), `"mediaType"`, `"surprise":1,"mediaType"`, 1)), "parsing JSON"},
		{"unknown media type", mutate(func(b *protobundle.Bundle) { b.MediaType = "application/vnd.dev.sigstore.bundle+json;version=99.9" }), "unknown media type"},
		{"v0.4 media type", mutate(func(b *protobundle.Bundle) { b.MediaType = "application/vnd.dev.sigstore.bundle.v0.4+json" }), "unknown media type"},
		{"no content", mutate(func(b *protobundle.Bundle) { b.Content = nil }), "messageSignature or a dsseEnvelope"},
		{"no material", mutate(func(b *protobundle.Bundle) { b.VerificationMaterial = nil }), "no verificationMaterial"},
		{"empty chain", mutate(func(b *protobundle.Bundle) {
			b.MediaType = MediaTypeV02
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{}}
		}), "holds no certificates"},
		{"chain in v0.3", mutate(func(b *protobundle.Bundle) {
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: []byte{1}}}}}
		}), "not x509CertificateChain"},
		{"negative log index", mutate(func(b *protobundle.Bundle) {
			e := entry()
			e.LogIndex = -1
			b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
		}), "negative logIndex"},
		{"v0.2 without proof", mutate(func(b *protobundle.Bundle) {
			b.MediaType = MediaTypeV02
			e := entry()
			e.InclusionProof = nil
			b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
		}), "no inclusion proof"},
		{"v0.1 without SET", mutate(func(b *protobundle.Bundle) {
			b.MediaType = MediaTypeV01
			b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{entry()}
		}), "no inclusion promise"},
		{"too many entries", mutate(func(b *protobundle.Bundle) {
			for range MaxTlogEntries + 1 {
				b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, entry())
			}
		}), "at most 32 allowed"},
		{"too many timestamps", mutate(func(b *protobundle.Bundle) {
			tv := &protobundle.TimestampVerificationData{}
			for range MaxTimestamps + 1 {
				tv.Rfc3161Timestamps = append(tv.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: []byte{1}})
			}
			b.VerificationMaterial.TimestampVerificationData = tv
		}), "33 timestamps"},
		{"empty signature", mutate(func(b *protobundle.Bundle) { b.GetMessageSignature().Signature = nil }), "has no signature"},
		{"two DSSE signatures", mutate(func(b *protobundle.Bundle) {
			env := NewEnvelope(PayloadTypeInToto, []byte("{}"), []byte{1})
			env.Signatures = append(env.Signatures, env.Signatures[0])
			b.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
		}), "exactly 1 required"},
		{"too large", make([]byte, MaxBundleSize+1), "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil {
				t.Fatal("Parse accepted the bundle")
			}
			if !errors.Is(err, ErrInvalidBundle) {
				t.Errorf("error %v does not wrap ErrInvalidBundle", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestParseAcceptsAllMediaTypes(t *testing.T) {
	for _, mt := range []string{MediaTypeV03, MediaTypeV03Legacy, MediaTypeV02, MediaTypeV01} {
		b := signedMessageBundle(t)
		b.MediaType = mt
		data, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(data); err != nil {
			t.Errorf("%s: %v", mt, err)
		}
	}
}

func TestPAE(t *testing.T) {
	got := string(PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Errorf("PAE = %q, want %q", got, want)
	}
}

func TestNewEnvelopeKeyIDEmpty(t *testing.T) {
	env := NewEnvelope(PayloadTypeInToto, []byte("{}"), []byte{1, 2})
	b := NewDSSEBundle(&protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}}, env)
	data, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"signatures":[{"sig":"AQI="}]`) {
		t.Errorf("envelope encoding: %s", data)
	}
}

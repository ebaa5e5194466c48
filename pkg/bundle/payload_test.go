package bundle

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
)

const testDigestHex = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"

func TestNewImageStatementBytes(t *testing.T) {
	tests := []struct {
		name  string
		annos map[string]string
		want  string
	}{
		{"no annotations", nil,
			`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + testDigestHex + `"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`},
		{"annotations", map[string]string{"b": "2", "a": "1"},
			`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + testDigestHex + `"},"annotations":{"a":"1","b":"2"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewImageStatement("registry.example/app", testDigestHex, tc.annos)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("statement\n got %s\nwant %s", got, tc.want)
			}
			st, err := ParseStatement(got)
			if err != nil {
				t.Fatalf("ParseStatement of our own statement: %v", err)
			}
			if st.GetPredicateType() != PredicateCosignSign || st.GetSubject()[0].GetDigest()["sha256"] != testDigestHex {
				t.Errorf("parsed statement %v", st)
			}
		})
	}
}

func TestNewImageStatementRejects(t *testing.T) {
	if _, err := NewImageStatement("", testDigestHex, nil); !errors.Is(err, ErrInvalidStatement) {
		t.Errorf("empty repo: %v", err)
	}
	if _, err := NewImageStatement("r", "abc", nil); err == nil || !strings.Contains(err.Error(), "64 hex") {
		t.Errorf("short digest: %v", err)
	}
}

func TestNewStatement(t *testing.T) {
	subj := []*intotov1.ResourceDescriptor{{Name: "a.txt", Digest: map[string]string{"sha256": testDigestHex}}}
	got, err := NewStatement(subj, "https://slsa.dev/provenance/v1", []byte(`{"k":"v"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.txt","digest":{"sha256":"` + testDigestHex + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"k":"v"}}`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if _, err := NewStatement(subj, "p", []byte(`[1]`)); err == nil {
		t.Error("array predicate accepted")
	}
	if _, err := NewStatement(nil, "p", []byte(`{}`)); err == nil {
		t.Error("statement without subject accepted")
	}
}

func TestParseStatementRejects(t *testing.T) {
	subject := `"subject":[{"digest":{"sha256":"` + testDigestHex + `"}}]`
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty payload"},
		{"wrong type", `{"_type":"https://in-toto.io/Statement/v2",` + subject + `,"predicateType":"p","predicate":{}}`, "_type"},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","predicate":{}}`, "subject"},
		{"bad digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"zz"}}],"predicateType":"p","predicate":{}}`, "digest"},
		{"no predicate type", `{"_type":"https://in-toto.io/Statement/v1",` + subject + `,"predicate":{}}`, "predicate type"},
		{"unknown field", `{"_type":"https://in-toto.io/Statement/v1",` + subject + `,"predicateType":"p","predicate":{},"x":1}`, "unknown field"},
		{"truncated", `{"_type":"https://in-toto.io/Statement/v1",`, "invalid in-toto statement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStatement([]byte(tc.in))
			if err == nil || !errors.Is(err, ErrInvalidStatement) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	v01 := `{"_type":"https://in-toto.io/Statement/v0.1",` + subject + `,"predicateType":"p","predicate":{}}`
	if _, err := ParseStatement([]byte(v01)); err != nil {
		t.Errorf("v0.1 statement refused: %v", err)
	}
}

func TestSimpleSigningBytes(t *testing.T) {
	tests := []struct {
		name     string
		optional map[string]any
		want     string
	}{
		{"no annotations", nil, `{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:` + testDigestHex + `"},"type":"cosign container image signature"},"optional":null}`},
		{"annotations", map[string]any{"env": "prod"}, `{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:` + testDigestHex + `"},"type":"cosign container image signature"},"optional":{"env":"prod"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewSimpleSigning("registry.example/app", "sha256:"+testDigestHex, tc.optional)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
			ss, err := ParseSimpleSigning(got)
			if err != nil {
				t.Fatal(err)
			}
			if ss.Critical.Identity.DockerReference != "registry.example/app" || ss.Critical.Image.DockerManifestDigest != "sha256:"+testDigestHex {
				t.Errorf("parsed %+v", ss)
			}
		})
	}
}

func TestParseSimpleSigningRejects(t *testing.T) {
	good := `{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:` + testDigestHex + `"},"type":"cosign container image signature"},"optional":null}`
	tests := []struct{ name, in, want string }{
		{"wrong type", strings.Replace(good, "cosign container image signature", "atomic container signature", 1), "critical.type"},
		{"bad digest", strings.Replace(good, "sha256:"+testDigestHex, "sha256:abc", 1), "docker-manifest-digest"},
		{"trailing data", good + "{}", "data after"},
		{"truncated", good[:40], "invalid simple-signing"},
		{"too large", strings.Repeat(" ", MaxSimpleSigningSize+1), "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSimpleSigning([]byte(tc.in))
			if err == nil || !errors.Is(err, ErrInvalidSimpleSigning) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func selfSigned(t *testing.T, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  isCA,
		BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func TestFromLegacy(t *testing.T) {
	payload, err := NewSimpleSigning("registry.example/app", "sha256:"+testDigestHex, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := base64.StdEncoding.EncodeToString([]byte("signature-bytes"))
	root, rootKey := selfSigned(t, true, nil, nil)
	leaf, _ := selfSigned(t, false, root, rootKey)
	body := `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}`
	rekorBundle, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": []byte("set"),
		"Payload": map[string]any{
			"body": base64.StdEncoding.EncodeToString([]byte(body)), "integratedTime": 1700000000, "logIndex": 42,
			"logID": hex.EncodeToString([]byte("log-id")),
		},
	})

	t.Run("keyed", func(t *testing.T) {
		b, err := FromLegacy(payload, map[string]string{AnnotationSignature: sig})
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(payload)
		if string(b.GetMessageSignature().GetMessageDigest().GetDigest()) != string(want[:]) {
			t.Error("message digest is not SHA-256 of the payload")
		}
		if b.GetVerificationMaterial().GetPublicKey() == nil || b.GetMediaType() != MediaTypeV01 {
			t.Errorf("material %v, media type %s", b.GetVerificationMaterial(), b.GetMediaType())
		}
	})
	t.Run("certificate and rekor bundle", func(t *testing.T) {
		b, err := FromLegacy(payload, map[string]string{
			AnnotationSignature:   sig,
			AnnotationCertificate: pemCert(leaf),
			AnnotationChain:       pemCert(root),
			AnnotationBundle:      string(rekorBundle),
			AnnotationTimestamp:   `{"SignedRFC3161Timestamp":"AQID"}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		chain := b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()
		if len(chain) != 1 || string(chain[0].GetRawBytes()) != string(leaf.Raw) {
			t.Errorf("chain has %d certificates, want the leaf alone (the root is dropped)", len(chain))
		}
		e := b.GetVerificationMaterial().GetTlogEntries()[0]
		if e.GetLogIndex() != 42 || e.GetIntegratedTime() != 1700000000 || string(e.GetLogId().GetKeyId()) != "log-id" ||
			e.GetKindVersion().GetKind() != "hashedrekord" || string(e.GetInclusionPromise().GetSignedEntryTimestamp()) != "set" {
			t.Errorf("tlog entry %v", e)
		}
		if len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) != 1 {
			t.Error("timestamp dropped")
		}
	})
	rejects := []struct {
		name  string
		annos map[string]string
		want  string
	}{
		{"no signature", map[string]string{}, "no dev.cosignproject.cosign/signature"},
		{"signature not base64", map[string]string{AnnotationSignature: "!!"}, "not base64"},
		{"certificate not PEM", map[string]string{AnnotationSignature: sig, AnnotationCertificate: "junk"}, "one PEM certificate"},
		{"bundle not JSON", map[string]string{AnnotationSignature: sig, AnnotationBundle: "{"}, AnnotationBundle},
		{"timestamp not JSON", map[string]string{AnnotationSignature: sig, AnnotationTimestamp: "x"}, "not a timestamp document"},
		{"huge annotation", map[string]string{AnnotationSignature: sig, AnnotationChain: strings.Repeat("A", maxLegacyAnnotation+1)}, "at most"},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromLegacy(payload, tc.annos)
			if err == nil || !errors.Is(err, ErrInvalidBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestCertificateMaterial(t *testing.T) {
	c, _ := selfSigned(t, false, nil, nil)
	vm := CertificateMaterial(c)
	b := NewDSSEBundle(vm, NewEnvelope(PayloadTypeInToto, []byte("{}"), []byte{1}))
	data, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.GetVerificationMaterial().GetContent().(*protobundle.VerificationMaterial_Certificate); !ok {
		t.Error("certificate material lost")
	}
}

func TestFromLegacyAttestation(t *testing.T) {
	env := `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k1","sig":"AQI="}]}`
	b, err := FromLegacyAttestation([]byte(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := b.GetDsseEnvelope()
	if string(e.GetPayload()) != "{}" || e.GetSignatures()[0].GetKeyid() != "k1" || string(e.GetSignatures()[0].GetSig()) != "\x01\x02" {
		t.Errorf("envelope %v", e)
	}
	if b.GetVerificationMaterial().GetPublicKey() == nil || b.GetMediaType() != MediaTypeV01 {
		t.Errorf("material %v", b.GetVerificationMaterial())
	}
	for _, tc := range []struct{ name, in, want string }{
		{"two signatures", `{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AQ=="},{"sig":"AQ=="}]}`, "exactly 1 required"},
		{"not JSON", `{`, "DSSE envelope"},
		{"no payload type", `{"payload":"e30=","signatures":[{"sig":"AQ=="}]}`, "no payloadType"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromLegacyAttestation([]byte(tc.in), nil)
			if !errors.Is(err, ErrInvalidBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestFromLegacyBlobBundle(t *testing.T) {
	leaf, _ := selfSigned(t, false, nil, nil)
	digest := sha256.Sum256([]byte("blob"))
	certPEM := base64.StdEncoding.EncodeToString([]byte(pemCert(leaf)))
	certDER := base64.StdEncoding.EncodeToString(leaf.Raw)
	for _, tc := range []struct{ name, doc string }{
		{"keyed", `{"base64Signature":"AQI="}`},
		{"certificate as PEM", `{"base64Signature":"AQI=","cert":"` + certPEM + `"}`},
		{"certificate as DER", `{"base64Signature":"AQI=","cert":"` + certDER + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !IsLegacyBlobBundle([]byte(tc.doc)) {
				t.Fatal("not recognised as a legacy blob bundle")
			}
			b, err := FromLegacyBlobBundle([]byte(tc.doc), digest[:])
			if err != nil {
				t.Fatal(err)
			}
			if string(b.GetMessageSignature().GetMessageDigest().GetDigest()) != string(digest[:]) || string(b.GetMessageSignature().GetSignature()) != "\x01\x02" {
				t.Errorf("content %v", b.GetMessageSignature())
			}
			if strings.Contains(tc.name, "certificate") {
				chain := b.GetVerificationMaterial().GetX509CertificateChain().GetCertificates()
				if len(chain) != 1 || string(chain[0].GetRawBytes()) != string(leaf.Raw) {
					t.Error("certificate lost")
				}
			}
		})
	}
	sigstore := signedMessageBundle(t)
	data, err := Marshal(sigstore)
	if err != nil {
		t.Fatal(err)
	}
	if IsLegacyBlobBundle(data) {
		t.Error("a Sigstore bundle taken for a legacy blob bundle")
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"no signature", `{"cert":""}`, "base64Signature"},
		{"cert not base64", `{"base64Signature":"AQI=","cert":"!!"}`, "cert is not base64"},
		{"bad rekor bundle", `{"base64Signature":"AQI=","rekorBundle":{"Payload":1}}`, AnnotationBundle},
		{"not JSON", `{`, "legacy blob bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromLegacyBlobBundle([]byte(tc.doc), digest[:])
			if !errors.Is(err, ErrInvalidBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

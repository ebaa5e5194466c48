package bundle

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// addConformanceSeeds adds the conformance suite's bundles, when present, to a corpus.
func addConformanceSeeds(f *testing.F) {
	f.Helper()
	paths, _ := filepath.Glob("../../../shared/conformance/bundle-verify/*/bundle.sigstore.json")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":"AQ=="}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1","verificationMaterial":{"x509CertificateChain":{"certificates":[]}}}`))
	f.Add([]byte(`{`))
	addConformanceSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		out, err := Marshal(b)
		if err != nil {
			t.Fatalf("Marshal of a parsed bundle: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of a marshalled bundle: %v", err)
		}
	})
}

func FuzzParseSimpleSigning(f *testing.F) {
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"},"type":"cosign container image signature"},"optional":{"a":"b"}}`))
	f.Add([]byte(`{"critical":{}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSimpleSigning(data)
		if err != nil {
			return
		}
		if s.Critical.Type != SimpleSigningType {
			t.Fatalf("accepted type %q", s.Critical.Type)
		}
	})
}

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"}}],"predicateType":"p","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[]}`))
	if data, err := os.ReadFile("../../../shared/conformance/statement.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatement(data)
		if err != nil {
			return
		}
		if len(st.GetSubject()) == 0 || st.GetPredicateType() == "" {
			t.Fatalf("accepted a statement without subject or predicate type")
		}
	})
}

func FuzzFromLegacy(f *testing.F) {
	body := base64.StdEncoding.EncodeToString([]byte(`{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}`))
	f.Add([]byte(`{"critical":{}}`), "AQI=", `{"SignedEntryTimestamp":"AQ==","Payload":{"body":"`+body+`","integratedTime":1,"logIndex":2,"logID":"0a"}}`, `{"SignedRFC3161Timestamp":"AQ=="}`, "")
	f.Add([]byte(`{}`), "", "", "", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
	f.Fuzz(func(t *testing.T, payload []byte, sig, rekorBundle, ts, cert string) {
		annotations := map[string]string{AnnotationSignature: sig, AnnotationBundle: rekorBundle, AnnotationTimestamp: ts, AnnotationCertificate: cert}
		b, err := FromLegacy(payload, annotations)
		if err == nil {
			if err := Validate(b); err != nil {
				t.Fatalf("FromLegacy returned an invalid bundle: %v", err)
			}
		}
		env := `{"payloadType":"application/vnd.in-toto+json","payload":"` + base64.StdEncoding.EncodeToString(payload) + `","signatures":[{"sig":"` + sig + `"}]}`
		if b, err := FromLegacyAttestation([]byte(env), annotations); err == nil {
			if err := Validate(b); err != nil {
				t.Fatalf("FromLegacyAttestation returned an invalid bundle: %v", err)
			}
		}
	})
}

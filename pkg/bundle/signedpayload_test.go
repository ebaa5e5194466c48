package bundle

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// cosignRekorBundle is a Rekor bundle annotation in the form cosign v2 writes it (its RekorBundle
// structure through encoding/json), with a log index past float64's exact integers.
func cosignRekorBundle() string {
	body := base64.StdEncoding.EncodeToString([]byte(`{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}`))
	return `{"SignedEntryTimestamp":"` + base64.StdEncoding.EncodeToString([]byte("set-bytes")) + `","Payload":{"body":"` + body +
		`","integratedTime":1796227528,"logIndex":9007199254740993,"logID":"` + hex.EncodeToString([]byte("log-id")) + `"}}`
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSignedPayloadJSON(t *testing.T) {
	payload := []byte(`{"critical":{},"optional":{"n":1796227528}}`)
	sig := base64.StdEncoding.EncodeToString([]byte("signature-bytes"))
	root, rootKey := selfSigned(t, true, nil, nil)
	inter, interKey := selfSigned(t, true, root, rootKey)
	leaf, _ := selfSigned(t, false, inter, interKey)
	rekor := cosignRekorBundle()
	ts := `{"SignedRFC3161Timestamp":"` + base64.StdEncoding.EncodeToString([]byte("tsr-der")) + `"}`

	tests := []struct {
		name  string
		annos map[string]string
		want  string
	}{
		{"signature only", map[string]string{AnnotationSignature: sig},
			`{"Base64Signature":"` + sig + `","Payload":"` + base64.StdEncoding.EncodeToString(payload) + `","Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}`},
		{"empty signature kept", map[string]string{AnnotationSignature: ""},
			`{"Base64Signature":"","Payload":"` + base64.StdEncoding.EncodeToString(payload) + `","Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}`},
		{"everything", map[string]string{
			AnnotationSignature:   sig,
			AnnotationCertificate: pemCert(leaf) + pemCert(inter), // the first block is the certificate
			AnnotationChain:       pemCert(inter) + pemCert(root),
			AnnotationBundle:      rekor,
			AnnotationTimestamp:   ts,
		}, `{"Base64Signature":"` + sig + `","Payload":"` + base64.StdEncoding.EncodeToString(payload) +
			`","Cert":` + jsonString(t, pemCert(leaf)) + `,"Chain":[` + jsonString(t, pemCert(inter)) + `,` + jsonString(t, pemCert(root)) +
			`],"Bundle":` + rekor + `,"RFC3161Timestamp":` + ts + `}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseSignedPayload(payload, tc.annos)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSignedPayloadKeepsRekorBody(t *testing.T) {
	// cosign keeps the body as it decoded it; a non-string body is written back as it was.
	ann := `{"SignedEntryTimestamp":"c2V0","Payload":{"body":{"kind":"x"},"integratedTime":1,"logIndex":2,"logID":"00"}}`
	p, err := ParseSignedPayload([]byte("p"), map[string]string{AnnotationSignature: "c2ln", AnnotationBundle: ann})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(p.Bundle)
	if err != nil || string(got) != ann {
		t.Fatalf("bundle %s (%v), want %s", got, err, ann)
	}
}

func TestParseSignedPayloadRejects(t *testing.T) {
	sig := base64.StdEncoding.EncodeToString([]byte("signature-bytes"))
	tests := []struct {
		name  string
		annos map[string]string
		want  string
	}{
		{"no signature", map[string]string{AnnotationCertificate: "x"}, "no dev.cosignproject.cosign/signature annotation"},
		{"certificate not PEM", map[string]string{AnnotationSignature: sig, AnnotationCertificate: "junk"}, "dev.sigstore.cosign/certificate: no PEM certificate found"},
		{"certificate block of another type", map[string]string{AnnotationSignature: sig, AnnotationCertificate: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}, `dev.sigstore.cosign/certificate: PEM block "PUBLIC KEY"`},
		{"chain not PEM", map[string]string{AnnotationSignature: sig, AnnotationChain: "junk"}, "dev.sigstore.cosign/chain: no PEM certificate found"},
		{"bundle not JSON", map[string]string{AnnotationSignature: sig, AnnotationBundle: "{"}, "dev.sigstore.cosign/bundle: unexpected end of JSON input"},
		{"bundle SET not base64", map[string]string{AnnotationSignature: sig, AnnotationBundle: `{"SignedEntryTimestamp":"!!"}`}, "dev.sigstore.cosign/bundle: illegal base64"},
		{"timestamp not JSON", map[string]string{AnnotationSignature: sig, AnnotationTimestamp: "x"}, "dev.sigstore.cosign/rfc3161timestamp: invalid character"},
		{"huge annotation", map[string]string{AnnotationSignature: sig, AnnotationChain: strings.Repeat("A", maxLegacyAnnotation+1)}, "at most 1048576 allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSignedPayload([]byte("payload"), tc.annos)
			if err == nil || !errors.Is(err, ErrInvalidBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseSimpleSigningKeepsNumbers(t *testing.T) {
	in := `{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:` + testDigestHex +
		`"},"type":"cosign container image signature"},"optional":{"timestamp":1796227528,"ratio":0.50,"big":12345678901234567890,"s":"x"}}`
	ss, err := ParseSimpleSigning([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"timestamp": "1796227528", "ratio": "0.50", "big": "12345678901234567890"} {
		n, ok := ss.Optional[k].(json.Number)
		if !ok || n.String() != want {
			t.Errorf("optional %s = %#v, want the number %s as written", k, ss.Optional[k], want)
		}
	}
	if ss.Optional["s"] != "x" {
		t.Errorf("optional s = %#v", ss.Optional["s"])
	}
}

func FuzzParseSignedPayload(f *testing.F) {
	f.Add("c2ln", "", "", `{"SignedEntryTimestamp":"c2V0","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"00"}}`, `{"SignedRFC3161Timestamp":"AA=="}`)
	f.Add("", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "junk", "{}", "null")
	f.Fuzz(func(t *testing.T, sig, cert, chain, rekor, ts string) {
		p, err := ParseSignedPayload([]byte("payload"), map[string]string{
			AnnotationSignature: sig, AnnotationCertificate: cert, AnnotationChain: chain, AnnotationBundle: rekor, AnnotationTimestamp: ts,
		})
		if err != nil {
			return
		}
		out, err := json.Marshal(p)
		if err != nil || !json.Valid(out) {
			t.Fatalf("accepted annotations give %s (%v)", out, err)
		}
		var back struct{ Base64Signature string }
		if err := json.Unmarshal(out, &back); err != nil || utf8.ValidString(sig) && back.Base64Signature != sig {
			t.Fatalf("Base64Signature %q, want %q (%v)", back.Base64Signature, sig, err)
		}
	})
}

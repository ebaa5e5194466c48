package attest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

func TestMarshalEnvelopeIsCosignForm(t *testing.T) {
	out, err := MarshalEnvelope(bundle.PayloadTypeInToto, []byte(`{"x":1}`), []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"payloadType":"application/vnd.in-toto+json","payload":"eyJ4IjoxfQ==","signatures":[{"keyid":"","sig":"AQID"}]}`
	if string(out) != want {
		t.Fatalf("envelope\n got %s\nwant %s", out, want)
	}
	env, err := ParseEnvelope(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if env.PayloadType != bundle.PayloadTypeInToto || string(env.Payload) != `{"x":1}` || len(env.Signatures) != 1 || string(env.Signatures[0]) != "\x01\x02\x03" {
		t.Fatalf("parsed %+v", env)
	}
}

func TestMarshalEnvelopeMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		pt           string
		payload, sig []byte
	}{
		{bundle.PayloadTypeInToto, []byte(`{"a":"<&>"}`), []byte{0xff, 0}},
		{"text/plain; x=<y>&z", nil, []byte{1}},
		{"\u2028\"q\"", []byte{0, 1, 2, 3, 4}, []byte("s")},
	} {
		want, err := json.Marshal(dsse.Envelope{PayloadType: tc.pt, Payload: base64.StdEncoding.EncodeToString(tc.payload),
			Signatures: []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(tc.sig)}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := MarshalEnvelope(tc.pt, tc.payload, tc.sig)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("envelope\n got %s\nwant %s", got, want)
		}
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	many := make([]map[string]string, MaxEnvelopeSignatures+1)
	for i := range many {
		many[i] = map[string]string{"keyid": "", "sig": "AQ=="}
	}
	manyJSON, _ := json.Marshal(map[string]any{"payloadType": "t", "payload": b64([]byte("p")), "signatures": many})
	tests := []struct {
		name, doc, want string
		max             int64
	}{
		{"not json", `{`, "unexpected EOF", 0},
		{"no payloadType", `{"payload":"","signatures":[{"sig":"AQ=="}]}`, "no payloadType", 0},
		{"no payload", `{"payloadType":"t","signatures":[{"sig":"AQ=="}]}`, "no payload", 0},
		{"payload not base64", `{"payloadType":"t","payload":"!!","signatures":[{"sig":"AQ=="}]}`, "payload: not base64", 0},
		{"no signatures", `{"payloadType":"t","payload":"","signatures":[]}`, "no signatures", 0},
		{"empty signature", `{"payloadType":"t","payload":"","signatures":[{"sig":""}]}`, "signature 0 is empty", 0},
		{"unknown field", `{"payloadType":"t","payload":"","signatures":[{"sig":"AQ=="}],"extra":1}`, "unknown field", 0},
		{"trailing data", `{"payloadType":"t","payload":"","signatures":[{"sig":"AQ=="}]} {}`, "data after", 0},
		{"too many signatures", string(manyJSON), "17 signatures, at most 16", 0},
		{"too large", `{"payloadType":"t","payload":"","signatures":[{"sig":"AQ=="}]}`, "the limit is 10", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tt.doc), tt.max)
			if !errors.Is(err, ErrInvalidEnvelope) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseEnvelope error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLegacyBundlesOnePerSignature(t *testing.T) {
	env := &Envelope{PayloadType: bundle.PayloadTypeInToto, Payload: []byte(`{}`), Signatures: [][]byte{{1}, {2}}}
	bs, err := LegacyBundles(env, map[string]string{bundle.AnnotationSignature: "", "predicateType": PredicateSPDX})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 {
		t.Fatalf("%d bundles, want 2", len(bs))
	}
	for i, b := range bs {
		sigs := b.GetDsseEnvelope().GetSignatures()
		if len(sigs) != 1 || sigs[0].GetSig()[0] != byte(i+1) {
			t.Fatalf("bundle %d signatures %v", i, sigs)
		}
		if b.GetVerificationMaterial().GetPublicKey() == nil {
			t.Fatalf("bundle %d: no public key material", i)
		}
	}
	if _, err := LegacyBundles(env, map[string]string{bundle.AnnotationCertificate: "not a certificate"}); !errors.Is(err, bundle.ErrInvalidBundle) {
		t.Fatalf("bad certificate annotation: %v", err)
	}
}

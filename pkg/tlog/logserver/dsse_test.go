package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	bundlev1 "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// signEnvelope signs payload as an in-toto DSSE envelope with s.
func (s *testSigner) signEnvelope(t testing.TB, payload []byte) *protodsse.Envelope {
	t.Helper()
	sig := s.sign(t, s.digest(bundle.PAE(bundle.PayloadTypeInToto, payload)))
	return bundle.NewEnvelope(bundle.PayloadTypeInToto, payload, sig)
}

// dsseVerifier is s's Verifier message in a dsseRequestV002, with the given key details.
func (s *testSigner) dsseVerifier(details commonv1.PublicKeyDetails) map[string]any {
	kind := "publicKey"
	if s.cert {
		kind = "x509Certificate"
	}
	return map[string]any{kind: map[string]any{"rawBytes": s.der}, "keyDetails": details.String()}
}

// defaultVerifier is s's Verifier message with the key details a sigstore client sends for it.
func (s *testSigner) defaultVerifier(t testing.TB) map[string]any {
	t.Helper()
	details, err := tlog.DefaultKeyDetails(s.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return s.dsseVerifier(details)
}

// dsseRequestBody is a create-entry request of kind dsse as sigstore-js sends it: the envelope
// in its protojson form and the verifiers.
func dsseRequestBody(t testing.TB, env *protodsse.Envelope, verifiers ...map[string]any) []byte {
	t.Helper()
	envJSON, err := protojson.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"dsseRequestV002": map[string]any{
		"envelope": json.RawMessage(envJSON), "verifiers": verifiers,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// postEntry submits a raw create-entry body and returns the status, the X-Log-Index header and
// the answer.
func postEntry(t *testing.T, url string, body []byte) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/api/v2/log/entries", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get(tlog.LogIndexHeader), out
}

// TestDSSERequest logs DSSE envelopes sent as dsseRequestV002 and checks that each becomes the
// hashedrekord 0.0.2 entry a verifier rebuilds from the envelope: the digest of the PAE under
// the key's algorithm (SHA-256 for P-256 and RSA), the envelope's signature, the verifier.
func TestDSSERequest(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	keys := []tlog.LogKey{tl.key}
	cases := []struct {
		name string
		s    *testSigner
		hash crypto.Hash // of the entry's digest
	}{
		{"ecdsa-p256", newECDSASigner(t, elliptic.P256(), crypto.SHA256), crypto.SHA256},
		{"certificate", certSigner(t, "alice@example.com"), crypto.SHA256},
		{"ecdsa-p384", newECDSASigner(t, elliptic.P384(), crypto.SHA384), crypto.SHA384},
		{"rsa-2048", newRSASigner(t, 2048), crypto.SHA256},
		{"ed25519ph", newEd25519Signer(t), crypto.SHA512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://example.com/` + tc.name + `"}`)
			env := tc.s.signEnvelope(t, payload)
			status, _, out := postEntry(t, tl.url, dsseRequestBody(t, env, tc.s.defaultVerifier(t)))
			if status != http.StatusCreated {
				t.Fatalf("dsseRequestV002: %d %s", status, out)
			}
			var tle rekorv1.TransparencyLogEntry
			if err := protojson.Unmarshal(out, &tle); err != nil {
				t.Fatalf("answer is not a TransparencyLogEntry: %v\n%s", err, out)
			}
			if kv := tle.GetKindVersion(); kv.GetKind() != "hashedrekord" || kv.GetVersion() != "0.0.2" {
				t.Fatalf("kindVersion %v, want hashedrekord 0.0.2", kv)
			}
			pae := bundle.PAE(env.GetPayloadType(), env.GetPayload())
			hh := tc.hash.New()
			hh.Write(pae)
			digest := hh.Sum(nil)
			if tc.hash == crypto.SHA256 {
				if sum := sha256.Sum256(pae); !bytes.Equal(digest, sum[:]) {
					t.Fatal("SHA-256 of the PAE differs")
				}
			}
			sig := env.GetSignatures()[0].GetSig()
			req, err := tlog.NewHashedRekordRequest(sig, digest, tc.hash, tc.s.der, tc.s.cert)
			if err != nil {
				t.Fatal(err)
			}
			want, err := req.CanonicalBody()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tlog.VerifyEntry(&tle, keys, want); err != nil {
				t.Fatalf("entry is not the hashedrekord of the PAE, or its proof fails: %v\n%s", err, tle.GetCanonicalizedBody())
			}
			got, err := tlog.ParseHashedRekordEntry(tle.GetCanonicalizedBody())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Digest, digest) || !bytes.Equal(got.Signature, sig) || !bytes.Equal(got.Verifier, tc.s.der) || got.IsCertificate != tc.s.cert {
				t.Fatalf("entry %+v", got)
			}
			if err := got.Verify(); err != nil {
				t.Fatalf("logged entry does not verify as a hashedrekord: %v", err)
			}

			// A bundle of the envelope and the answer matches the log.
			var vm *bundlev1.VerificationMaterial
			if tc.s.cert {
				cert, err := x509.ParseCertificate(tc.s.der)
				if err != nil {
					t.Fatal(err)
				}
				vm = bundle.CertificateMaterial(cert)
			} else if vm, err = bundle.KeyMaterial(tc.s.priv.Public()); err != nil {
				t.Fatal(err)
			}
			vm.TlogEntries = []*rekorv1.TransparencyLogEntry{&tle}
			bundleJSON, err := bundle.Marshal(bundle.NewDSSEBundle(vm, env))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := logclient.VerifyBundleInLog(ctx, bundleJSON, tl.url, keys, t.TempDir()); err != nil {
				t.Fatalf("VerifyBundleInLog: %v", err)
			}
		})
	}
	cp, err := tl.client.Checkpoint(ctx, keys)
	if err != nil || cp.Size != uint64(len(cases)) {
		t.Fatalf("log size after %d envelopes: %v, size %d", len(cases), err, cpSize(cp))
	}
}

// TestDSSEDuplicate: an envelope logged twice is answered 409 with the index of the first, and
// so is the hashedrekord request over the same PAE, which is the same entry.
func TestDSSEDuplicate(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	env := s.signEnvelope(t, []byte(`{"_type":"https://in-toto.io/Statement/v1"}`))
	body := dsseRequestBody(t, env, s.defaultVerifier(t))
	status, _, out := postEntry(t, tl.url, body)
	if status != http.StatusCreated {
		t.Fatalf("first submission: %d %s", status, out)
	}
	var first rekorv1.TransparencyLogEntry
	if err := protojson.Unmarshal(out, &first); err != nil {
		t.Fatal(err)
	}
	status, idx, out := postEntry(t, tl.url, body)
	if status != http.StatusConflict || idx != fmt.Sprint(first.GetLogIndex()) || !strings.Contains(string(out), "already exists") {
		t.Fatalf("resubmission: %d %s, index header %q", status, out, idx)
	}
	sum := sha256.Sum256(bundle.PAE(env.GetPayloadType(), env.GetPayload()))
	req, err := tlog.NewHashedRekordRequest(env.GetSignatures()[0].GetSig(), sum[:], crypto.SHA256, s.der, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tl.client.Submit(ctx, req)
	if err != nil || again.GetLogIndex() != first.GetLogIndex() {
		t.Fatalf("hashedrekord of the same PAE: %v, index %d, want %d", err, again.GetLogIndex(), first.GetLogIndex())
	}
	cp, err := tl.client.Checkpoint(ctx, []tlog.LogKey{tl.key})
	if err != nil || cp.Size != 1 {
		t.Fatalf("log size: %v, size %d, want 1", err, cpSize(cp))
	}
}

func TestDSSEBadInput(t *testing.T) {
	tl := newTestLog(t, nil)
	ec := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	other := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	good := ec.signEnvelope(t, payload)
	v := ec.defaultVerifier(t)
	// with returns a copy of the good envelope changed by f.
	with := func(f func(e *protodsse.Envelope)) *protodsse.Envelope {
		e := bundle.NewEnvelope(good.PayloadType, good.Payload, good.Signatures[0].Sig)
		f(e)
		return e
	}
	badSig := bytes.Clone(good.Signatures[0].Sig)
	badSig[len(badSig)-1] ^= 1
	otherEnv := ec.signEnvelope(t, []byte(`{"_type":"https://in-toto.io/Statement/v1","x":1}`))
	pae := bundle.PAE(good.PayloadType, good.Payload)
	pureEd := newEd25519Signer(t)
	pureSig := ed25519.Sign(pureEd.priv.(ed25519.PrivateKey), pae)
	rsa1024 := newRSASigner(t, 1024)
	rsaEnv := rsa1024.signEnvelope(t, payload)
	cert := certSigner(t, "alice@example.com")
	big := ec.signEnvelope(t, bytes.Repeat([]byte("a"), DefaultMaxBodySize))
	b64 := base64.StdEncoding.EncodeToString
	raw := func(envelope, verifiers string) []byte {
		return []byte(`{"dsseRequestV002": {"envelope": ` + envelope + `, "verifiers": ` + verifiers + `}}`)
	}
	vJSON, _ := json.Marshal([]any{v})
	expectRefusals(t, tl, []refusal{
		{"bad signature", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures[0].Sig = badSig }), v), 400, "signature does not verify"},
		{"signature of another envelope", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures[0].Sig = otherEnv.Signatures[0].Sig }), v), 400, "signature does not verify"},
		{"other payloadType", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.PayloadType = "text/plain" }), v), 400, "signature does not verify"},
		{"wrong key", dsseRequestBody(t, good, other.defaultVerifier(t)), 400, "signature does not verify"},
		{"two signatures", dsseRequestBody(t, with(func(e *protodsse.Envelope) {
			e.Signatures = append(e.Signatures, &protodsse.Signature{Sig: other.sign(t, other.digest(pae))})
		}), v, other.defaultVerifier(t)), 400, "has 2 signatures, this log accepts exactly one"},
		{"zero signatures", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures = nil }), v), 400, "has 0 signatures, this log accepts exactly one"},
		{"two verifiers", dsseRequestBody(t, good, v, other.defaultVerifier(t)), 400, "has 2 verifiers, this log accepts exactly one"},
		{"no verifiers", dsseRequestBody(t, good), 400, "has 0 verifiers"},
		{"oversized envelope", dsseRequestBody(t, big, v), 413, fmt.Sprintf("request body exceeds %d bytes", DefaultMaxBodySize)},
		{"malformed JSON", []byte(`{"dsseRequestV002": {"envelope": {"payload": "`), 400, "unexpected end of JSON"},
		{"missing payload", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Payload = nil }), v), 400, "request.dsseRequestV002.envelope: missing payload"},
		{"missing payloadType", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.PayloadType = "" }), v), 400, "envelope: missing payloadType"},
		{"missing envelope", []byte(`{"dsseRequestV002": {"verifiers": ` + string(vJSON) + `}}`), 400, "request.dsseRequestV002: missing envelope"},
		{"empty dsseRequestV002", []byte(`{"dsseRequestV002": {}}`), 400, "missing envelope"},
		{"empty sig", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures[0] = &protodsse.Signature{Keyid: "k"} }), v), 400, "signatures[0]: missing sig"},
		{"null signature", raw(`{"payload": "`+b64(payload)+`", "payloadType": "t", "signatures": [null]}`, string(vJSON)), 400, "signatures[0]: want a JSON object, got null"},
		{"signatures not an array", raw(`{"payload": "`+b64(payload)+`", "payloadType": "t", "signatures": {}}`, string(vJSON)), 400, "signatures: want an array, got an object"},
		{"verifier not an object", raw(`{"payload": "`+b64(payload)+`", "payloadType": "t", "signatures": [{"sig": "AA=="}]}`, `["x"]`), 400, "verifiers[0]: want a JSON object, got a string"},
		{"unknown envelope field", raw(`{"payload": "`+b64(payload)+`", "payloadType": "t", "signatures": [{"sig": "AA=="}], "extra": 1}`, string(vJSON)), 400, `unknown field "extra"`},
		{"unknown signature field", raw(`{"payload": "`+b64(payload)+`", "payloadType": "t", "signatures": [{"sig": "AA==", "key_id": "k"}]}`, string(vJSON)), 400, `unknown field "key_id"`},
		{"bad payload base64", raw(`{"payload": "!!", "payloadType": "t", "signatures": [{"sig": "AA=="}]}`, string(vJSON)), 400, "payload: bad base64"},
		{"verifier without key", dsseRequestBody(t, good, map[string]any{"keyDetails": "PKIX_ECDSA_P256_SHA_256"}), 400, "neither publicKey nor x509Certificate"},
		{"missing keyDetails", dsseRequestBody(t, good, map[string]any{"publicKey": map[string]any{"rawBytes": ec.der}}), 400, "missing keyDetails"},
		{"key details of another key", dsseRequestBody(t, good, ec.dsseVerifier(commonv1.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384)), 400, "does not match the key"},
		{"certificate as public key", dsseRequestBody(t, good, map[string]any{"publicKey": map[string]any{"rawBytes": cert.der}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}), 400, "parsing public key"},
		{"pure Ed25519", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures[0].Sig = pureSig }), pureEd.dsseVerifier(commonv1.PublicKeyDetails_PKIX_ED25519)), 400, "PKIX_ED25519 is not accepted"},
		{"pure Ed25519 signature as Ed25519ph", dsseRequestBody(t, with(func(e *protodsse.Envelope) { e.Signatures[0].Sig = pureSig }), pureEd.defaultVerifier(t)), 400, "signature does not verify"},
		{"RSA 1024", dsseRequestBody(t, rsaEnv, rsa1024.dsseVerifier(commonv1.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256)), 400, "RSA key of 1024 bits"},
		{"RSA PSS", dsseRequestBody(t, good, ec.dsseVerifier(commonv1.PublicKeyDetails_PKIX_RSA_PSS_2048_SHA256)), 400, "PKIX_RSA_PSS_2048_SHA256 is not accepted"},
	})
	// The good envelope is still accepted.
	if status, _, out := postEntry(t, tl.url, dsseRequestBody(t, good, v)); status != http.StatusCreated {
		t.Fatalf("the good envelope: %d %s", status, out)
	}
}

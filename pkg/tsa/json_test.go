package tsa

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// jsonBody writes a JSON timestamp request by hand, so that the nonce literal is sent exactly as
// given; extra is spliced in as further members.
func jsonBody(alg string, digest []byte, nonce string, certs bool, policy, extra string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"artifactHash":%q,"hashAlgorithm":%q`, base64.StdEncoding.EncodeToString(digest), alg)
	if nonce != "" {
		fmt.Fprintf(&b, `,"nonce":%s`, nonce)
	}
	if certs {
		b.WriteString(`,"certificates":true`)
	}
	if policy != "" {
		fmt.Fprintf(&b, `,"tsaPolicyOID":%q`, policy)
	}
	b.WriteString(extra)
	b.WriteString("}")
	return []byte(b.String())
}

// postTimestamp posts body to the TSA with contentType (no header when empty); chunked hides
// the body's length, as a streaming client does.
func postTimestamp(t *testing.T, url, contentType string, body []byte, chunked bool) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r)
	}
	req, err := http.NewRequest(http.MethodPost, url+TimestampPath, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, out
}

// verifyWithChain checks the token's signature under the TSA certificate and that certificate's
// chain to the root, whether or not the token embeds the certificate.
func verifyWithChain(t *testing.T, ts *timestamp.Timestamp, chain []*x509.Certificate) {
	t.Helper()
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		t.Fatal(err)
	}
	p7.Certificates = chain[:1]
	roots := x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	if err := p7.VerifyWithOpts(x509.VerifyOptions{Roots: roots, CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatalf("token does not verify against the TSA chain: %v", err)
	}
}

func TestJSONRequestGranted(t *testing.T) {
	dir, base := newTestTSA(t)
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	s256 := sha256.Sum256([]byte("signature"))
	s384 := sha512.Sum384([]byte("signature"))
	s512 := sha512.Sum512([]byte("signature"))
	padded := jsonBody("sha256", s256[:], "", false, "", "")
	padded = append(padded[:len(padded)-1], bytes.Repeat([]byte(" "), MaxJSONRequestSize-len(padded))...)
	padded = append(padded, '}')
	tests := []struct {
		name        string
		contentType string
		body        []byte
		chunked     bool
		hash        crypto.Hash
		digest      []byte
		nonce       string // the decimal nonce the answer must carry, "" for none
		certs       bool
	}{
		{"sha256 as sigstore-js asks", "application/json", jsonBody("sha256", s256[:], "", false, "", ""), false, crypto.SHA256, s256[:], "", false},
		{"sha384 with certificates", "application/json", jsonBody("sha384", s384[:], "", true, "", ""), false, crypto.SHA384, s384[:], "", true},
		{"sha512 with nonce", "application/json", jsonBody("sha512", s512[:], "42", true, "", ""), false, crypto.SHA512, s512[:], "42", true},
		{"algorithm in capitals", "application/json", jsonBody("SHA256", s256[:], "", false, "", ""), false, crypto.SHA256, s256[:], "", false},
		{"nonce above 2^53", "application/json", jsonBody("sha256", s256[:], "9007199254740993", false, "", ""), false, crypto.SHA256, s256[:], "9007199254740993", false},
		{"nonce of 256 bits", "application/json",
			jsonBody("sha256", s256[:], "115792089237316195423570985008687907853269984665640564039457584007913129639935", true, "", ""), false,
			crypto.SHA256, s256[:], "115792089237316195423570985008687907853269984665640564039457584007913129639935", true},
		{"nonce zero", "application/json", jsonBody("sha256", s256[:], "0", false, "", ""), false, crypto.SHA256, s256[:], "0", false},
		{"null nonce", "application/json", jsonBody("sha256", s256[:], "null", false, "", ""), false, crypto.SHA256, s256[:], "", false},
		{"our policy OID", "application/json", jsonBody("sha256", s256[:], "7", true, PolicyOID.String(), ""), false, crypto.SHA256, s256[:], "7", true},
		{"unknown fields ignored", "application/json", jsonBody("sha256", s256[:], "", false, "", `,"extra":{"a":[1,2]},"version":3`), false, crypto.SHA256, s256[:], "", false},
		{"key names in another case", "application/json", []byte(`{"ARTIFACTHASH":"` + base64.StdEncoding.EncodeToString(s256[:]) + `","HashAlgorithm":"sha256","Certificates":true}`), false, crypto.SHA256, s256[:], "", true},
		{"media type parameters ignored", "Application/JSON; charset=utf-8", jsonBody("sha256", s256[:], "", false, "", ""), false, crypto.SHA256, s256[:], "", false},
		{"chunked body", "application/json", jsonBody("sha384", s384[:], "12345678901234567890", true, "", ""), true, crypto.SHA384, s384[:], "12345678901234567890", true},
		{"exactly 1024 bytes", "application/json", padded, false, crypto.SHA256, s256[:], "", false},
		{"DER form still served", QueryContentType, mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: s256[:], Nonce: big.NewInt(9), Certificates: true}), false, crypto.SHA256, s256[:], "9", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postTimestamp(t, base, tc.contentType, tc.body, tc.chunked)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ReplyContentType {
				t.Fatalf("HTTP %d %s %q, want 200 %s", res.StatusCode, res.Header.Get("Content-Type"), body, ReplyContentType)
			}
			got, err := timestamp.ParseResponse(body)
			if err != nil {
				t.Fatalf("parsing the answer: %v", err)
			}
			if got.HashAlgorithm != tc.hash || !bytes.Equal(got.HashedMessage, tc.digest) {
				t.Fatalf("imprint %v %x, want %v %x", got.HashAlgorithm, got.HashedMessage, tc.hash, tc.digest)
			}
			if !got.Policy.Equal(PolicyOID) {
				t.Fatalf("policy %v, want %v", got.Policy, PolicyOID)
			}
			switch {
			case tc.nonce == "" && got.Nonce != nil:
				t.Fatalf("nonce %v in the answer, none asked", got.Nonce)
			case tc.nonce != "" && (got.Nonce == nil || got.Nonce.String() != tc.nonce):
				t.Fatalf("nonce %v, want %s", got.Nonce, tc.nonce)
			}
			if tc.certs {
				if len(got.Certificates) != 1 || !got.Certificates[0].Equal(chain[0]) {
					t.Fatalf("answer carries %d certificates, want the TSA certificate", len(got.Certificates))
				}
			} else if len(got.Certificates) != 0 {
				t.Fatalf("answer carries %d certificates, none asked", len(got.Certificates))
			}
			verifyWithChain(t, got, chain)
		})
	}
}

func TestJSONRequestRefused(t *testing.T) {
	_, base := newTestTSA(t)
	s256 := sha256.Sum256([]byte("signature"))
	s384 := sha512.Sum384([]byte("signature"))
	ones := bytes.Repeat([]byte{0xff}, 32) // standard base64 uses '/', URL-safe '_'
	tooLong := jsonBody("sha256", s256[:], "", false, "", "")
	tooLong = append(tooLong[:len(tooLong)-1], bytes.Repeat([]byte(" "), MaxJSONRequestSize+1-len(tooLong))...)
	tooLong = append(tooLong, '}')
	hugeNonce := new(big.Int).Lsh(big.NewInt(1), 256).String()
	tests := []struct {
		name        string
		contentType string
		body        []byte
		chunked     bool
		code        int
		want        string
	}{
		{"sha1", "application/json", jsonBody("sha1", s256[:20], "", false, "", ""), false, 400, "hash algorithm SHA-1 not accepted"},
		{"SHA1 in capitals", "application/json", jsonBody("SHA1", s256[:20], "", false, "", ""), false, 400, "hash algorithm SHA-1 not accepted"},
		{"md5", "application/json", jsonBody("md5", s256[:16], "", false, "", ""), false, 400, `hashAlgorithm "md5" not accepted (sha256, sha384 or sha512)`},
		{"no hashAlgorithm", "application/json", []byte(`{"artifactHash":"` + base64.StdEncoding.EncodeToString(s256[:]) + `"}`), false, 400, `hashAlgorithm "" not accepted`},
		{"sha384 name, sha256 digest", "application/json", jsonBody("sha384", s256[:], "", false, "", ""), false, 400, "message imprint of 32 bytes for SHA-384, want 48"},
		{"sha256 name, sha384 digest", "application/json", jsonBody("sha256", s384[:], "", false, "", ""), false, 400, "message imprint of 48 bytes for SHA-256, want 32"},
		{"no artifactHash", "application/json", []byte(`{"hashAlgorithm":"sha256"}`), false, 400, "message imprint of 0 bytes for SHA-256, want 32"},
		{"bad base64", "application/json", []byte(`{"artifactHash":"not base64!","hashAlgorithm":"sha256"}`), false, 400, "artifactHash is not standard base64"},
		{"URL-safe base64", "application/json", []byte(`{"artifactHash":"` + base64.URLEncoding.EncodeToString(ones) + `","hashAlgorithm":"sha256"}`), false, 400, "artifactHash is not standard base64"},
		{"unpadded base64", "application/json", []byte(`{"artifactHash":"` + base64.RawStdEncoding.EncodeToString(s256[:]) + `","hashAlgorithm":"sha256"}`), false, 400, "artifactHash is not standard base64"},
		{"malformed JSON", "application/json", []byte(`{"artifactHash":`), false, 400, "malformed JSON request"},
		{"trailing data", "application/json", append(jsonBody("sha256", s256[:], "", false, "", ""), []byte(` {}`)...), false, 400, "malformed JSON request"},
		{"a JSON array", "application/json", []byte(`[]`), false, 400, "malformed JSON request"},
		{"nonce as a string", "application/json", jsonBody("sha256", s256[:], `"42"`, false, "", ""), false, 400, "malformed JSON request"},
		{"fractional nonce", "application/json", jsonBody("sha256", s256[:], "1.5", false, "", ""), false, 400, "malformed JSON request"},
		{"nonce with exponent", "application/json", jsonBody("sha256", s256[:], "1e3", false, "", ""), false, 400, "malformed JSON request"},
		{"negative nonce", "application/json", jsonBody("sha256", s256[:], "-1", false, "", ""), false, 400, "nonce must be a non-negative integer of at most 256 bits"},
		{"nonce of 257 bits", "application/json", jsonBody("sha256", s256[:], hugeNonce, false, "", ""), false, 400, "nonce must be a non-negative integer of at most 256 bits"},
		{"certificates not a boolean", "application/json", []byte(`{"artifactHash":"` + base64.StdEncoding.EncodeToString(s256[:]) + `","hashAlgorithm":"sha256","certificates":"yes"}`), false, 400, "malformed JSON request"},
		{"foreign policy", "application/json", jsonBody("sha256", s256[:], "", false, "1.2.3", ""), false, 400, "policy 1.2.3 not accepted (this TSA uses 1.3.6.1.4.1.57264.2)"},
		{"policy prefix of ours", "application/json", jsonBody("sha256", s256[:], "", false, "1.3.6.1.4.1.57264", ""), false, 400, "policy 1.3.6.1.4.1.57264 not accepted"},
		{"policy with an empty component", "application/json", jsonBody("sha256", s256[:], "", false, "1..2", ""), false, 400, `tsaPolicyOID "1..2": component "" is not an integer`},
		{"policy of 130 components", "application/json", jsonBody("sha256", s256[:], "", false, strings.Repeat("1.", 129)+"1", ""), false, 400, "tsaPolicyOID has more than 129 components"},
		{"1025 bytes", "application/json", tooLong, false, 400, "request body too large: more than 1024 bytes"},
		{"1025 bytes chunked", "application/json", tooLong, true, 400, "request body too large: more than 1024 bytes"},
		{"empty body", "application/json", nil, false, 422, "request body is required"},
		{"empty chunked body", "application/json", nil, true, 422, "request body is required"},
		{"empty body without Content-Type", "", nil, false, 422, "request body is required"},
		{"no Content-Type", "", jsonBody("sha256", s256[:], "", false, "", ""), false, 415, "missing Content-Type: want application/timestamp-query or application/json"},
		{"text/plain", "text/plain", jsonBody("sha256", s256[:], "", false, "", ""), false, 415, `unsupported media type "text/plain"`},
		{"application/foo", "application/foo", jsonBody("sha256", s256[:], "", false, "", ""), false, 415, `unsupported media type "application/foo"`},
		{"application/json in a parameter", `multipart/form-data; boundary="application/json"`, jsonBody("sha256", s256[:], "", false, "", ""), false, 415, `unsupported media type "multipart/form-data"`},
		{"malformed parameter", "multipart/form-data; boundary=application/json", jsonBody("sha256", s256[:], "", false, "", ""), false, 400, "is not a media type: mime: invalid media parameter"},
		{"no subtype", "application", jsonBody("sha256", s256[:], "", false, "", ""), false, 400, `Content-Type "application" is not a media type: no subtype`},
		{"DER body sent as JSON", "application/json", mustRequest(t, timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: s256[:]}), false, 400, "malformed JSON request"},
		{"JSON body sent as DER", QueryContentType, jsonBody("sha256", s256[:], "", false, "", ""), false, 400, "bad timestamp request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postTimestamp(t, base, tc.contentType, tc.body, tc.chunked)
			var e struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("HTTP %d %s %q: %v, want a JSON error", res.StatusCode, res.Header.Get("Content-Type"), body, err)
			}
			if res.StatusCode != tc.code || e.Code != tc.code || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("HTTP %d %q, want %d containing %q", res.StatusCode, body, tc.code, tc.want)
			}
		})
	}
}

// TestJSONReplyReadByOpenSSL has openssl read and verify an answer to a JSON request.
func TestJSONReplyReadByOpenSSL(t *testing.T) {
	needOpenSSL(t)
	dir, base := newTestTSA(t)
	chain, err := pki.ReadCertificates(filepath.Join(dir, ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	signature := []byte("a signature timestamped through the JSON form")
	digest := sha256.Sum256(signature)
	var out []byte
	for _, certs := range []bool{false, true} {
		res, resp := postTimestamp(t, base, "application/json", jsonBody("sha256", digest[:], "18446744073709551617", certs, "", ""), false)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d %q", res.StatusCode, resp)
		}
		respPath := opensslVerify(t, resp, signature, chain)
		if out, err = exec.Command("openssl", "ts", "-reply", "-in", respPath, "-text").CombinedOutput(); err != nil {
			t.Fatalf("openssl ts -reply: %v\n%s", err, out)
		}
	}
	for _, want := range []string{"Status: Granted.", "Policy OID: 1.3.6.1.4.1.57264.2", "Hash Algorithm: sha256",
		"Nonce: 0x010000000000000001", "Accuracy: 0x01 seconds"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("openssl ts -reply -text lacks %q:\n%s", want, out)
		}
	}
}

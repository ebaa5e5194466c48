package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
)

// imageKey and imageRequest are the body containers/image sends (its vendored copy of
// Fulcio's legacy client): []byte fields, so standard base64, and a null CSR.
type imageKey struct {
	Content   []byte `json:"content"`
	Algorithm string `json:"algorithm,omitempty"`
}

type imageRequest struct {
	PublicKey                 imageKey `json:"publicKey"`
	SignedEmailAddress        []byte   `json:"signedEmailAddress"`
	CertificateSigningRequest []byte   `json:"certificateSigningRequest"`
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postLegacy sends a v1 signingCert body (see testEnv.send).
func postLegacy(t *testing.T, e *testEnv, token string, body []byte) (*http.Response, string) {
	t.Helper()
	return e.send(t, http.MethodPost, LegacySigningCertPath, token, body)
}

// parsePEMChain reads an answer of PEM certificates with nothing else in it.
func parsePEMChain(t *testing.T, body string) []*x509.Certificate {
	t.Helper()
	certs, err := pki.ParseCertificates([]byte(body))
	if err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return certs
}

func TestLegacySigningCert(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	key := mustP256(t)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	proof := signSubject(t, key, "alice@example.com")
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
	tests := []struct {
		name string
		body []byte
	}{
		{"publicKey PEM", mustJSON(t, imageRequest{PublicKey: imageKey{Content: []byte(pubPEM(t, key.Public())), Algorithm: "ecdsa"}, SignedEmailAddress: proof})},
		{"publicKey DER, as containers/image sends it", mustJSON(t, imageRequest{PublicKey: imageKey{Content: der, Algorithm: "ecdsa"}, SignedEmailAddress: proof})},
		{"CSR", mustJSON(t, map[string]any{"certificateSigningRequest": csrPEM})},
		// Fulcio uses the CSR and ignores the rest.
		{"CSR beside an empty key", mustJSON(t, imageRequest{CertificateSigningRequest: csrPEM})},
		// protojson reads URL-safe base64 without padding and skips fields it does not know.
		{"URL-safe base64, unknown field", []byte(`{"publicKey":{"content":"` + base64.RawURLEncoding.EncodeToString(der) +
			`"},"signedEmailAddress":"` + base64.RawURLEncoding.EncodeToString(proof) + `","extra":{"x":1}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postLegacy(t, e, e.token(t, oidc.TokenRequest{Email: "alice@example.com"}), tc.body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("HTTP %d %s, want 201", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/pem-certificate-chain" {
				t.Fatalf("Content-Type %q", ct)
			}
			chain := parsePEMChain(t, body)
			// Fulcio joins the blocks with one newline and ends without one.
			if want := strings.TrimSuffix(string(pki.EncodeCertificates(chain)), "\n"); body != want {
				t.Fatalf("answer is not the PEM blocks joined by newlines:\n%q", body)
			}
			checkEmailCertificate(t, e, chain, "alice@example.com")
			if !chain[0].PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) {
				t.Fatal("certificate for another key")
			}
		})
	}
}

func TestLegacyRootCert(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	resp, data := e.send(t, http.MethodGet, RootCertPath, "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pem-certificate-chain" {
		t.Fatalf("HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The trust bundle's blocks, an empty line between them, no newline at the end.
	want := string(pki.EncodeCertificates(e.chain[:1])) + "\n" + strings.TrimSuffix(string(pki.EncodeCertificates(e.chain[1:])), "\n")
	if data != want {
		t.Fatalf("rootCert answer\n%q\nwant\n%q", data, want)
	}
	got := parsePEMChain(t, data)
	if len(got) != 2 || !got[0].Equal(e.chain[0]) || !got[1].Equal(e.chain[1]) {
		t.Fatalf("rootCert holds %d certificates, want the intermediate and the root", len(got))
	}
}

func TestLegacyRefusals(t *testing.T) {
	e := newEnv(t, IssuerEmail, oidc.DevIssuerOptions{})
	tok := e.token(t, oidc.TokenRequest{Email: "alice@example.com"})
	key := mustP256(t)
	proof := signSubject(t, key, "alice@example.com")
	keyPEM := []byte(pubPEM(t, key.Public()))
	good := mustJSON(t, imageRequest{PublicKey: imageKey{Content: keyPEM, Algorithm: "ecdsa"}, SignedEmailAddress: proof})
	withKey := func(content []byte, sig []byte) []byte {
		return mustJSON(t, imageRequest{PublicKey: imageKey{Content: content, Algorithm: "ecdsa"}, SignedEmailAddress: sig})
	}
	withCSR := func(der []byte) []byte {
		return mustJSON(t, map[string]any{"certificateSigningRequest": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})})
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	forged := append([]byte{}, csr...)
	forged[len(forged)-5] ^= 0x55
	csrP224, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, p224)

	const (
		token     = "There was an error processing the identity token"
		signature = "The signature supplied in the request could not be verified"
		parseKey  = "The public key supplied in the request could not be parsed"
		weakKey   = "The public key supplied in the request is insecure"
		parseCSR  = "The certificate signing request could not be parsed"
	)
	tests := []struct {
		name  string
		token string
		body  []byte
		// want is the whole message, or, after "proto:", its end (protobuf-go words the
		// prefix of its errors differently from one build to another).
		want string
	}{
		{"no token", "", good, token},
		{"not a JWT", "abc.def", good, token},
		{"expired token", e.token(t, oidc.TokenRequest{Email: "alice@example.com", Lifetime: -2 * time.Minute}), good, token},
		{"wrong audience", e.token(t, oidc.TokenRequest{Email: "alice@example.com", Audience: "someone-else"}), good, token},
		{"no email claim", e.token(t, oidc.TokenRequest{Subject: "alice"}), good, token},
		{"proof by another key", tok, withKey(keyPEM, signSubject(t, mustP256(t), "alice@example.com")), signature},
		{"proof over another identity", tok, withKey(keyPEM, signSubject(t, key, "bob@example.com")), signature},
		{"no proof", tok, withKey(keyPEM, nil), signature},
		{"CSR not signed by its key", tok, withCSR(forged), signature},
		{"key that does not parse", tok, withKey([]byte("not a key"), proof), parseKey},
		{"empty key", tok, []byte(`{"publicKey":{},"signedEmailAddress":"c2ln"}`), parseKey},
		// Fulcio looks for a key before it looks at the token.
		{"no key and no token", "", []byte(`{"signedEmailAddress":"c2ln"}`), parseKey},
		{"empty body", tok, nil, parseKey},
		{"P-224 key", tok, withKey([]byte(pubPEM(t, p224.Public())), proof), weakKey},
		{"RSA-1024 key", tok, withKey([]byte(pubPEM(t, rsa1024.Public())), proof), weakKey},
		{"CSR of a P-224 key", tok, withCSR(csrP224), weakKey},
		{"CSR that does not parse", tok, withCSR([]byte("not a CSR")), parseCSR},
		{"truncated JSON", tok, []byte(`{"publicKey":`), "unexpected EOF"},
		{"malformed JSON", tok, []byte(`{publicKey}`), "invalid character 'p' looking for beginning of object key string"},
		{"not an object", tok, []byte(`["publicKey"]`), "proto:syntax error (line 1:1): unexpected token ["},
		{"bad base64", tok, []byte(`{"publicKey":{"content":"LS0t"},"signedEmailAddress":"%%%"}`), `proto:(line 1:54): invalid value for bytes field signedEmailAddress: "%%%"`},
		{"number for bytes", tok, []byte(`{"publicKey":{"content":5}}`), "proto:(line 1:25): invalid value for bytes field content: 5"},
		{"duplicate field", tok, []byte(`{"signedEmailAddress":"c2ln","signedEmailAddress":"c2ln"}`), `proto:(line 1:30): duplicate field "signedEmailAddress"`},
		{"oversize body", tok, []byte(`{"signedEmailAddress":"` + strings.Repeat("A", MaxRequestSize) + `"}`), "http: request body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postLegacy(t, e, tc.token, tc.body)
			checkLegacyError(t, resp, body, http.StatusBadRequest, 3, tc.want)
		})
	}
}

// checkLegacyError checks an error answer as Fulcio's gateway writes it: the status, JSON, and
// {"code":N,"message":"...","details":[]} with nothing after it.
func checkLegacyError(t *testing.T, resp *http.Response, body string, status, code int, want string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d %q %s, want %d", resp.StatusCode, resp.Header.Get("Content-Type"), body, status)
	}
	var got struct {
		Code    int
		Message string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if end, ok := strings.CutPrefix(want, "proto:"); ok {
		msg, found := strings.CutPrefix(got.Message, "proto:")
		if !found || strings.TrimLeft(msg, " \u00a0") != end {
			t.Fatalf("message %q, want protobuf's %q", got.Message, end)
		}
	} else if got.Message != want {
		t.Fatalf("message %q, want %q", got.Message, want)
	}
	message, _ := json.Marshal(got.Message)
	if want := fmt.Sprintf(`{"code":%d,"message":%s,"details":[]}`, code, message); body != want {
		t.Fatalf("error body %q, want %q", body, want)
	}
}

func FuzzParseLegacySigningCertRequest(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	body, _ := json.Marshal(imageRequest{PublicKey: imageKey{Content: der, Algorithm: "ecdsa"}, SignedEmailAddress: []byte("sig")})
	f.Add(body)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	body, _ = json.Marshal(map[string]any{"certificateSigningRequest": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})})
	f.Add(body)
	f.Add([]byte(`{"publicKey":{}}`))
	f.Add([]byte(`{"publicKey":null,"x":[1,{"y":2}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		proof, err := ParseLegacySigningCertRequest(bytes.NewReader(body))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error %v wraps neither ErrBadRequest nor ErrUnsupportedKey", err)
			}
			return
		}
		if proof.PublicKey != nil || (len(proof.CSR) > 0 && (proof.PublicKeyContent != nil || proof.Signature != nil)) {
			t.Fatalf("proof %+v mixes a CSR with a key", proof)
		}
	})
}

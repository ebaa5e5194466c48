package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
)

func FuzzParseSigningCertRequest(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	pk := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	body, _ := json.Marshal(map[string]any{"credentials": map[string]string{"oidcIdentityToken": "a.b.c"},
		"publicKeyRequest": map[string]any{"publicKey": map[string]string{"content": pk}, "proofOfPossession": []byte("sig")}})
	f.Add(body, "")
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	body, _ = json.Marshal(map[string]any{"credentials": map[string]string{"oidcIdentityToken": "a.b.c"},
		"certificateSigningRequest": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})})
	f.Add(body, "")
	f.Add([]byte(`{"credentials":{}}`), "a.b.c")
	f.Fuzz(func(t *testing.T, body []byte, bearer string) {
		token, proof, err := ParseSigningCertRequest(body, bearer)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error %v wraps neither ErrBadRequest nor ErrUnsupportedKey", err)
			}
			return
		}
		if token == "" || (proof.PublicKey == nil) == (len(proof.CSR) == 0) {
			t.Fatalf("accepted a request without a token or with %v key and %d CSR bytes", proof.PublicKey, len(proof.CSR))
		}
		if proof.PublicKey != nil {
			if err := CheckPublicKey(proof.PublicKey); err != nil {
				t.Fatalf("accepted key refused by CheckPublicKey: %v", err)
			}
		} else {
			_, _ = ParseCSR(proof.CSR)
		}
	})
}

func FuzzUnverifiedIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2EuZXhhbXBsZSJ9.c2ln")
	f.Add("..")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		iss, err := unverifiedIssuer(token)
		if err == nil && iss == "" {
			t.Fatal("empty issuer accepted")
		}
		if err != nil && !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %v does not wrap ErrInvalidToken", err)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("issuers:\n  - url: https://a.example\n    type: email\n"))
	f.Add([]byte("issuers:\n  - url: http://127.0.0.1:1\n    client-id: x\n    type: username\n    subject-domain: d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		for _, ic := range c.Issuers {
			if _, err := CheckIssuerURL(ic.URL); err != nil {
				t.Fatalf("accepted issuer URL %q: %v", ic.URL, err)
			}
		}
	})
}

func FuzzParseIssuerFlag(f *testing.F) {
	f.Add("https://a.example,client-id=sigstore,type=email")
	f.Add("http://localhost:1,type=username,subject-domain=x")
	f.Fuzz(func(t *testing.T, s string) {
		ic, err := ParseIssuerFlag(s)
		if err != nil {
			return
		}
		if ic.ClientID == "" || ic.Type == "" {
			t.Fatalf("defaults not applied: %+v", ic)
		}
	})
}

package rekortypes

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

func pemKey(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func selfSigned(t *testing.T, priv *ecdsa.PrivateKey, email, uri string) []byte {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1700000600, 0),
		EmailAddresses: []string{email}, URIs: []*url.URL{u},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func mustInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error naming %q", want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not wrap ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %q", err, want)
	}
}

func TestHashedRekord(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("artifact"))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string][]byte{
		"key":  pemKey(t, &priv.PublicKey),
		"cert": selfSigned(t, priv, "Alice@Example.com", "https://example.com/Workflow"),
	} {
		t.Run(name, func(t *testing.T) {
			proposed, err := ProposeHashedRekord(digest[:], sig, key)
			if err != nil {
				t.Fatal(err)
			}
			e, err := Canonicalize(proposed, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != "hashedrekord" || e.APIVersion != "0.0.1" {
				t.Fatalf("kind %s %s", e.Kind, e.APIVersion)
			}
			p, err := Parse(e.Body)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(p.IndexKeys, " ") != strings.Join(e.IndexKeys, " ") {
				t.Fatalf("Parse keys %v, Canonicalize keys %v", p.IndexKeys, e.IndexKeys)
			}
			pkKey, err := PublicKeyIndexKey("x509", key)
			if err != nil {
				t.Fatal(err)
			}
			hashKey, _ := HashIndexKey(strings.ToUpper(hexOf(digest[:])))
			want := []string{pkKey}
			if name == "cert" {
				want = append(want, "alice@example.com", "https://example.com/workflow")
			}
			want = append(want, hashKey)
			if strings.Join(e.IndexKeys, " ") != strings.Join(want, " ") {
				t.Fatalf("index keys %v, want %v", e.IndexKeys, want)
			}
		})
	}

	t.Run("ed25519ph over sha512", func(t *testing.T) {
		pub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		d := sha512.Sum512([]byte("artifact"))
		s, err := edPriv.Sign(nil, d[:], &ed25519.Options{Hash: crypto.SHA512})
		if err != nil {
			t.Fatal(err)
		}
		body := `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha512","value":"` + hexOf(d[:]) + `"}},"signature":{"content":"` + b64(s) + `","publicKey":{"content":"` + b64(pemKey(t, pub)) + `"}}}}`
		if _, err := Canonicalize([]byte(body), Limits{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wrongKey, _ := ProposeHashedRekord(digest[:], sig, pemKey(t, &other.PublicKey))
		_, err := Canonicalize(wrongKey, Limits{})
		mustInvalid(t, err, "signature does not verify")

		good, _ := ProposeHashedRekord(digest[:], sig, pemKey(t, &priv.PublicKey))
		_, err = Canonicalize(good, Limits{MaxBody: 100})
		mustInvalid(t, err, "exceeds the limit of 100")

		_, err = Canonicalize([]byte(`{"kind":"hashedrekord",`), Limits{})
		mustInvalid(t, err, "not JSON")

		_, err = Canonicalize([]byte(`{"kind":"helm","apiVersion":"0.0.1","spec":{}}`), Limits{})
		mustInvalid(t, err, `unknown kind "helm" (accepted: hashedrekord 0.0.1`)

		_, err = Canonicalize([]byte(strings.Replace(string(good), `"0.0.1"`, `"0.0.2"`, 1)), Limits{})
		mustInvalid(t, err, `hashedrekord apiVersion "0.0.2" is not accepted`)

		withURL := strings.Replace(string(good), `"publicKey":{`, `"publicKey":{"url":"https://example.com/key",`, 1)
		_, err = Canonicalize([]byte(withURL), Limits{})
		mustInvalid(t, err, "spec.signature.publicKey.url")

		sha1ish := strings.Replace(string(good), `"sha256"`, `"sha1"`, 1)
		_, err = Canonicalize([]byte(sha1ish), Limits{})
		mustInvalid(t, err, `spec.data.hash.algorithm "sha1" is not accepted`)

		otherCert := selfSigned(t, other, "eve@example.com", "https://example.com/eve")
		chain := append(selfSigned(t, priv, "alice@example.com", "https://example.com/a"), otherCert...)
		unchained, _ := ProposeHashedRekord(digest[:], sig, chain)
		_, err = Canonicalize(unchained, Limits{})
		mustInvalid(t, err, "x509 certificate chain does not verify")

		_, err = Parse(append([]byte(" "), good...))
		mustInvalid(t, err, "not in canonical")
	})
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// p256KeyPKCS8 returns a new P-256 key and its PKCS#8 DER.
func p256KeyPKCS8(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, der
}

func FuzzLoadEncryptedPrivateKey(f *testing.F) {
	_, der := p256KeyPKCS8(f)
	// Legacy scrypt parameters keep each execution that reaches key derivation cheaper.
	enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte("pw"), encrypted.Legacy)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: enc}), []byte("pw"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: CosignPrivateKeyPEMType, Bytes: enc}), []byte("wrong"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: []byte(`{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":""},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}`)}), []byte{})
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte{})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, data, password []byte) {
		s, err := LoadEncryptedPrivateKey(data, password)
		if err != nil {
			if s != nil {
				t.Fatal("signer returned with an error")
			}
			return
		}
		digest := digestOf(s.HashFunc(), data)
		sig, err := s.SignDigest(context.Background(), digest)
		if err != nil {
			t.Fatalf("loaded key cannot sign: %v", err)
		}
		verifyDigest(t, s.Public(), s.HashFunc(), digest, sig)
	})
}

// FuzzParseEncryptedKey covers everything LoadEncryptedPrivateKey checks before key derivation,
// fast enough to explore the format (FuzzLoadEncryptedPrivateKey pays for scrypt on every input
// that passes these checks).
func FuzzParseEncryptedKey(f *testing.F) {
	_, der := p256KeyPKCS8(f)
	enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte("pw"), encrypted.Legacy)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: enc}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: CosignPrivateKeyPEMType, Bytes: []byte(`{"kdf":{"name":"scrypt","params":{"N":131072,"r":8,"p":1}},"cipher":{"name":"nacl/secretbox"}}`)}))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := parseEncryptedKeyPEM(data)
		if err != nil {
			return
		}
		var doc encryptedKeyJSON
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("accepted body does not parse: %v", err)
		}
		if !knownScryptParams(doc.KDF.Params.N, doc.KDF.Params.R, doc.KDF.Params.P) || len(doc.Cipher.Nonce) != 24 {
			t.Fatalf("accepted parameters %+v", doc)
		}
	})
}

func FuzzParsePublicKeyPEM(f *testing.F) {
	priv, _ := p256KeyPKCS8(f)
	pubPEM, err := MarshalPublicKeyPEM(priv.Public())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pubPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"))
	f.Add([]byte("not pem"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ParsePublicKeyPEM(data)
		if err != nil {
			return
		}
		if _, _, err := AlgorithmFor(pub); err != nil {
			t.Fatalf("parsed key has no algorithm: %v", err)
		}
		if _, err := MarshalPublicKeyPEM(pub); err != nil {
			t.Fatalf("parsed key does not marshal: %v", err)
		}
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	priv, der := p256KeyPKCS8(f)
	sec1, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateKeyPEM(data)
		if err != nil {
			return
		}
		s, err := NewSigner(key)
		if err != nil {
			t.Fatalf("parsed key is refused by NewSigner: %v", err)
		}
		if _, ok := key.(crypto.Signer); !ok {
			t.Fatalf("parsed key %T is not a crypto.Signer", key)
		}
		_ = s.Algorithm()
	})
}

func FuzzParsePluginOutput(f *testing.F) {
	f.Add([]byte(`{"publicKey":{"publicKeyPEM":"LS0tLS1CRUdJTg=="}}`), false, 0, "")
	f.Add([]byte(`{"errorMessage":"sealed"}`), false, 1, "panic")
	f.Add([]byte(`not json`), false, 0, "")
	f.Add([]byte(``), false, 2, "boom")
	f.Add([]byte(`{"signMessage":{"signature":"!!"}}`), true, 0, "")
	f.Fuzz(func(t *testing.T, stdout []byte, truncated bool, exitCode int, stderr string) {
		resp, err := parsePluginOutput("plugin", stdout, truncated, exitCode, stderr)
		if err != nil {
			if resp != nil || !errors.Is(err, ErrPlugin) {
				t.Fatalf("error %v with response %v, or not ErrPlugin", err, resp)
			}
			return
		}
		if truncated || exitCode != 0 || resp.ErrorMessage != "" {
			t.Fatalf("accepted truncated=%v exit=%d error=%q", truncated, exitCode, resp.ErrorMessage)
		}
	})
}

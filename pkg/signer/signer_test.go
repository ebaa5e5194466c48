package signer

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// verifyDigest checks sig over digest with pub, as a verifier of the Sigstore algorithm does.
func verifyDigest(t *testing.T, pub crypto.PublicKey, hash crypto.Hash, digest, sig []byte) {
	t.Helper()
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			t.Fatal("ECDSA signature does not verify")
		}
	case ed25519.PublicKey:
		if err := ed25519.VerifyWithOptions(k, digest, sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
			t.Fatalf("Ed25519ph signature does not verify: %v", err)
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, hash, digest, sig); err != nil {
			t.Fatalf("RSA PKCS#1 v1.5 signature does not verify: %v", err)
		}
	default:
		t.Fatalf("unexpected public key %T", pub)
	}
}

func digestOf(h crypto.Hash, msg []byte) []byte {
	w := h.New()
	w.Write(msg)
	return w.Sum(nil)
}

func TestGenerateSignVerify(t *testing.T) {
	tests := []struct {
		alg      string
		wantAlg  protocommon.PublicKeyDetails
		wantHash crypto.Hash
	}{
		{"", protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, crypto.SHA256},
		{"ecdsa-p256", protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, crypto.SHA256},
		{"ecdsa-sha2-384-nistp384", protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384, crypto.SHA384},
		{"ecdsa-p521", protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, crypto.SHA512},
		{"ed25519", protocommon.PublicKeyDetails_PKIX_ED25519_PH, crypto.SHA512},
		{"rsa-2048", protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256, crypto.SHA256},
		{"rsa-sign-pkcs1-3072-sha256", protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256, crypto.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			priv, err := GenerateKey(tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSigner(priv)
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tc.wantAlg || s.HashFunc() != tc.wantHash {
				t.Fatalf("got %v/%v, want %v/%v", s.Algorithm(), s.HashFunc(), tc.wantAlg, tc.wantHash)
			}
			alg, hash, err := AlgorithmFor(s.Public())
			if err != nil || alg != tc.wantAlg || hash != tc.wantHash {
				t.Fatalf("AlgorithmFor = %v/%v/%v", alg, hash, err)
			}
			digest := digestOf(s.HashFunc(), []byte("payload"))
			sig, err := s.SignDigest(context.Background(), digest)
			if err != nil {
				t.Fatal(err)
			}
			verifyDigest(t, s.Public(), s.HashFunc(), digest, sig)

			// A digest of the wrong size is refused before signing.
			_, err = s.SignDigest(context.Background(), digest[:10])
			if err == nil || !strings.Contains(err.Error(), "digest of 10 bytes given") {
				t.Fatalf("short digest: err = %v", err)
			}
		})
	}
}

func TestEd25519SignsPrehashed(t *testing.T) {
	priv, err := GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("artifact bytes")
	h := sha512.Sum512(msg)
	sig, err := s.SignDigest(context.Background(), h[:])
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(ed25519.PublicKey)
	if err := ed25519.VerifyWithOptions(pub, h[:], sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
		t.Fatalf("Ed25519ph verification: %v", err)
	}
	// The signature is not a pure Ed25519 signature over the digest or the message.
	if ed25519.Verify(pub, h[:], sig) || ed25519.Verify(pub, msg, sig) {
		t.Fatal("signature verifies as pure Ed25519; Ed25519ph expected")
	}
}

func TestUnsupportedKeys(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2560, err := rsa.GenerateKey(rand.Reader, 2560)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  crypto.PrivateKey
		want string
	}{
		{"P-224", p224, "ECDSA curve P-224: P-256, P-384 or P-521 required"},
		{"RSA-1024", rsa1024, "RSA key of 1024 bits is too small: at least 2048 required"},
		{"RSA-2560", rsa2560, "RSA key of 2560 bits: 2048, 3072 or 4096 bits required"},
		{"X25519", x25519, "*ecdh.PrivateKey"},
		{"nil", nil, "unsupported key"},
		{"short ed25519", ed25519.PrivateKey(make([]byte, 12)), "Ed25519 private key of 12 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.key)
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("err = %v, want ErrUnsupportedKey", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
			if _, err := MarshalEncryptedPrivateKey(tc.key, []byte("pw")); !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("MarshalEncryptedPrivateKey err = %v, want ErrUnsupportedKey", err)
			}
		})
	}
	if _, err := GenerateKey("dsa-1024"); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), `"dsa-1024"`) {
		t.Fatalf("GenerateKey(dsa-1024) err = %v", err)
	}
}

func TestGenerateEphemeral(t *testing.T) {
	a, err := GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	if a.Algorithm() != protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256 {
		t.Fatalf("ephemeral algorithm %v", a.Algorithm())
	}
	if a.Public().(*ecdsa.PublicKey).Equal(b.Public()) {
		t.Fatal("two ephemeral keys are equal")
	}
}

func TestSignDigestHonoursContext(t *testing.T) {
	s, err := GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := sha256.Sum256([]byte("x"))
	if _, err := s.SignDigest(ctx, d[:]); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestAsCryptoSignerCreatesCertificate(t *testing.T) {
	for _, alg := range []string{"ecdsa-p384", "ed25519", "rsa-2048"} {
		t.Run(alg, func(t *testing.T) {
			priv, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSigner(priv)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber:          big.NewInt(1),
				Subject:               pkix.Name{CommonName: "test CA"},
				NotBefore:             time.Now().Add(-time.Minute),
				NotAfter:              time.Now().Add(time.Hour),
				IsCA:                  true,
				BasicConstraintsValid: true,
				KeyUsage:              x509.KeyUsageCertSign,
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), AsCryptoSigner(s))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Fatalf("self-signed certificate does not verify: %v", err)
			}
		})
	}
}

// digestOnly hides the underlying key, as a KMS plugin signer does.
type digestOnly struct{ Signer }

func TestAsCryptoSignerDigestOnly(t *testing.T) {
	s, err := GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	cs := AsCryptoSigner(digestOnly{s})
	d := sha256.Sum256([]byte("x"))
	sig, err := cs.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	verifyDigest(t, cs.Public(), crypto.SHA256, d[:], sig)
	if _, err := cs.Sign(rand.Reader, d[:], crypto.SHA384); err == nil || !strings.Contains(err.Error(), "SHA-256 digests only, SHA-384 requested") {
		t.Fatalf("wrong hash: err = %v", err)
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	for _, alg := range []string{"ecdsa-p256", "ed25519", "rsa-2048"} {
		t.Run(alg, func(t *testing.T) {
			priv, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			pub := priv.(crypto.Signer).Public()
			pemBytes, err := MarshalPublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(pemBytes), "-----BEGIN PUBLIC KEY-----\n") {
				t.Fatalf("PEM = %q", pemBytes)
			}
			got, err := ParsePublicKeyPEM(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("public key changed in round trip")
			}
			// A certificate for the key yields the same key.
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
			if err != nil {
				t.Fatal(err)
			}
			got, err = ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
			if err != nil {
				t.Fatal(err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("certificate key differs")
			}
		})
	}
}

func TestParsePublicKeyPEMErrors(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der1024, err := x509.MarshalPKIXPublicKey(&rsa1024.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
		sentinel       error
	}{
		{"empty", "", "no PEM block found", nil},
		{"garbage", "not a key", "no PEM block found", nil},
		{"wrong type", "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", `PEM type "FOO"`, nil},
		{"bad DER", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "parsing PUBLIC KEY", nil},
		{"bad certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "parsing CERTIFICATE", nil},
		{"RSA-1024", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der1024})), "RSA key of 1024 bits is too small", ErrUnsupportedKey},
		{"private key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", "encrypted private key", ErrPasswordRequired},
		{"too large", strings.Repeat("A", maxKeyFileSize+1), "too large", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKeyPEM([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
		})
	}
}

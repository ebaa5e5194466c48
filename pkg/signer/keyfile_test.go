package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

func TestEncryptedKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{"ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519", "rsa-2048"} {
		t.Run(alg, func(t *testing.T) {
			priv, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			pemBytes, err := MarshalEncryptedPrivateKey(priv, []byte("correct horse"))
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pemBytes)
			if block == nil || block.Type != SigstorePrivateKeyPEMType {
				t.Fatalf("PEM block %v", block)
			}
			// The body is go-securesystemslib's JSON with the parameters cosign writes.
			var doc encryptedKeyJSON
			if err := json.Unmarshal(block.Bytes, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.KDF.Name != "scrypt" || doc.KDF.Params.N != 1<<16 || doc.KDF.Params.R != 8 || doc.KDF.Params.P != 1 || doc.Cipher.Name != "nacl/secretbox" {
				t.Fatalf("unexpected encryption parameters %+v", doc)
			}
			s, err := LoadEncryptedPrivateKey(pemBytes, []byte("correct horse"))
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.(crypto.Signer).Public()) {
				t.Fatal("loaded key differs")
			}
			digest := digestOf(s.HashFunc(), []byte("round trip"))
			sig, err := s.SignDigest(context.Background(), digest)
			if err != nil {
				t.Fatal(err)
			}
			verifyDigest(t, s.Public(), s.HashFunc(), digest, sig)

			_, err = LoadEncryptedPrivateKey(pemBytes, []byte("wrong"))
			if !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("wrong password: err = %v, want ErrWrongPassword", err)
			}
			if err.Error() != "decrypting private key: wrong password?" {
				t.Fatalf("wrong password message %q", err)
			}
		})
	}
}

// TestCosignWrittenKeyLoads builds key files exactly as cosign does (PKCS#8 DER encrypted with
// go-securesystemslib, both PEM types, standard and legacy scrypt parameters).
func TestCosignWrittenKeyLoads(t *testing.T) {
	priv, der := p256KeyPKCS8(t)
	standard, err := encrypted.Encrypt(der, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := encrypted.EncryptWithCustomKDFParameters(der, []byte("pw"), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := encrypted.Encrypt(der, []byte{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pemType string
		body          []byte
		password      string
	}{
		{"sigstore type", SigstorePrivateKeyPEMType, standard, "pw"},
		{"cosign type", CosignPrivateKeyPEMType, standard, "pw"},
		{"legacy scrypt", SigstorePrivateKeyPEMType, legacy, "pw"},
		{"empty password", SigstorePrivateKeyPEMType, empty, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := pem.EncodeToMemory(&pem.Block{Type: tc.pemType, Bytes: tc.body})
			s, err := LoadEncryptedPrivateKey(data, []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			if !priv.PublicKey.Equal(s.Public()) {
				t.Fatal("loaded key differs")
			}
		})
	}
	// And the reverse: what we write, go-securesystemslib (hence cosign) decrypts to PKCS#8.
	ours, err := MarshalEncryptedPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(ours)
	plain, err := encrypted.Decrypt(block.Bytes, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Equal(back) {
		t.Fatal("go-securesystemslib decrypts another key")
	}
}

func TestLoadEncryptedPrivateKeyMalformed(t *testing.T) {
	wrap := func(typ, body string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: []byte(body)})
	}
	good := `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}`
	rsaKey := rsaPKCS1PEM(t, 2048)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no PEM block found"},
		{"not PEM", []byte("hello"), "no PEM block found"},
		{"unencrypted key", rsaKey, `PEM type "RSA PRIVATE KEY"`},
		{"bad JSON", wrap(SigstorePrivateKeyPEMType, "{"), "parsing encrypted private key"},
		{"unknown kdf", wrap(SigstorePrivateKeyPEMType, strings.Replace(good, `"scrypt"`, `"argon2"`, 1)), `key derivation "argon2"`},
		{"huge scrypt N", wrap(SigstorePrivateKeyPEMType, strings.Replace(good, "65536", "1073741824", 1)), "scrypt parameters N=1073741824 r=8 p=1 are not supported"},
		{"unknown cipher", wrap(SigstorePrivateKeyPEMType, strings.Replace(good, "nacl/secretbox", "aes", 1)), `cipher "aes"`},
		{"short nonce", wrap(SigstorePrivateKeyPEMType, strings.Replace(good, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAA", 1)), "nonce of 3 bytes, 24 required"},
		{"no ciphertext", wrap(SigstorePrivateKeyPEMType, strings.Replace(good, `"ciphertext":"AAAA"`, `"ciphertext":""`, 1)), "empty ciphertext"},
		{"too large", make([]byte, maxKeyFileSize+1), "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadEncryptedPrivateKey(tc.in, []byte("pw"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadEncryptedPrivateKeyUnsupportedInside(t *testing.T) {
	// An encrypted file holding a key of a type Sigstore does not sign with (X25519, RSA-1024).
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]any{"X25519": x, "RSA-1024": small} {
		t.Run(name, func(t *testing.T) {
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte("pw"), encrypted.Legacy)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadEncryptedPrivateKey(pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: enc}), []byte("pw"))
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("err = %v, want ErrUnsupportedKey", err)
			}
		})
	}
}

func rsaPKCS1PEM(t *testing.T, bits int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := GenerateKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xDER, err := x509.MarshalPKCS8PrivateKey(x)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name     string
		in       []byte
		want     string // error substring; empty for success
		sentinel error
	}{
		{"PKCS#8 ECDSA", block("PRIVATE KEY", ecDER), "", nil},
		{"SEC1 ECDSA", block("EC PRIVATE KEY", sec1), "", nil},
		{"PKCS#1 RSA", rsaPKCS1PEM(t, 2048), "", nil},
		{"PKCS#8 Ed25519", block("PRIVATE KEY", edDER), "", nil},
		{"PKCS#1 RSA-1024", rsaPKCS1PEM(t, 1024), "RSA key of 1024 bits is too small: at least 2048 required", ErrUnsupportedKey},
		{"PKCS#8 X25519", block("PRIVATE KEY", xDER), "*ecdh.PrivateKey", ErrUnsupportedKey},
		{"SEC1 P-224", block("EC PRIVATE KEY", p224DER), "ECDSA curve P-224", ErrUnsupportedKey},
		{"bad DER", block("PRIVATE KEY", []byte{1, 2, 3}), "parsing PRIVATE KEY", nil},
		{"wrong type", block("CERTIFICATE", []byte{1}), `PEM type "CERTIFICATE"`, nil},
		{"encrypted", block(SigstorePrivateKeyPEMType, []byte("{}")), "already an encrypted cosign key", nil},
		{"no PEM", []byte("junk"), "no PEM block found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			priv, err := ParsePrivateKeyPEM(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := NewSigner(priv); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
		})
	}
}

func TestLoadSignerAndPublicKeyFromFiles(t *testing.T) {
	dir := t.TempDir()
	priv, err := GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := MarshalEncryptedPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.(crypto.Signer).Public()
	pubPEM, err := MarshalPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, pubPath := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pw := func(string) PasswordFunc {
		return func(bool) ([]byte, error) { return []byte("pw"), nil }
	}
	s, err := LoadSigner(ctx, keyPath, pw(""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadPublicKey(ctx, pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Public().(*ecdsa.PublicKey).Equal(got) {
		t.Fatal("public key file and signer differ")
	}

	if _, err := LoadPublicKey(ctx, keyPath); !errors.Is(err, ErrPasswordRequired) {
		t.Fatalf("LoadPublicKey(private key) err = %v, want ErrPasswordRequired", err)
	}
	_, err = LoadSigner(ctx, keyPath, func(bool) ([]byte, error) { return []byte("nope"), nil })
	if !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), keyPath) {
		t.Fatalf("wrong password err = %v", err)
	}
	_, err = LoadSigner(ctx, keyPath, func(bool) ([]byte, error) { return nil, errors.New("no terminal") })
	if err == nil || !strings.Contains(err.Error(), "reading password for "+keyPath+": no terminal") {
		t.Fatalf("password func error: err = %v", err)
	}
	_, err = LoadSigner(ctx, filepath.Join(dir, "missing.key"), pw(""))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
	if _, err := LoadSigner(ctx, "", nil); err == nil || !strings.Contains(err.Error(), "no key given") {
		t.Fatalf("empty ref: err = %v", err)
	}
}

// testKeyFile returns a P-256 key and its key file as go-securesystemslib writes it with
// the given scrypt strength.
func testKeyFile(t *testing.T, level encrypted.KDFParameterStrength, password string) (*ecdsa.PrivateKey, encryptedKeyJSON) {
	t.Helper()
	priv, der := p256KeyPKCS8(t)
	body, err := encrypted.EncryptWithCustomKDFParameters(der, []byte(password), level)
	if err != nil {
		t.Fatal(err)
	}
	var doc encryptedKeyJSON
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return priv, doc
}

// keyFilePEM encodes doc as a key file.
func keyFilePEM(t *testing.T, doc encryptedKeyJSON) []byte {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: body})
}

// TestDecryptPrivateKeyKDFLevels decrypts files written with each scrypt strength
// go-securesystemslib offers, and checks that a wrong password (at every strength) or any change
// to what the key derivation or the cipher reads (legacy strength) is refused as a wrong
// password.
func TestDecryptPrivateKeyKDFLevels(t *testing.T) {
	levels := []struct {
		name  string
		level encrypted.KDFParameterStrength
		n     int
	}{
		{"legacy", encrypted.Legacy, 1 << 15},
		{"standard", encrypted.Standard, 1 << 16},
		{"OWASP", encrypted.OWASP, 1 << 17},
	}
	for _, lv := range levels {
		t.Run(lv.name, func(t *testing.T) {
			if testing.Short() && lv.n > 1<<15 {
				t.Skip("full-size scrypt")
			}
			priv, doc := testKeyFile(t, lv.level, "s3cret pässword")
			if doc.KDF.Params.N != lv.n {
				t.Fatalf("go-securesystemslib wrote N=%d, want %d", doc.KDF.Params.N, lv.n)
			}
			got, err := decryptPrivateKey(keyFilePEM(t, doc), []byte("s3cret pässword"))
			if err != nil {
				t.Fatal(err)
			}
			if !priv.Equal(got) {
				t.Fatal("decrypted another key")
			}

			flip := func(b []byte) []byte {
				c := bytes.Clone(b)
				c[len(c)/2] ^= 1
				return c
			}
			tampered := []struct {
				name     string
				password string
				change   func(d *encryptedKeyJSON)
			}{
				{"wrong password", "s3cret password", func(*encryptedKeyJSON) {}},
				{"empty password", "", func(*encryptedKeyJSON) {}},
				{"salt changed", "s3cret pässword", func(d *encryptedKeyJSON) { d.KDF.Salt = flip(d.KDF.Salt) }},
				{"nonce changed", "s3cret pässword", func(d *encryptedKeyJSON) { d.Cipher.Nonce = flip(d.Cipher.Nonce) }},
				{"ciphertext changed", "s3cret pässword", func(d *encryptedKeyJSON) { d.Ciphertext = flip(d.Ciphertext) }},
				{"ciphertext truncated", "s3cret pässword", func(d *encryptedKeyJSON) { d.Ciphertext = d.Ciphertext[:10] }},
				{"other scrypt N", "s3cret pässword", func(d *encryptedKeyJSON) {
					d.KDF.Params.N = map[int]int{1 << 15: 1 << 16, 1 << 16: 1 << 15, 1 << 17: 1 << 15}[d.KDF.Params.N]
				}},
			}
			if lv.level != encrypted.Legacy {
				tampered = tampered[:1] // the other changes do not depend on N; spare the time
			}
			for _, tc := range tampered {
				t.Run(tc.name, func(t *testing.T) {
					d := doc
					tc.change(&d)
					key, err := decryptPrivateKey(keyFilePEM(t, d), []byte(tc.password))
					if !errors.Is(err, ErrWrongPassword) || err.Error() != "decrypting private key: wrong password?" {
						t.Fatalf("err = %v, want %q", err, "decrypting private key: wrong password?")
					}
					if key != nil {
						t.Fatal("key returned with an error")
					}
				})
			}
		})
	}
}

// TestDecryptPrivateKeyMemory checks that opening a key file with cosign's default parameters
// (N=2^16, r=8: 64 MiB of scrypt state if derived with a full table) allocates at most about
// 9 MiB.
func TestDecryptPrivateKeyMemory(t *testing.T) {
	priv, doc := testKeyFile(t, encrypted.Standard, "pw")
	data := keyFilePEM(t, doc)
	var got crypto.PrivateKey
	var err error
	grew := allocatedBy(t, func() { got, err = decryptPrivateKey(data, []byte("pw")) })
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Equal(got) {
		t.Fatal("decrypted another key")
	}
	const limit = 9 << 20
	if grew > limit {
		t.Fatalf("decryptPrivateKey(N=2^16) allocated %d bytes, more than %d", grew, limit)
	}
}

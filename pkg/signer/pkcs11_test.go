package signer

import (
	"context"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // a DSA key on the token must be refused
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

func TestPKCS11GenerateSignVerify(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	tests := []struct {
		alg  string
		want protocommon.PublicKeyDetails
	}{
		{"", protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256},
		{"ecdsa-p384", protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384},
		{"rsa-sign-pkcs1-2048-sha256", protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256},
	}
	for _, tc := range tests {
		t.Run("alg="+tc.alg, func(t *testing.T) {
			ref := keyURI("release-"+tc.alg, testPIN)
			pub, err := CreateKey(ctx, ref, tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			// The exported public key, as public-key writes it, verifies what the token signs.
			pubPEM, err := MarshalPublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			exported, err := ParsePublicKeyPEM(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			s, err := LoadSigner(ctx, ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tc.want {
				t.Fatalf("algorithm %v, want %v", s.Algorithm(), tc.want)
			}
			digest := digestOf(s.HashFunc(), []byte("image manifest"))
			sig, err := s.SignDigest(ctx, digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyDigest(exported, digest, sig); err != nil {
				t.Fatalf("token signature does not verify with the exported key: %v", err)
			}
			digest[0] ^= 1
			if err := VerifyDigest(exported, digest, sig); err == nil {
				t.Fatal("signature verifies over another digest")
			}
			got, err := LoadPublicKey(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(exported) {
				t.Fatal("LoadPublicKey differs from the created key")
			}
			// Creating the same key again never replaces it.
			_, err = CreateKey(ctx, ref, tc.alg)
			if err == nil || !strings.Contains(err.Error(), `key "release-`+tc.alg+`" already exists on token "signing"`) {
				t.Fatalf("second CreateKey: err = %v", err)
			}
		})
	}
}

func TestPKCS11CAKeyIssuesCertificate(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	ref := keyURI("intermediate", testPIN)
	if _, err := CreateKey(ctx, ref, "ecdsa-p384"); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "HSM intermediate"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
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
		t.Fatalf("certificate signed on the token does not verify: %v", err)
	}
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(s.Public()) {
		t.Fatal("certificate key differs")
	}
}

func TestPKCS11Refusals(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	if _, err := CreateKey(ctx, keyURI("release", testPIN), ""); err != nil {
		t.Fatal(err)
	}
	// An RSA-1024 key put on the token by another tool.
	c, err := resolvePKCS11(keyURI("old-rsa", testPIN), applyOptions(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	p11, err := pkcs11Sessions.openToken(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p11.GenerateRSAKeyPairWithLabel([]byte{1, 2, 3}, []byte("old-rsa"), 1024); err != nil {
		t.Fatal(err)
	}
	var params dsa.Parameters
	if err := dsa.GenerateParameters(&params, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if _, err := p11.GenerateDSAKeyPairWithLabel([]byte{4, 5, 6}, []byte("dsa"), &params); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ref      string
		opts     []Option
		want     string
		sentinel error
	}{
		{"missing object", keyURI("absent", testPIN), nil, `no key "absent" on token "signing"`, ErrKeyNotFound},
		{"missing id", "pkcs11:token=signing;id=%ff%ee?module-path=" + softHSMModule + "&pin-value=1234", nil, `no key "id ffee" on token "signing"`, ErrKeyNotFound},
		{"missing token", "pkcs11:token=nosuch;object=release?module-path=" + softHSMModule + "&pin-value=1234", nil,
			`no token "nosuch" in PKCS#11 module ` + softHSMModule + ` (tokens: "signing"`, ErrTokenNotFound},
		{"wrong PIN while logged in", keyURI("release", "9999"), nil, `token "signing": PIN incorrect`, ErrPINIncorrect},
		{"unsupported key", keyURI("old-rsa", testPIN), nil, `key "old-rsa" on token "signing": unsupported key: RSA key of 1024 bits is too small: at least 2048 required`, ErrUnsupportedKey},
		{"DSA key", keyURI("dsa", testPIN), nil, `key "dsa" on token "signing": unsupported key: *dsa.PublicKey`, ErrUnsupportedKey},
		{"no PIN", keyURI("release", ""), nil, `token "signing" needs a PIN`, ErrPINRequired},
		{"PIN twice", keyURI("release", testPIN), []Option{WithPKCS11PIN("4321")}, "PIN given twice with different values", ErrPINConflict},
		{"no module", "pkcs11:token=signing;object=release?pin-value=1234", nil, "no PKCS#11 module: give module-path in the URI or set COSIGN_PKCS11_MODULE_PATH", nil},
		{"module missing", "pkcs11:token=signing;object=release?module-path=/nonexistent/libnone.so&pin-value=1234", nil, "PKCS#11 module: stat /nonexistent/libnone.so: no such file", nil},
		{"relative module", "pkcs11:token=signing;object=release?module-path=libsofthsm2.so&pin-value=1234", nil, `PKCS#11 module path "libsofthsm2.so" is not absolute`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadSigner(ctx, tc.ref, nil, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.sentinel)
			}
		})
	}
	// Naming the same token by slot-id does not open a second login that would take any PIN.
	tokens, err := ListPKCS11Tokens(ctx, softHSMModule)
	if err != nil {
		t.Fatal(err)
	}
	var slot uint
	for _, tk := range tokens {
		if tk.Label == testTokenLabel {
			slot = tk.Slot
		}
	}
	bySlot := fmt.Sprintf("pkcs11:slot-id=%d;object=release?module-path=%s", slot, softHSMModule)
	if _, err := LoadSigner(ctx, bySlot+"&pin-value=9999", nil); !errors.Is(err, ErrPINIncorrect) {
		t.Fatalf("wrong PIN by slot-id: err = %v", err)
	}
	if _, err := LoadSigner(ctx, bySlot+"&pin-value="+testPIN, nil); err != nil {
		t.Fatalf("right PIN by slot-id: %v", err)
	}
	mismatch := fmt.Sprintf("pkcs11:token=signing;slot-id=%d;object=release?module-path=%s&pin-value=1234", slot+1000, softHSMModule)
	if _, err := LoadSigner(ctx, mismatch, nil); !errors.Is(err, ErrTokenNotFound) {
		t.Fatalf("token and slot-id of different tokens: err = %v", err)
	}
	// A wrong PIN on a fresh login is refused by the token itself.
	if err := ClosePKCS11(); err != nil {
		t.Fatal(err)
	}
	_, err = LoadSigner(ctx, keyURI("release", "9999"), nil)
	if !errors.Is(err, ErrPINIncorrect) || !strings.Contains(err.Error(), `token "signing": PIN incorrect`) {
		t.Fatalf("wrong PIN on login: err = %v", err)
	}
	if _, err := CreateKey(ctx, keyURI("ed", testPIN), "ed25519"); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("Ed25519 on token: err = %v", err)
	}
	if _, err := CreateKey(ctx, "pkcs11:token=signing;id=%01?module-path="+softHSMModule+"&pin-value=1234", ""); err == nil || !strings.Contains(err.Error(), "object= is required") {
		t.Fatalf("create without object: err = %v", err)
	}
}

func TestPKCS11PINAndModuleFromEnvironment(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	if _, err := CreateKey(ctx, keyURI("release", testPIN), ""); err != nil {
		t.Fatal(err)
	}
	if err := ClosePKCS11(); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPKCS11PIN, testPIN)
	t.Setenv(EnvPKCS11ModulePath, softHSMModule)
	s, err := LoadSigner(ctx, "pkcs11:token=signing;object=release", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Public().(*ecdsa.PublicKey); !ok {
		t.Fatalf("public key %T", s.Public())
	}
	// --pin (WithPKCS11PIN) is used when the URI has none; it must be right.
	if err := ClosePKCS11(); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPKCS11PIN, "")
	if _, err := LoadSigner(ctx, "pkcs11:token=signing;object=release", nil, WithPKCS11PIN(testPIN)); err != nil {
		t.Fatal(err)
	}
	// The prompt is asked only when nothing else gives a PIN, and its failure is reported.
	if err := ClosePKCS11(); err != nil {
		t.Fatal(err)
	}
	asked := ""
	prompt := WithPKCS11PINPrompt(func(token string) (string, error) { asked = token; return testPIN, nil })
	if _, err := LoadSigner(ctx, "pkcs11:token=signing;object=release", nil, prompt); err != nil || asked != "signing" {
		t.Fatalf("prompted PIN: err = %v, asked for %q", err, asked)
	}
	asked = ""
	if _, err := LoadSigner(ctx, "pkcs11:token=signing;object=release", nil, prompt, WithPKCS11PIN(testPIN)); err != nil || asked != "" {
		t.Fatalf("--pin given: err = %v, prompt asked for %q", err, asked)
	}
	failing := WithPKCS11PINPrompt(func(string) (string, error) { return "", errors.New("no terminal") })
	if _, err := LoadSigner(ctx, "pkcs11:token=signing;object=release", nil, failing); err == nil ||
		!strings.Contains(err.Error(), `reading the PIN of token "signing": no terminal`) {
		t.Fatalf("failing prompt: err = %v", err)
	}
}

func TestPKCS11ListTokensAndKeys(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	for _, name := range []string{"b-key", "a-key"} {
		if _, err := CreateKey(ctx, keyURI(name, testPIN), ""); err != nil {
			t.Fatal(err)
		}
	}
	tokens, err := ListPKCS11Tokens(ctx, softHSMModule)
	if err != nil {
		t.Fatal(err)
	}
	var found *PKCS11Token
	for i := range tokens {
		if tokens[i].Label == testTokenLabel {
			found = &tokens[i]
		}
	}
	if found == nil || found.Manufacturer == "" {
		t.Fatalf("tokens = %+v, want one labelled %q", tokens, testTokenLabel)
	}
	keys, err := ListPKCS11Keys(ctx, "pkcs11:token=signing?module-path="+softHSMModule+"&pin-value="+testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Label != "a-key" || keys[1].Label != "b-key" || len(keys[0].ID) == 0 {
		t.Fatalf("keys = %+v", keys)
	}
	// Each listed URI loads its key, once the PIN is supplied.
	s, err := LoadSigner(ctx, keys[0].URI.String(), nil, WithPKCS11PIN(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(keys[0].URI.String(), "pin-value") {
		t.Fatal("listed URI carries the PIN")
	}
	if s.Algorithm() != protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256 {
		t.Fatal(s.Algorithm())
	}
	// Listed by slot, the URIs still name the token by label.
	bySlot, err := ListPKCS11Keys(ctx, fmt.Sprintf("pkcs11:slot-id=%d?module-path=%s", found.Slot, softHSMModule), WithPKCS11PIN(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	if len(bySlot) != 2 || bySlot[0].URI.Token != testTokenLabel {
		t.Fatalf("keys by slot = %+v", bySlot)
	}
	if _, err := LoadSigner(ctx, bySlot[1].URI.String(), nil, WithPKCS11PIN(testPIN)); err != nil {
		t.Fatal(err)
	}
	if _, err := ListPKCS11Tokens(ctx, "/nonexistent/lib.so"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing module: err = %v", err)
	}
}

func TestPKCS11SessionReuse(t *testing.T) {
	newSoftHSM(t)
	ctx := context.Background()
	ref := keyURI("release", testPIN)
	if _, err := CreateKey(ctx, ref, ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := LoadSigner(ctx, ref, nil); err != nil {
			t.Fatal(err)
		}
	}
	pkcs11Sessions.mu.Lock()
	n := len(pkcs11Sessions.tokens)
	pkcs11Sessions.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d open token contexts after repeated loads, want 1", n)
	}
	// Signers of one token sign concurrently over the shared session pool.
	s, err := LoadSigner(ctx, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			d := digestOf(s.HashFunc(), []byte{byte(i)})
			sig, err := s.SignDigest(ctx, d)
			if err == nil {
				err = VerifyDigest(s.Public(), d, sig)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

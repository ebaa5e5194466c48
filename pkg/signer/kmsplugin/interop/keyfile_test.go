package interop

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

// TestKeyFilesMatchSigstore checks key files both ways against sigstore's cryptoutils, the code
// cosign writes and reads cosign.key and cosign.pub with.
func TestKeyFilesMatchSigstore(t *testing.T) {
	pw := []byte("interop")
	pf := func(bool) ([]byte, error) { return pw, nil }
	gen := map[string]func() ([]byte, []byte, error){
		"ecdsa-p256": func() ([]byte, []byte, error) { return cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), pf) },
		"rsa-2048":   func() ([]byte, []byte, error) { return cryptoutils.GeneratePEMEncodedRSAKeyPair(2048, pf) },
	}
	for name, g := range gen {
		t.Run(name, func(t *testing.T) {
			privPEM, pubPEM, err := g()
			if err != nil {
				t.Fatal(err)
			}
			// Theirs read by us.
			s, err := signer.LoadEncryptedPrivateKey(privPEM, pw)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := signer.ParsePublicKeyPEM(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
				t.Fatal("public key file and private key differ")
			}
			// Our public key PEM is byte for byte theirs.
			ours, err := signer.MarshalPublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, pubPEM) {
				t.Fatalf("public key PEM differs:\n%s\n%s", ours, pubPEM)
			}
			// Ours read by them.
			priv, err := signer.ParsePrivateKeyPEM(mustPEM(t, s))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := signer.MarshalEncryptedPrivateKey(priv, pw)
			if err != nil {
				t.Fatal(err)
			}
			back, err := cryptoutils.UnmarshalPEMToPrivateKey(enc, pf)
			if err != nil {
				t.Fatalf("sigstore cannot read our key file: %v", err)
			}
			if !back.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
				t.Fatal("sigstore reads another key from our file")
			}
		})
	}
}

// mustPEM re-encodes the signer's in-memory key as unencrypted PKCS#8 PEM (for the round trip).
func mustPEM(t *testing.T, s signer.Signer) []byte {
	t.Helper()
	out, err := cryptoutils.MarshalPrivateKeyToPEM(signer.AsCryptoSigner(s))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

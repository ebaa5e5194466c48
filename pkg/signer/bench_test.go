package signer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Signing benchmarks: a SoftHSM2 token key against a cosign key file, both ECDSA P-256. The
// warm pair measures one signature with the key already open (session reused); the cold pair
// measures what one `sign` process pays: opening the key (module load and login, or scrypt
// decryption) plus one signature.

func benchFileKey(b *testing.B) string {
	b.Helper()
	priv, err := GenerateKey("ecdsa-p256")
	if err != nil {
		b.Fatal(err)
	}
	pemBytes, err := MarshalEncryptedPrivateKey(priv, []byte("pw"))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "cosign.key")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchTokenKey(b *testing.B) string {
	b.Helper()
	newSoftHSM(b)
	ref := keyURI("bench", testPIN)
	if _, err := CreateKey(context.Background(), ref, "ecdsa-p256"); err != nil {
		b.Fatal(err)
	}
	return ref
}

func benchSign(b *testing.B, s Signer) {
	b.Helper()
	ctx := context.Background()
	digest := digestOf(s.HashFunc(), []byte("manifest"))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.SignDigest(ctx, digest); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
}

func BenchmarkSignFileKey(b *testing.B) {
	s, err := LoadSigner(context.Background(), benchFileKey(b), func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

func BenchmarkSignSoftHSM(b *testing.B) {
	s, err := LoadSigner(context.Background(), benchTokenKey(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

func benchLoadAndSign(b *testing.B, ref string, pw PasswordFunc, closeEach bool) {
	b.Helper()
	ctx := context.Background()
	for b.Loop() {
		if closeEach {
			if err := ClosePKCS11(); err != nil {
				b.Fatal(err)
			}
		}
		s, err := LoadSigner(ctx, ref, pw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.SignDigest(ctx, digestOf(s.HashFunc(), []byte("manifest"))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadAndSignFileKey(b *testing.B) {
	benchLoadAndSign(b, benchFileKey(b), func(bool) ([]byte, error) { return []byte("pw"), nil }, false)
}

func BenchmarkLoadAndSignSoftHSM(b *testing.B) {
	benchLoadAndSign(b, benchTokenKey(b), nil, true)
}

// BenchmarkLoadAndSignSoftHSMWarm loads the key again for every signature on an open session,
// as a long-running server does for each request.
func BenchmarkLoadAndSignSoftHSMWarm(b *testing.B) {
	benchLoadAndSign(b, benchTokenKey(b), nil, false)
}

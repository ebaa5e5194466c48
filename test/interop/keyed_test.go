package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// sigstoreGoKeyVerifier returns a sigstore-go verifier that trusts one public key.
func sigstoreGoKeyVerifier(t *testing.T, pub crypto.PublicKey, h crypto.Hash) *sgverify.Verifier {
	t.Helper()
	sv, err := signature.LoadVerifier(pub, h)
	if err != nil {
		t.Fatal(err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := sgverify.NewVerifier(tm, sgverify.WithCurrentTime())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// toSigstoreGo parses our bundle JSON with sigstore-go.
func toSigstoreGo(t *testing.T, data []byte) *sgbundle.Bundle {
	t.Helper()
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		t.Fatalf("sigstore-go cannot parse our bundle: %v\n%s", err, data)
	}
	return &b
}

func ourKeys(t *testing.T) map[string]signer.Signer {
	t.Helper()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	r2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	out := map[string]signer.Signer{}
	for name, k := range map[string]crypto.PrivateKey{"ecdsa-p256": p256, "ecdsa-p384": p384, "rsa-2048": r2048} {
		s, err := signer.NewSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

// TestSigstoreGoVerifiesOurBlobBundles: a bundle from `sign-blob --key` verifies in sigstore-go.
func TestSigstoreGoVerifiesOurBlobBundles(t *testing.T) {
	data := []byte("an artifact signed by cosign-like\n")
	for name, s := range ourKeys(t) {
		t.Run(name, func(t *testing.T) {
			b, err := cosign.SignBlob(context.Background(), bytes.NewReader(data), s, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := bundle.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			v := sigstoreGoKeyVerifier(t, s.Public(), s.HashFunc())
			if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(data)), sgverify.WithKey())); err != nil {
				t.Fatalf("sigstore-go refuses our blob bundle: %v", err)
			}
			if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader([]byte("other"))), sgverify.WithKey())); err == nil {
				t.Fatal("sigstore-go accepted our bundle for another artifact")
			}
		})
	}
}

// TestSigstoreGoVerifiesOurImageBundles: the DSSE bundle `sign` attaches to an image verifies in
// sigstore-go against the image digest.
func TestSigstoreGoVerifiesOurImageBundles(t *testing.T) {
	digest := sha256.Sum256([]byte("an image manifest"))
	statement, err := bundle.NewImageStatement("registry.example/app", hex.EncodeToString(digest[:]), map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range ourKeys(t) {
		t.Run(name, func(t *testing.T) {
			b, err := cosign.SignStatement(context.Background(), statement, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := bundle.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			v := sigstoreGoKeyVerifier(t, s.Public(), s.HashFunc())
			res, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", digest[:]), sgverify.WithKey()))
			if err != nil {
				t.Fatalf("sigstore-go refuses our image bundle: %v", err)
			}
			if got := res.Statement.GetPredicateType(); got != bundle.PredicateCosignSign {
				t.Fatalf("predicate type %q", got)
			}
			other := sha256.Sum256([]byte("another image"))
			if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", other[:]), sgverify.WithKey())); err == nil {
				t.Fatal("sigstore-go accepted our image bundle for another digest")
			}
		})
	}
}

// sigstoreGoSign signs content with a sigstore-go ephemeral key pair and returns the bundle JSON
// and the public key.
func sigstoreGoSign(t *testing.T, content sign.Content) ([]byte, crypto.PublicKey) {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(content, kp, sign.BundleOptions{Context: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out, kp.GetPublicKey()
}

// TestWeVerifySigstoreGoBundles: bundles sigstore-go's signer makes with a key verify here.
func TestWeVerifySigstoreGoBundles(t *testing.T) {
	v, err := verify.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("message signature", func(t *testing.T) {
		data := []byte("an artifact signed by sigstore-go\n")
		out, pub := sigstoreGoSign(t, &sign.PlainData{Data: data})
		b, err := bundle.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		p := verify.Policy{Key: pub, UnsafeIgnoreTlog: true}
		if _, err := v.Verify(b, verify.ArtifactBytes(data), p); err != nil {
			t.Fatalf("we refuse sigstore-go's bundle: %v", err)
		}
		if _, err := v.Verify(b, verify.ArtifactBytes([]byte("other")), p); err == nil {
			t.Fatal("we accepted sigstore-go's bundle for another artifact")
		}
	})
	t.Run("dsse statement", func(t *testing.T) {
		digest := sha256.Sum256([]byte("subject"))
		statement, err := bundle.NewImageStatement("registry.example/app", hex.EncodeToString(digest[:]), nil)
		if err != nil {
			t.Fatal(err)
		}
		out, pub := sigstoreGoSign(t, &sign.DSSEData{Data: statement, PayloadType: bundle.PayloadTypeInToto})
		b, err := bundle.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		p := verify.Policy{Key: pub, UnsafeIgnoreTlog: true}
		if _, err := v.Verify(b, verify.ArtifactDigest(crypto.SHA256, digest[:]), p); err != nil {
			t.Fatalf("we refuse sigstore-go's DSSE bundle: %v", err)
		}
		other := sha256.Sum256([]byte("other"))
		if _, err := v.Verify(b, verify.ArtifactDigest(crypto.SHA256, other[:]), p); err == nil {
			t.Fatal("we accepted sigstore-go's DSSE bundle for another digest")
		}
	})
}

package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	trustroot "github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// stack starts our local stack in-process and returns it with its trusted root JSON.
func stack(t *testing.T) (*testservers.Stack, []byte) {
	t.Helper()
	st := testservers.StartStack(t)
	tr, err := os.ReadFile(st.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	return st, tr
}

// sigstoreGoKeylessVerifier is sigstore-go's verifier over our trusted root, with the SCT,
// transparency log and signed timestamp thresholds of 1 that its conformance client sets.
func sigstoreGoKeylessVerifier(t *testing.T, trustedRoot []byte) *sgverify.Verifier {
	t.Helper()
	// Exactly the bytes the stack wrote: sigstore-go v1.3 reads only the media type
	// application/vnd.dev.sigstore.trustedroot+json;version=0.1, which is the one we write.
	tr, err := root.NewTrustedRootFromJSON(trustedRoot)
	if err != nil {
		t.Fatalf("sigstore-go cannot read our trusted root: %v", err)
	}
	v, err := sgverify.NewVerifier(tr, sgverify.WithSignedCertificateTimestamps(1), sgverify.WithTransparencyLog(1), sgverify.WithSignedTimestamps(1))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func identity(t *testing.T, issuer, san string) sgverify.PolicyOption {
	t.Helper()
	id, err := sgverify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	return sgverify.WithCertificateIdentity(id)
}

// TestSigstoreGoVerifiesOurKeylessBundles: blob and image bundles signed keyless through our
// stack verify in sigstore-go given our trusted root.
func TestSigstoreGoVerifiesOurKeylessBundles(t *testing.T) {
	ctx := context.Background()
	st, trBytes := stack(t)
	trusted, err := trustroot.ParseTrustedRoot(trBytes)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := trusted.LogKeys(st.LogURL)
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s, chain, err := cosign.Keyless(ctx, st.CAURL, token)
	if err != nil {
		t.Fatal(err)
	}
	w := &cosign.BundleOptions{Chain: chain, TSAURL: st.TSAURL, RekorURL: st.LogURL, LogKeys: keys}
	v := sigstoreGoKeylessVerifier(t, trBytes)
	who := identity(t, st.OIDCURL, "alice@example.com")

	t.Run("blob", func(t *testing.T) {
		data := []byte("keyless artifact\n")
		b, err := cosign.SignBlob(ctx, bytes.NewReader(data), s, w)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := bundle.Marshal(b)
		if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(data)), who)); err != nil {
			t.Fatalf("sigstore-go refuses our keyless blob bundle: %v", err)
		}
		if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(data)), identity(t, st.OIDCURL, "bob@example.com"))); err == nil {
			t.Fatal("sigstore-go accepted our bundle for another identity")
		}
	})
	t.Run("image", func(t *testing.T) {
		digest := sha256.Sum256([]byte("an image manifest"))
		statement, _ := bundle.NewImageStatement("registry.example/app", hex.EncodeToString(digest[:]), nil)
		b, err := cosign.SignStatement(ctx, statement, s, w)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := bundle.Marshal(b)
		if _, err := v.Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", digest[:]), who)); err != nil {
			t.Fatalf("sigstore-go refuses our keyless image bundle: %v", err)
		}
	})
}

// TestWeVerifySigstoreGoKeylessBundles: sigstore-go signs through our stack (its Fulcio, TSA and
// Rekor v2 clients against our CA, TSA and log) and our verifier accepts the bundle.
func TestWeVerifySigstoreGoKeylessBundles(t *testing.T) {
	ctx := context.Background()
	st, trBytes := stack(t)
	token, err := st.Issuer.Token(oidc.TokenRequest{Email: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("signed by sigstore-go through our stack\n")
	opts := sign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: st.CAURL}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: token},
		TimestampAuthorities:       []*sign.TimestampAuthority{sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: st.TSAURL})},
		TransparencyLogs:           []sign.Transparency{sign.NewRekor(&sign.RekorOptions{BaseURL: st.LogURL, Version: 2})},
	}
	pb, err := sign.Bundle(&sign.PlainData{Data: data}, kp, opts)
	if err != nil {
		t.Fatalf("sigstore-go cannot sign through our stack: %v", err)
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trustroot.ParseTrustedRoot(trBytes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tr)
	if err != nil {
		t.Fatal(err)
	}
	policy := verify.Policy{Identity: &verify.Identity{Subject: "alice@example.com", Issuer: st.OIDCURL}}
	if _, err := v.Verify(b, verify.ArtifactBytes(data), policy); err != nil {
		t.Fatalf("we refuse sigstore-go's keyless bundle: %v", err)
	}
	sum := sha256.Sum256(data)
	if _, err := v.Verify(b, verify.ArtifactDigest(crypto.SHA256, sum[:]), policy); err != nil {
		t.Fatalf("we refuse sigstore-go's keyless bundle by digest: %v", err)
	}
	policy.Identity.Subject = "bob@example.com"
	if _, err := v.Verify(b, verify.ArtifactBytes(data), policy); err == nil {
		t.Fatal("we accepted sigstore-go's bundle for another identity")
	}
	// And sigstore-go itself accepts what it made through our stack.
	if _, err := sigstoreGoKeylessVerifier(t, trBytes).Verify(toSigstoreGo(t, out), sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(data)), identity(t, st.OIDCURL, "alice@example.com"))); err != nil {
		t.Fatalf("sigstore-go refuses its own bundle made through our stack: %v", err)
	}
}

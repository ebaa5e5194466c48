package cosign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// signedAttestedImage pushes an image to host with a signature and an SPDX attestation in each
// layout.
func signedAttestedImage(t *testing.T, host, repo string, s signer.Signer) name.Digest {
	t.Helper()
	ctx := context.Background()
	img := testutil.PushRandomImage(t, host, repo)
	for _, legacy := range []bool{false, true} {
		if _, err := SignImage(ctx, img.String(), SignOptions{Signer: s, Legacy: legacy}); err != nil {
			t.Fatal(err)
		}
		attestFile(t, img, s, "spdxjson", "sbom.spdx.json", legacy)
	}
	attestFile(t, img, s, "slsaprovenance1", "provenance.slsa1.json", false)
	return img
}

// checkVerifiesEverything verifies, at ref, the signatures (both layouts) and the attestations.
func checkVerifiesEverything(t *testing.T, ref string, s signer.Signer) {
	t.Helper()
	ctx := context.Background()
	// Every signature, in both layouts, was carried over and verifies.
	subject, _, err := oci.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	found, err := oci.ListAttached(ctx, subject, []oci.Kind{oci.KindSignature})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := VerifyAttached(subject, found, keyedVerify(t, s.Public(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[0].Layout == sigs[1].Layout {
		t.Fatalf("%d signatures verified at %s, want 2 (one per layout)", len(sigs), ref)
	}
	if _, err := VerifyImage(ctx, ref, keyedVerify(t, s.Public(), nil)); err != nil {
		t.Fatal(err)
	}
	o := keyedAttestationOptions(t, s.Public(), "spdxjson")
	o.Rules = []*attest.Policy{compilePolicy(t, "policy-spdx.rego")}
	atts, err := VerifyImageAttestations(ctx, ref, o)
	if err != nil {
		t.Fatal(err)
	}
	layouts := map[oci.Layout]bool{}
	for _, a := range atts {
		layouts[a.Layout] = true
	}
	if len(atts) != 2 || !layouts[oci.LayoutBundle] || !layouts[oci.LayoutLegacy] {
		t.Fatalf("attestations verified at %s: %+v", ref, atts)
	}
	if _, err := VerifyImageAttestations(ctx, ref, keyedAttestationOptions(t, s.Public(), "slsaprovenance1")); err != nil {
		t.Fatal(err)
	}
}

// TestCopyToDistributionThenVerify copies an image with its signatures and attestations from
// the in-process registry (referrers API) to distribution 2.8 (no referrers API: the bundles
// go to the referrers tag schema) and verifies everything on the copy.
func TestCopyToDistributionThenVerify(t *testing.T) {
	ctx := context.Background()
	src, _ := testutil.NewRegistry(t)
	dst := testutil.StartDistribution(t)
	s := newSigner(t)
	img := signedAttestedImage(t, src, "release/app", s)

	got, copied, err := oci.Copy(ctx, img.String(), dst+"/mirror/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if got.DigestStr() != img.DigestStr() {
		t.Fatalf("copy has digest %s, want %s", got.DigestStr(), img.DigestStr())
	}
	if len(copied) < 4 {
		t.Fatalf("copied artifacts %v, want at least the 3 bundles and the 2 legacy tags", copied)
	}
	checkVerifiesEverything(t, dst+"/mirror/app@"+img.DigestStr(), s)

	// And back again, distribution to a fresh in-process registry.
	back, _ := testutil.NewRegistry(t)
	if _, _, err := oci.Copy(ctx, dst+"/mirror/app@"+img.DigestStr(), back+"/again/app:v1"); err != nil {
		t.Fatal(err)
	}
	checkVerifiesEverything(t, back+"/again/app:v1", s)
}

// TestSaveLoadThenVerify saves an image with everything attached to a directory, verifies it
// there with nothing but the directory, loads it into another registry and verifies it there.
func TestSaveLoadThenVerify(t *testing.T) {
	ctx := context.Background()
	src, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := signedAttestedImage(t, src, "release/app", s)
	dir := filepath.Join(t.TempDir(), "airgap")
	if _, _, err := oci.Save(ctx, img.String(), dir); err != nil {
		t.Fatal(err)
	}

	sigs, err := VerifyLocalImage(ctx, dir, keyedVerify(t, s.Public(), nil))
	if err != nil || len(sigs) != 2 {
		t.Fatalf("local signatures: %d, %v", len(sigs), err)
	}
	if sigs[0].Digest.DigestStr() != img.DigestStr() {
		t.Fatalf("local image digest %s, want %s", sigs[0].Digest.DigestStr(), img.DigestStr())
	}
	o := keyedAttestationOptions(t, s.Public(), "spdxjson")
	o.Rules = []*attest.Policy{compilePolicy(t, "policy-spdx.rego")}
	atts, err := VerifyLocalImageAttestations(ctx, dir, o)
	if err != nil || len(atts) != 2 {
		t.Fatalf("local attestations: %d, %v", len(atts), err)
	}
	if _, err := VerifyLocalImage(ctx, dir, keyedVerify(t, newSigner(t).Public(), nil)); !errors.Is(err, ErrNoValidSignature) {
		t.Fatalf("local image with another key: %v", err)
	}

	dst := testutil.StartDistribution(t)
	got, _, err := oci.Load(ctx, dir, dst+"/loaded/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if got.DigestStr() != img.DigestStr() {
		t.Fatalf("loaded digest %s, want %s", got.DigestStr(), img.DigestStr())
	}
	checkVerifiesEverything(t, dst+"/loaded/app:v1", s)
}

func TestLocalImageTampered(t *testing.T) {
	ctx := context.Background()
	src, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, src, "release/tamper")
	if _, err := SignImage(ctx, img.String(), SignOptions{Signer: s}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := oci.Save(ctx, img.String(), dir); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(img.DigestStr(), "sha256:"))
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, append(data, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLocalImage(ctx, dir, keyedVerify(t, s.Public(), nil)); !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("tampered manifest: %v", err)
	}
	if _, err := VerifyLocalImageAttestations(ctx, t.TempDir(), keyedAttestationOptions(t, s.Public(), "spdxjson")); err == nil || !strings.Contains(err.Error(), "reading the image layout") {
		t.Fatalf("empty directory: %v", err)
	}
	if _, err := VerifyLocalImageAttestations(ctx, dir, VerifyAttestationOptions{}); err == nil {
		t.Fatal("no verifier accepted")
	}
}

package cosign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func newSigner(t *testing.T) signer.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyedVerify(t *testing.T, pub crypto.PublicKey, ann map[string]string) VerifyOptions {
	t.Helper()
	v, err := verify.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyOptions{Verifier: v, Policy: verify.Policy{Key: pub, UnsafeIgnoreTlog: true}, Annotations: ann}
}

func TestSignVerifyImageBothLayouts(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: "bundle", true: "legacy"}[legacy]
		t.Run(name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, host, "test/"+name)
			s := newSigner(t)
			ann := map[string]string{"env": "prod"}
			signed, err := SignImage(ctx, img.String(), SignOptions{Signer: s, Annotations: ann, Legacy: legacy})
			if err != nil {
				t.Fatal(err)
			}
			if len(signed) != 1 || signed[0].Digest.String() != img.String() {
				t.Fatalf("signed %v, want %s", signed, img)
			}
			got, err := VerifyImage(ctx, img.String(), keyedVerify(t, s.Public(), ann))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Annotations["env"] != "prod" {
				t.Fatalf("verified %+v", got)
			}
			wantLayout := oci.LayoutBundle
			if legacy {
				wantLayout = oci.LayoutLegacy
			}
			if got[0].Layout != wantLayout {
				t.Fatalf("layout %s, want %s", got[0].Layout, wantLayout)
			}
			// A second key does not verify it.
			_, err = VerifyImage(ctx, img.String(), keyedVerify(t, newSigner(t).Public(), nil))
			if !errors.Is(err, ErrNoValidSignature) {
				t.Fatalf("verify with another key: err = %v, want ErrNoValidSignature", err)
			}
			// Annotations that were not signed are refused.
			_, err = VerifyImage(ctx, img.String(), keyedVerify(t, s.Public(), map[string]string{"env": "dev"}))
			if err == nil || !strings.Contains(err.Error(), `annotation env: want "dev", signature has "prod"`) {
				t.Fatalf("annotation mismatch: err = %v", err)
			}
		})
	}
}

func TestSignRecursiveSignsEveryChild(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	idx, children := testutil.PushRandomIndex(t, host, "test/multi", 3)
	s := newSigner(t)
	signed, err := SignImage(ctx, idx.String(), SignOptions{Signer: s, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) != len(children)+1 {
		t.Fatalf("signed %d manifests, want %d (index + children)", len(signed), len(children)+1)
	}
	for _, d := range append([]name.Digest{idx}, children...) {
		if _, err := VerifyImage(ctx, d.String(), keyedVerify(t, s.Public(), nil)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestVerifyNothingAttached(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/unsigned")
	_, err := VerifyImage(context.Background(), img.String(), keyedVerify(t, newSigner(t).Public(), nil))
	if !errors.Is(err, ErrNoValidSignature) || !strings.Contains(err.Error(), "no signatures found") {
		t.Fatalf("err = %v, want no signatures found", err)
	}
}

// attachRaw attaches bundle JSON to subject as a signature, bypassing signing.
func attachRaw(t *testing.T, subject name.Digest, bundleJSON []byte) {
	t.Helper()
	ctx := context.Background()
	_, desc, err := oci.Resolve(ctx, subject.String())
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: oci.PredicateTypeCosignSign}
	if _, err := oci.AttachBundle(ctx, subject, desc, bundleJSON, ann); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureCopiedFromAnotherImageFails(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	a := testutil.PushRandomImage(t, host, "test/a")
	b := testutil.PushRandomImage(t, host, "test/b")
	s := newSigner(t)
	signed, err := SignImage(ctx, a.String(), SignOptions{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	attachRaw(t, b, signed[0].Bundle)
	_, err = VerifyImage(ctx, b.String(), keyedVerify(t, s.Public(), nil))
	if !errors.Is(err, ErrNoValidSignature) || !errors.Is(err, verify.ErrArtifactMismatch) && !strings.Contains(err.Error(), "subject") {
		t.Fatalf("copied signature: err = %v, want a subject digest mismatch", err)
	}
}

func TestTamperedPayloadFails(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/tamper")
	s := newSigner(t)
	statement, err := bundle.NewImageStatement(img.Context().Name(), strings.TrimPrefix(img.DigestStr(), "sha256:"), map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := SignStatement(ctx, statement, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.GetDsseEnvelope().Payload = bytes.Replace(b.GetDsseEnvelope().GetPayload(), []byte(`"prod"`), []byte(`"dev!"`), 1)
	out, err := bundle.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	attachRaw(t, img, out)
	_, err = VerifyImage(ctx, img.String(), keyedVerify(t, s.Public(), nil))
	if !errors.Is(err, ErrNoValidSignature) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("tampered payload: err = %v", err)
	}
}

func TestDigestMismatchBetweenBundleAndImageFails(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/mismatch")
	s := newSigner(t)
	other := sha256.Sum256([]byte("another image"))
	statement, err := bundle.NewImageStatement(img.Context().Name(), hex.EncodeToString(other[:]), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SignStatement(ctx, statement, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := bundle.Marshal(b)
	attachRaw(t, img, out)
	_, err = VerifyImage(ctx, img.String(), keyedVerify(t, s.Public(), nil))
	if !errors.Is(err, ErrNoValidSignature) {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedBundleAttachedFails(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/malformed")
	s := newSigner(t)
	signed, err := SignImage(ctx, img.String(), SignOptions{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	other := testutil.PushRandomImage(t, host, "test/malformed2")
	pushUncheckedBundle(t, other, signed[0].Bundle[:len(signed[0].Bundle)/2])
	_, err = VerifyImage(ctx, other.String(), keyedVerify(t, s.Public(), nil))
	if !errors.Is(err, ErrNoValidSignature) || !errors.Is(err, bundle.ErrInvalidBundle) && !strings.Contains(err.Error(), "bundle") {
		t.Fatalf("truncated bundle: err = %v", err)
	}
}

func TestKeyedBundleWithoutTlogNeedsOptOut(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/notlog")
	s := newSigner(t)
	if _, err := SignImage(ctx, img.String(), SignOptions{Signer: s}); err != nil {
		t.Fatal(err)
	}
	o := keyedVerify(t, s.Public(), nil)
	o.Policy.UnsafeIgnoreTlog = false
	_, err := VerifyImage(ctx, img.String(), o)
	if !errors.Is(err, ErrNoValidSignature) || !strings.Contains(err.Error(), "log") {
		t.Fatalf("err = %v, want a refusal for the missing log entry", err)
	}
}

func TestSignVerifyBlob(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	data := bytes.Repeat([]byte("blob "), 1000)
	b, err := SignBlob(ctx, bytes.NewReader(data), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := verify.New(nil)
	p := verify.Policy{Key: s.Public(), UnsafeIgnoreTlog: true}
	if _, err := VerifyBlob(bytes.NewReader(data), roundTrip(t, b), v, p); err != nil {
		t.Fatal(err)
	}
	data[0] ^= 1
	if _, err := VerifyBlob(bytes.NewReader(data), roundTrip(t, b), v, p); !errors.Is(err, verify.ErrVerification) {
		t.Fatalf("tampered blob: err = %v", err)
	}
}

func roundTrip(t *testing.T, b *protobundle.Bundle) *protobundle.Bundle {
	t.Helper()
	out, err := bundle.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := bundle.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// rawManifest is a manifest pushed as-is, the way a hostile or careless writer could.
type rawManifest struct {
	body []byte
	mt   types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.body, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// pushUncheckedBundle attaches data as a bundle referrer of subject without any validation,
// as a registry could serve it.
func pushUncheckedBundle(t *testing.T, subject name.Digest, data []byte) {
	t.Helper()
	ctx := context.Background()
	_, desc, err := oci.Resolve(ctx, subject.String())
	if err != nil {
		t.Fatal(err)
	}
	repo := subject.Context()
	const bundleType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	layer := static.NewLayer(data, bundleType)
	cfg := static.NewLayer([]byte("{}"), types.MediaType(oci.MediaTypeEmpty))
	for _, l := range []v1.Layer{layer, cfg} {
		if err := remote.WriteLayer(repo, l, remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     oci.MediaTypeOCIManifest,
		"artifactType":  bundleType,
		"config":        map[string]any{"mediaType": oci.MediaTypeEmpty, "digest": cd.String(), "size": 2},
		"layers":        []any{map[string]any{"mediaType": bundleType, "digest": ld.String(), "size": len(data)}},
		"subject":       map[string]any{"mediaType": desc.MediaType, "digest": desc.Digest.String(), "size": desc.Size},
		"annotations":   map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: oci.PredicateTypeCosignSign},
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(body))
	if err := remote.Put(repo.Digest(h.String()), rawManifest{body, types.OCIManifestSchema1}, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
}

// TestLegacySignatureCheckedWhenNoBundleVerifies: bundles are preferred, but an image whose only
// valid signature for the policy is a legacy one still verifies.
func TestLegacySignatureCheckedWhenNoBundleVerifies(t *testing.T) {
	ctx := context.Background()
	host, counter := testutil.NewRegistry(t)
	img := testutil.PushRandomImage(t, host, "test/fallback")
	bundleKey, legacyKey := newSigner(t), newSigner(t)
	if _, err := SignImage(ctx, img.String(), SignOptions{Signer: bundleKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := SignImage(ctx, img.String(), SignOptions{Signer: legacyKey, Legacy: true}); err != nil {
		t.Fatal(err)
	}
	counter.Reset()
	got, err := VerifyImage(ctx, img.String(), keyedVerify(t, bundleKey.Public(), nil))
	if err != nil || len(got) != 1 || got[0].Layout != oci.LayoutBundle {
		t.Fatalf("verify with the bundle's key: %+v, %v", got, err)
	}
	if n := counter.Count(); n > 4 {
		t.Errorf("verifying one bundle signature took %d requests, want at most 4: %v", n, counter.Requests())
	}
	got, err = VerifyImage(ctx, img.String(), keyedVerify(t, legacyKey.Public(), nil))
	if err != nil || len(got) != 1 || got[0].Layout != oci.LayoutLegacy {
		t.Fatalf("verify with the legacy signature's key: %+v, %v", got, err)
	}
	if _, err := VerifyImage(ctx, img.String(), keyedVerify(t, newSigner(t).Public(), nil)); !errors.Is(err, ErrNoValidSignature) {
		t.Fatalf("verify with a third key: err = %v", err)
	}
}

package cosign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func attestData(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func keyedAttestationOptions(t testing.TB, pub crypto.PublicKey, typ string) VerifyAttestationOptions {
	t.Helper()
	v, err := verify.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := attest.PredicateType(typ)
	if err != nil {
		t.Fatal(err)
	}
	return VerifyAttestationOptions{Verifier: v, Policy: verify.Policy{Key: pub, UnsafeIgnoreTlog: true}, PredicateType: uri}
}

func compilePolicy(t testing.TB, file string) *attest.Policy {
	t.Helper()
	p, err := attest.CompilePolicy(context.Background(), file, attestData(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// attestFile attests img with the predicate file under --type typ.
func attestFile(t testing.TB, img name.Digest, s signer.Signer, typ, file string, legacy bool) Attested {
	t.Helper()
	uri, err := attest.PredicateType(typ)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AttestImage(context.Background(), img.String(), AttestOptions{Signer: s, PredicateType: uri, Predicate: attestData(t, file), Legacy: legacy})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var typeSamples = []struct{ typ, file string }{
	{"spdxjson", "sbom.spdx.json"},
	{"spdx", "sbom.spdx.json"},
	{"spdxjson", "sbom.npm.spdx.json"},
	{"cyclonedx", "sbom.cdx.json"},
	{"cyclonedx", "sbom.cyclonedx-npm.cdx.json"},
	{"slsaprovenance", "provenance.slsa02.json"},
	{"slsaprovenance02", "provenance.slsa02.json"},
	{"slsaprovenance1", "provenance.slsa1.json"},
	{"link", "link.json"},
	{"vuln", "vuln.json"},
	{"openvex", "openvex.json"},
	{"custom", "custom.txt"},
	{"https://example.com/predicate/release/v1", "vuln.json"},
}

func TestAttestVerifyEachTypeBothLayouts(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	for _, legacy := range []bool{false, true} {
		layout := map[bool]oci.Layout{false: oci.LayoutBundle, true: oci.LayoutLegacy}[legacy]
		for i, tt := range typeSamples {
			t.Run(fmt.Sprintf("%s/%s", layout, tt.typ), func(t *testing.T) {
				img := testutil.PushRandomImage(t, host, fmt.Sprintf("att/%s%d", layout, i))
				a := attestFile(t, img, s, tt.typ, tt.file, legacy)
				if a.Layout != layout || a.Digest.String() != img.String() {
					t.Fatalf("attested %+v", a)
				}
				got, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), tt.typ))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0].Layout != layout || got[0].PredicateType != a.PredicateType || !bytes.Equal(got[0].Statement, a.Statement()) {
					t.Fatalf("verified %+v", got)
				}
				var st struct {
					Type    string `json:"_type"`
					Subject []struct {
						Name   string
						Digest map[string]string
					}
				}
				if err := json.Unmarshal(got[0].Statement, &st); err != nil {
					t.Fatal(err)
				}
				if st.Type != bundle.StatementTypeV1 || len(st.Subject) != 1 || st.Subject[0].Name != img.Context().Name() || "sha256:"+st.Subject[0].Digest["sha256"] != img.DigestStr() {
					t.Fatalf("statement subject %+v", st)
				}
			})
		}
	}
}

func TestAttachedFormats(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/formats")
	attestFile(t, img, s, "spdxjson", "sbom.spdx.json", false)
	legacy := attestFile(t, img, s, "cyclonedx", "sbom.cdx.json", true)
	found, err := oci.ListAttached(ctx, img, []oci.Kind{oci.KindAttestation})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Fatalf("%d attestations attached, want 2", len(found))
	}
	for _, a := range found {
		switch a.Layout {
		case oci.LayoutBundle:
			if a.ArtifactType != oci.MediaTypeBundleV03 || a.Annotations[oci.AnnotationBundleContent] != oci.BundleContentDSSE ||
				a.Annotations[oci.AnnotationBundlePredicateType] != attest.PredicateSPDX || a.Annotations[oci.AnnotationCreated] == "" {
				t.Fatalf("bundle attachment %+v", a)
			}
			b, err := bundle.Parse(a.Bytes)
			if err != nil || b.GetDsseEnvelope().GetPayloadType() != bundle.PayloadTypeInToto {
				t.Fatalf("bundle %v %v", b, err)
			}
		case oci.LayoutLegacy:
			if string(a.Descriptor.MediaType) != oci.MediaTypeDSSE || a.Annotations[oci.AnnotationPredicateType] != attest.PredicateCycloneDX ||
				a.Tag != oci.LegacyTag(img, "att").TagStr() {
				t.Fatalf("legacy attachment %+v (tag %s)", a.Annotations, a.Tag)
			}
			if sig, ok := a.Annotations[oci.AnnotationSignature]; !ok || sig != "" {
				t.Fatalf("legacy signature annotation %q present=%v, want empty as cosign writes it", sig, ok)
			}
			if !bytes.Equal(a.Bytes, legacy.Envelope()) || !bytes.HasPrefix(a.Bytes, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"`)) {
				t.Fatalf("legacy layer %s", a.Bytes)
			}
		}
	}
}

func TestVerifyAttestationPolicy(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprint("legacy=", legacy), func(t *testing.T) {
			img := testutil.PushRandomImage(t, host, fmt.Sprintf("att/policy%v", legacy))
			attestFile(t, img, s, "spdxjson", "sbom.spdx.json", legacy)
			o := keyedAttestationOptions(t, s.Public(), "spdxjson")
			o.Rules = []*attest.Policy{compilePolicy(t, "policy-spdx.rego")}
			if _, err := VerifyImageAttestations(ctx, img.String(), o); err != nil {
				t.Fatalf("passing policy: %v", err)
			}
			o.Rules = []*attest.Policy{compilePolicy(t, "policy-forbid-musl.rego")}
			_, err := VerifyImageAttestations(ctx, img.String(), o)
			if !errors.Is(err, attest.ErrPolicyFailed) || !strings.Contains(err.Error(), "data.signature.deny: package musl 1.2.5-r0 is forbidden") {
				t.Fatalf("failing policy: %v", err)
			}
		})
	}
}

func TestVerifyAttestationWrongType(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/vulnonly")
	attestFile(t, img, s, "vuln", "vuln.json", false)
	attestFile(t, img, s, "vuln", "vuln.json", true)
	_, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "spdxjson"))
	if !errors.Is(err, ErrNoVerifiedAttestation) || !strings.Contains(err.Error(), "of other types found: "+attest.PredicateVuln) ||
		!strings.Contains(err.Error(), "predicate type "+attest.PredicateSPDX) {
		t.Fatalf("spdxjson on an image with only vuln: %v", err)
	}
	if _, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "vuln")); err != nil {
		t.Fatal(err)
	}
}

// attachStatement signs a hand-made statement and attaches it as a bundle with the given
// predicateType annotation, bypassing the checks AttestImage makes.
func attachStatement(t *testing.T, img name.Digest, s signer.Signer, statement []byte, annotatedType string) {
	t.Helper()
	ctx := context.Background()
	b, err := SignStatement(ctx, statement, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	attachBundle(t, img, b, annotatedType)
}

func attachBundle(t *testing.T, img name.Digest, b *protobundle.Bundle, annotatedType string) {
	t.Helper()
	ctx := context.Background()
	raw, err := bundle.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	_, desc, err := oci.Resolve(ctx, img.String())
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: annotatedType}
	if _, err := oci.AttachBundle(ctx, img, desc, raw, ann); err != nil {
		t.Fatal(err)
	}
}

func rawStatement(digestHex, predicateType, predicate string) []byte {
	return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + digestHex +
		`"}}],"predicateType":"` + predicateType + `","predicate":` + predicate + `}`)
}

func TestVerifyAttestationRejects(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	other := newSigner(t)
	hexOf := func(d name.Digest) string { return strings.TrimPrefix(d.DigestStr(), "sha256:") }
	cdx := string(attestData(t, "sbom.cdx.json"))

	tests := []struct {
		name  string
		setup func(t *testing.T, img name.Digest)
		typ   string
		key   signer.Signer
		want  []string
		is    error
	}{
		{"predicate does not parse as its type", func(t *testing.T, img name.Digest) {
			attachStatement(t, img, s, rawStatement(hexOf(img), attest.PredicateSPDX, cdx), attest.PredicateSPDX)
		}, "spdxjson", s, []string{"invalid predicate", "is this an SPDX JSON document"}, verify.ErrStatement},
		{"subject is another digest", func(t *testing.T, img name.Digest) {
			attachStatement(t, img, s, rawStatement(strings.Repeat("ab", 32), attest.PredicateCycloneDX, cdx), attest.PredicateCycloneDX)
		}, "cyclonedx", s, []string{"sha256:" + strings.Repeat("ab", 32)}, verify.ErrArtifactMismatch},
		{"annotation claims another type", func(t *testing.T, img name.Digest) {
			attachStatement(t, img, s, rawStatement(hexOf(img), attest.PredicateCycloneDX, cdx), attest.PredicateSPDX)
		}, "spdxjson", s, []string{"predicate type is https://cyclonedx.org/bom, not https://spdx.dev/Document"}, verify.ErrStatement},
		{"signed by another key", func(t *testing.T, img name.Digest) {
			attestFile(t, img, other, "cyclonedx", "sbom.cdx.json", false)
		}, "cyclonedx", s, []string{"does not verify"}, verify.ErrNoMatchingSignature},
		{"payloadType is not in-toto", func(t *testing.T, img name.Digest) {
			st := rawStatement(hexOf(img), attest.PredicateCycloneDX, cdx)
			pae := bundle.PAE("application/json", st)
			d := sha256.Sum256(pae)
			sig, err := s.SignDigest(ctx, d[:])
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bundle.KeyMaterial(s.Public())
			if err != nil {
				t.Fatal(err)
			}
			attachBundle(t, img, bundle.NewDSSEBundle(vm, bundle.NewEnvelope("application/json", st, sig)), attest.PredicateCycloneDX)
		}, "cyclonedx", s, []string{`payloadType "application/json"`}, verify.ErrStatement},
		{"message signature instead of envelope", func(t *testing.T, img name.Digest) {
			b, err := SignBlob(ctx, strings.NewReader("x"), s, nil)
			if err != nil {
				t.Fatal(err)
			}
			attachBundle(t, img, b, attest.PredicateCycloneDX)
		}, "cyclonedx", s, []string{"message signature, not a DSSE envelope"}, verify.ErrStatement},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testutil.PushRandomImage(t, host, fmt.Sprintf("att/reject%d", i))
			tt.setup(t, img)
			_, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, tt.key.Public(), tt.typ))
			if !errors.Is(err, ErrNoVerifiedAttestation) {
				t.Fatalf("error %v, want ErrNoVerifiedAttestation", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %v, want %q", err, w)
				}
			}
			// The single attestation's own error is checked for its family too.
			found, lerr := oci.ListAttached(ctx, img, []oci.Kind{oci.KindAttestation})
			if lerr != nil || len(found) != 1 {
				t.Fatalf("listing: %v (%d found)", lerr, len(found))
			}
			digest, _ := hex.DecodeString(hexOf(img))
			_, verr := verifyAttestation(ctx, found[0], verify.ArtifactDigest(crypto.SHA256, digest), keyedAttestationOptions(t, tt.key.Public(), tt.typ))
			if !errors.Is(verr, tt.is) {
				t.Fatalf("attestation error %v, want %v", verr, tt.is)
			}
		})
	}
}

func TestAttestStatementSubjectChecked(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/statement")
	cdx := string(attestData(t, "sbom.cdx.json"))
	_, err := AttestImage(ctx, img.String(), AttestOptions{Signer: s, Statement: rawStatement(strings.Repeat("cd", 32), attest.PredicateCycloneDX, cdx)})
	if !errors.Is(err, attest.ErrSubjectMismatch) {
		t.Fatalf("statement about another digest: %v", err)
	}
	good := rawStatement(strings.TrimPrefix(img.DigestStr(), "sha256:"), attest.PredicateCycloneDX, cdx)
	if _, err := AttestImage(ctx, img.String(), AttestOptions{Signer: s, Statement: good, PredicateType: attest.PredicateSPDX}); err == nil || !strings.Contains(err.Error(), "not \"https://spdx.dev/Document\"") {
		t.Fatalf("statement of another type than --type: %v", err)
	}
	a, err := AttestImage(ctx, img.String(), AttestOptions{Signer: s, Statement: good})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Statement(), good) {
		t.Fatal("the given statement was not signed as it is")
	}
	if _, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "cyclonedx")); err != nil {
		t.Fatal(err)
	}
	if _, err := AttestImage(ctx, img.String(), AttestOptions{Signer: s, PredicateType: attest.PredicateSPDX, Predicate: attestData(t, "sbom.cdx.json")}); !errors.Is(err, attest.ErrInvalidPredicate) {
		t.Fatalf("CycloneDX given as SPDX: %v", err)
	}
}

// TestLegacyEnvelopeTwoSignatures attaches a legacy envelope whose first signature is valid
// (key A) and whose second is not (it claims key B but signs other bytes): a policy asking for
// key B must fail, one asking for key A passes.
func TestLegacyEnvelopeTwoSignatures(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	a, b := newSigner(t), newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/twosigs")
	st := rawStatement(strings.TrimPrefix(img.DigestStr(), "sha256:"), attest.PredicateCycloneDX, string(attestData(t, "sbom.cdx.json")))
	sign := func(s signer.Signer, msg []byte) string {
		d := sha256.Sum256(msg)
		sig, err := s.SignDigest(ctx, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}
	env, err := json.Marshal(map[string]any{
		"payloadType": bundle.PayloadTypeInToto,
		"payload":     base64.StdEncoding.EncodeToString(st),
		"signatures": []map[string]string{
			{"keyid": "a", "sig": sign(a, bundle.PAE(bundle.PayloadTypeInToto, st))},
			{"keyid": "b", "sig": sign(b, bundle.PAE(bundle.PayloadTypeInToto, append([]byte(" "), st...)))},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{oci.AnnotationSignature: "", oci.AnnotationPredicateType: attest.PredicateCycloneDX}
	if err := oci.AttachLegacy(ctx, img, oci.KindAttestation, env, oci.MediaTypeDSSE, ann); err != nil {
		t.Fatal(err)
	}
	_, err = VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, b.Public(), "cyclonedx"))
	if !errors.Is(err, ErrNoVerifiedAttestation) || !strings.Contains(err.Error(), "none of the envelope's 2 signatures verifies") {
		t.Fatalf("policy needing key B: %v", err)
	}
	got, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, a.Public(), "cyclonedx"))
	if err != nil || len(got) != 1 {
		t.Fatalf("policy needing key A: %v", err)
	}
}

func TestNewBundleTwoSignaturesRefused(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/twosigbundle")
	st := rawStatement(strings.TrimPrefix(img.DigestStr(), "sha256:"), attest.PredicateCycloneDX, string(attestData(t, "sbom.cdx.json")))
	b, err := SignStatement(ctx, st, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := b.GetDsseEnvelope()
	env.Signatures = append(env.Signatures, env.Signatures[0])
	raw, err := bundle.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	_, desc, _ := oci.Resolve(ctx, img.String())
	if _, err := oci.AttachBundle(ctx, img, desc, raw, map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: attest.PredicateCycloneDX}); err != nil {
		t.Fatal(err)
	}
	_, err = VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "cyclonedx"))
	if !errors.Is(err, ErrNoVerifiedAttestation) || !strings.Contains(err.Error(), "2 signatures, exactly 1 required") {
		t.Fatalf("bundle with two signatures: %v", err)
	}
}

func TestVerifyAttestationSizeLimit(t *testing.T) {
	ctx := context.Background()
	host, _ := testutil.NewRegistry(t)
	s := newSigner(t)
	img := testutil.PushRandomImage(t, host, "att/size")
	attestFile(t, img, s, "spdxjson", "sbom.spdx.json", false)
	o := keyedAttestationOptions(t, s.Public(), "spdxjson")
	o.MaxAttestationSize = 1000
	_, err := VerifyImageAttestations(ctx, img.String(), o)
	var se *attest.SizeError
	if !errors.Is(err, ErrNoVerifiedAttestation) || !errors.As(err, &se) || se.Limit != 1000 || !strings.Contains(err.Error(), "the limit is 1000") {
		t.Fatalf("attestation over the limit: %v", err)
	}
}

func TestVerifyAttestationCountLimit(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	t.Run("101 attached", func(t *testing.T) {
		if testing.Short() {
			t.Skip("attaches 101 attestations")
		}
		host, _ := testutil.NewRegistry(t)
		img := testutil.PushRandomImage(t, host, "att/many")
		_, desc, err := oci.Resolve(ctx, img.String())
		if err != nil {
			t.Fatal(err)
		}
		ann := map[string]string{oci.AnnotationBundleContent: oci.BundleContentDSSE, oci.AnnotationBundlePredicateType: attest.PredicateVuln}
		for i := 0; i < 101; i++ {
			if _, err := oci.AttachBundle(ctx, img, desc, []byte(fmt.Sprintf(`{"n":%d}`, i)), ann); err != nil {
				t.Fatal(err)
			}
		}
		_, err = VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "vuln"))
		if !errors.Is(err, oci.ErrLimitExceeded) || !strings.Contains(err.Error(), "100") {
			t.Fatalf("101 attestations: %v", err)
		}
	})
	t.Run("100000 referrers", func(t *testing.T) {
		host, counter := testutil.NewHostileRegistry(t, testutil.Rule{Method: "GET", PathContains: "/referrers/", Handle: testutil.ServeManyReferrers(100000)})
		img := testutil.PushRandomImage(t, host, "att/flood")
		counter.Reset()
		start := time.Now()
		_, err := VerifyImageAttestations(ctx, img.String(), keyedAttestationOptions(t, s.Public(), "vuln"))
		if !errors.Is(err, oci.ErrLimitExceeded) {
			t.Fatalf("100000 referrers: %v", err)
		}
		if n := counter.Count(); n > 5 || time.Since(start) > 10*time.Second {
			t.Fatalf("refusal took %d requests and %v", n, time.Since(start))
		}
	})
}

func TestAttestBlobRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	blob := []byte("release artifact bytes")
	a, err := AttestBlob(ctx, bytes.NewReader(blob), "app.tar.gz", AttestOptions{Signer: s, PredicateType: attest.PredicateCycloneDX, Predicate: attestData(t, "sbom.cdx.json")})
	if err != nil {
		t.Fatal(err)
	}
	var written bytes.Buffer
	if err := a.WriteBundle(&written); err != nil || !bytes.Equal(written.Bytes(), a.Bundle()) {
		t.Fatalf("WriteBundle: %v", err)
	}
	b, err := bundle.Parse(written.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	parsed := b
	o := keyedAttestationOptions(t, s.Public(), "cyclonedx")
	got, err := VerifyBlobAttestation(ctx, bytes.NewReader(blob), parsed, o)
	if err != nil || got.PredicateType != attest.PredicateCycloneDX {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := VerifyBlobAttestation(ctx, strings.NewReader("other bytes"), b, o); !errors.Is(err, verify.ErrArtifactMismatch) {
		t.Fatalf("other blob: %v", err)
	}
	o.PredicateType = attest.PredicateSPDX
	if _, err := VerifyBlobAttestation(ctx, bytes.NewReader(blob), b, o); !errors.Is(err, verify.ErrStatement) || !strings.Contains(err.Error(), "not https://spdx.dev/Document") {
		t.Fatalf("wrong type: %v", err)
	}
	o = keyedAttestationOptions(t, s.Public(), "cyclonedx")
	o.Rules = []*attest.Policy{compilePolicy(t, "policy-spdx.rego")}
	if _, err := VerifyBlobAttestation(ctx, bytes.NewReader(blob), b, o); !errors.Is(err, attest.ErrPolicyFailed) || !strings.Contains(err.Error(), "data.signature.allow is not true") {
		t.Fatalf("policy: %v", err)
	}
	sigOnly, err := SignBlob(ctx, bytes.NewReader(blob), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBlobAttestation(ctx, bytes.NewReader(blob), sigOnly, keyedAttestationOptions(t, s.Public(), "cyclonedx")); !errors.Is(err, verify.ErrStatement) {
		t.Fatalf("plain signature bundle: %v", err)
	}
}

// TestStreamedAttestationMatchesProtojson checks that the streamed documents are byte for byte
// what protojson (the bundle) and MarshalEnvelope (the legacy envelope) write with the whole
// statement in memory, for a statement in parts and one in a single piece.
func TestStreamedAttestationMatchesProtojson(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t)
	cdx := attestData(t, "sbom.cdx.json")
	head, pred, tail, err := attest.NewStatementParts([]attest.Subject{{Name: "r.example/app", SHA256: strings.Repeat("ab", 32)}}, attest.PredicateCycloneDX, cdx)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []parts{
		{head, pred, tail},
		{[]byte(rawStatement(strings.Repeat("cd", 32), "https://e.com/p", `{"a":"\u00e9<>&"}`))},
		{head, []byte(`{"x":"` + strings.Repeat("y", 70000) + `"}`), tail}, // several encoder buffers, a partial last group
	} {
		doc, err := signAttestation(ctx, st, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := doc.bytes()
		b, err := bundle.Parse(got)
		if err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		if !bytes.Equal(b.GetDsseEnvelope().GetPayload(), st.bytes()) {
			t.Fatalf("statement %d: payload differs", i)
		}
		want, err := bundle.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || doc.size() != int64(len(want)) {
			t.Fatalf("statement %d: bundle\n got %.300s\nwant %.300s", i, got, want)
		}
		blob, err := doc.blob()
		if err != nil || blob.Digest.Hex != fmt.Sprintf("%x", sha256.Sum256(want)) || blob.Size != int64(len(want)) {
			t.Fatalf("statement %d: blob %+v %v", i, blob, err)
		}
		ref, err := SignStatement(ctx, st.bytes(), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ref.GetDsseEnvelope().GetPayloadType() != b.GetDsseEnvelope().GetPayloadType() || !bytes.Equal(ref.GetDsseEnvelope().GetPayload(), b.GetDsseEnvelope().GetPayload()) {
			t.Fatal("signAttestation's envelope differs from SignStatement's")
		}
		sig := b.GetDsseEnvelope().GetSignatures()[0].GetSig()
		env, err := spliceBase64(st, func(ph []byte) ([]byte, error) { return attest.MarshalEnvelope(bundle.PayloadTypeInToto, ph, sig) })
		if err != nil {
			t.Fatal(err)
		}
		wantEnv, err := attest.MarshalEnvelope(bundle.PayloadTypeInToto, st.bytes(), sig)
		if err != nil || !bytes.Equal(env.bytes(), wantEnv) {
			t.Fatalf("statement %d: envelope differs: %v", i, err)
		}
	}
}

// TestSpliceBase64Refuses checks that a document without the placeholder, or with it twice, is
// refused rather than spliced at the wrong place.
func TestSpliceBase64Refuses(t *testing.T) {
	for _, marshal := range []func([]byte) ([]byte, error){
		func([]byte) ([]byte, error) { return []byte(`{"payload":""}`), nil },
		func(ph []byte) ([]byte, error) {
			e := base64.StdEncoding.EncodeToString(ph)
			return []byte(`{"a":"` + e + `","b":"` + e + `"}`), nil
		},
	} {
		if _, err := spliceBase64(parts{[]byte("x")}, marshal); err == nil || !strings.Contains(err.Error(), "exactly once") {
			t.Fatalf("error %v", err)
		}
	}
}

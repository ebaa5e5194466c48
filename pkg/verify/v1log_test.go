package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// v1World is the virtual world with a Rekor v1-style log (SETs, ECDSA checkpoints) trusted.
func v1World(t *testing.T) (*world, *vs.V1Log) {
	t.Helper()
	w := newWorld(t)
	l := must[*vs.V1Log](t)(vs.NewV1Log("rekor.example.test"))
	w.root.V1Logs = []vs.TrustedV1Log{{Log: l, Window: w.root.Logs[0].Window}}
	return w, l
}

// signV1 signs blob keyless and logs it in the v1 log integrated at integrated; no timestamp.
func signV1(t *testing.T, w *world, l *vs.V1Log, integrated time.Time) *signed {
	t.Helper()
	s := w.sign(t, blob, signing{noTimestamp: true})
	body := must[[]byte](t)(vs.HashedRekordV001Body(s.digest, s.sig, vs.Verifier{Certificate: s.cert}))
	e := must[*protorekor.TransparencyLogEntry](t)(l.Append(body, "hashedrekord", "0.0.1", integrated))
	s.b.GetVerificationMaterial().TlogEntries = []*protorekor.TransparencyLogEntry{e}
	return s
}

func TestRekorV1Entries(t *testing.T) {
	w, l := v1World(t)
	v := w.verifier(t, w.root)

	t.Run("signing time from the SET", func(t *testing.T) {
		s := signV1(t, w, l, w.now)
		res, err := v.Verify(roundTrip(t, s.b), verify.ArtifactBytes(blob), identityPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if !res.SigningTime.Equal(w.now) || !res.TlogEntries[0].IntegratedTime.Equal(w.now) {
			t.Errorf("signing time %v, integrated time %v; want %v", res.SigningTime, res.TlogEntries[0].IntegratedTime, w.now)
		}
	})
	t.Run("bundle v0.1 with a certificate chain", func(t *testing.T) {
		s := signV1(t, w, l, w.now)
		s.b.MediaType = bundle.MediaTypeV01
		s.b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
			Certificates: []*protocommon.X509Certificate{{RawBytes: s.cert.Raw}, {RawBytes: w.ca.Intermediate.Raw}},
		}}
		if _, err := v.Verify(roundTrip(t, s.b), verify.ArtifactBytes(blob), identityPolicy()); err != nil {
			t.Fatal(err)
		}
	})

	failures := []struct {
		name   string
		mutate func(s *signed)
		at     time.Time
		is     error
		want   string
	}{
		{"integrated after the certificate expired", nil, w.now.Add(20 * time.Minute), verify.ErrCertificate, "certificate has expired"},
		{"SET signature invalid", func(s *signed) {
			set := s.b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionPromise()
			set.SignedEntryTimestamp = append([]byte(nil), set.SignedEntryTimestamp...)
			set.SignedEntryTimestamp[len(set.SignedEntryTimestamp)-1] ^= 1
		}, time.Time{}, verify.ErrTlog, "signed entry timestamp does not verify"},
		{"integrated time changed under the SET", func(s *signed) {
			s.b.GetVerificationMaterial().GetTlogEntries()[0].IntegratedTime -= 60
		}, time.Time{}, verify.ErrTlog, "signed entry timestamp does not verify"},
		{"v0.2 proof without checkpoint", func(s *signed) {
			s.b.MediaType = bundle.MediaTypeV02
			s.b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof().Checkpoint = nil
		}, time.Time{}, verify.ErrTlog, "the inclusion proof has no checkpoint"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at.IsZero() {
				at = w.now
			}
			s := signV1(t, w, l, at)
			if tc.mutate != nil {
				tc.mutate(s)
			}
			_, err := v.Verify(s.b, verify.ArtifactBytes(blob), identityPolicy())
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v mentioning %q", err, tc.is, tc.want)
			}
		})
	}
}

// legacyRekorAnnotation renders a v1 entry as cosign's dev.sigstore.cosign/bundle annotation.
func legacyRekorAnnotation(t *testing.T, e *protorekor.TransparencyLogEntry) string {
	t.Helper()
	out, err := json.Marshal(map[string]any{
		"SignedEntryTimestamp": e.GetInclusionPromise().GetSignedEntryTimestamp(),
		"Payload": map[string]any{
			"body":           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
			"integratedTime": e.GetIntegratedTime(),
			"logIndex":       e.GetLogIndex(),
			"logID":          hex.EncodeToString(e.GetLogId().GetKeyId()),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestLegacyLayerWithRekorBundle verifies cosign legacy signature layers (keyless with
// certificate and chain annotations, and keyed) whose Rekor bundle annotation carries a SET.
func TestLegacyLayerWithRekorBundle(t *testing.T) {
	w, l := v1World(t)
	v := w.verifier(t, w.root)
	manifest := sha256.Sum256([]byte("manifest"))
	payload := must[[]byte](t)(bundle.NewSimpleSigning("registry.example/app", "sha256:"+hex.EncodeToString(manifest[:]), nil))
	sum := sha256.Sum256(payload)

	t.Run("keyless", func(t *testing.T) {
		key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
		cert := must[*x509.Certificate](t)(w.ca.Issue(key.Public(), vsCert(w)))
		sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, sum[:]))
		body := must[[]byte](t)(vs.HashedRekordV001Body(sum[:], sig, vs.Verifier{Certificate: cert}))
		e := must[*protorekor.TransparencyLogEntry](t)(l.Append(body, "hashedrekord", "0.0.1", w.now))
		b := must[*protobundle.Bundle](t)(bundle.FromLegacy(payload, map[string]string{
			bundle.AnnotationSignature:   base64.StdEncoding.EncodeToString(sig),
			bundle.AnnotationCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
			bundle.AnnotationChain: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.ca.Intermediate.Raw})) +
				string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.ca.Root.Raw})),
			bundle.AnnotationBundle: legacyRekorAnnotation(t, e),
		}))
		res, err := v.Verify(b, verify.ArtifactBytes(payload), identityPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if !res.SigningTime.Equal(w.now) {
			t.Errorf("signing time %v, want %v", res.SigningTime, w.now)
		}
	})
	t.Run("keyed", func(t *testing.T) {
		k := keyCases[0].gen(t)
		sig := signDigest(t, k, crypto.SHA256, sum[:])
		der := must[[]byte](t)(x509.MarshalPKIXPublicKey(k.Public()))
		body := must[[]byte](t)(vs.HashedRekordV001Body(sum[:], sig, vs.Verifier{PublicKey: der}))
		e := must[*protorekor.TransparencyLogEntry](t)(l.Append(body, "hashedrekord", "0.0.1", w.now))
		b := must[*protobundle.Bundle](t)(bundle.FromLegacy(payload, map[string]string{
			bundle.AnnotationSignature: base64.StdEncoding.EncodeToString(sig),
			bundle.AnnotationBundle:    legacyRekorAnnotation(t, e),
		}))
		if _, err := v.Verify(b, verify.ArtifactBytes(payload), verify.Policy{Key: k.Public()}); err != nil {
			t.Fatal(err)
		}
		other := keyCases[0].gen(t)
		if _, err := v.Verify(b, verify.ArtifactBytes(payload), verify.Policy{Key: other.Public()}); !errors.Is(err, verify.ErrNoMatchingSignature) {
			t.Errorf("another key: %v", err)
		}
	})
}

func vsCert(w *world) vs.CertOptions {
	return vs.CertOptions{
		Email: testEmail, Extensions: identityExtensions(),
		NotBefore: w.now.Add(-time.Minute), NotAfter: w.now.Add(9 * time.Minute), CTLog: w.ct,
	}
}

// TestLegacyAttestationLayer verifies a cosign legacy .att layer: a DSSE envelope with the
// certificate, chain and Rekor bundle (intoto 0.0.2 entry) annotations.
func TestLegacyAttestationLayer(t *testing.T) {
	w, l := v1World(t)
	v := w.verifier(t, w.root)
	manifest := sha256.Sum256([]byte("manifest"))
	statement := must[[]byte](t)(bundle.NewImageStatement("registry.example/app", hex.EncodeToString(manifest[:]), nil))
	key := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	cert := must[*x509.Certificate](t)(w.ca.Issue(key.Public(), vsCert(w)))
	paeSum := sha256.Sum256(bundle.PAE(bundle.PayloadTypeInToto, statement))
	sig := must[[]byte](t)(ecdsa.SignASN1(rand.Reader, key, paeSum[:]))
	envelope := must[[]byte](t)(json.Marshal(map[string]any{
		"payloadType": bundle.PayloadTypeInToto, "payload": statement,
		"signatures": []any{map[string]any{"keyid": "", "sig": sig}},
	}))
	body := must[[]byte](t)(vs.IntotoV002Body(bundle.PayloadTypeInToto, statement, sig, vs.Verifier{Certificate: cert}))
	e := must[*protorekor.TransparencyLogEntry](t)(l.Append(body, "intoto", "0.0.2", w.now))
	annotations := map[string]string{
		bundle.AnnotationCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		bundle.AnnotationBundle:      legacyRekorAnnotation(t, e),
	}
	b := must[*protobundle.Bundle](t)(bundle.FromLegacyAttestation(envelope, annotations))
	res, err := v.Verify(b, verify.ArtifactDigest(crypto.SHA256, manifest[:]), identityPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if res.Statement.GetPredicateType() != bundle.PredicateCosignSign || res.TlogEntries[0].Kind != "intoto" {
		t.Errorf("result %+v", res)
	}

	other := sha256.Sum256([]byte("another image"))
	if _, err := v.Verify(b, verify.ArtifactDigest(crypto.SHA256, other[:]), identityPolicy()); !errors.Is(err, verify.ErrArtifactMismatch) {
		t.Errorf("attestation checked against another image: %v", err)
	}
}

// TestLegacyBlobBundle verifies the --bundle file cosign v2 sign-blob wrote, keyed, with a
// Rekor v1 entry.
func TestLegacyBlobBundle(t *testing.T) {
	w, l := v1World(t)
	v := w.verifier(t, w.root)
	k := keyCases[0].gen(t)
	sum := sha256.Sum256(blob)
	sig := signDigest(t, k, crypto.SHA256, sum[:])
	der := must[[]byte](t)(x509.MarshalPKIXPublicKey(k.Public()))
	body := must[[]byte](t)(vs.HashedRekordV001Body(sum[:], sig, vs.Verifier{PublicKey: der}))
	e := must[*protorekor.TransparencyLogEntry](t)(l.Append(body, "hashedrekord", "0.0.1", w.now))
	doc := `{"base64Signature":"` + base64.StdEncoding.EncodeToString(sig) + `","rekorBundle":` + legacyRekorAnnotation(t, e) + `}`
	if !bundle.IsLegacyBlobBundle([]byte(doc)) {
		t.Fatal("not recognised")
	}
	b := must[*protobundle.Bundle](t)(bundle.FromLegacyBlobBundle([]byte(doc), sum[:]))
	res, err := v.Verify(b, verify.ArtifactBytes(blob), verify.Policy{Key: k.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SigningTime.Equal(w.now) {
		t.Errorf("signing time %v", res.SigningTime)
	}
	// Converted over another blob's digest, the entry no longer matches.
	other := sha256.Sum256([]byte("other blob"))
	b2 := must[*protobundle.Bundle](t)(bundle.FromLegacyBlobBundle([]byte(doc), other[:]))
	if _, err := v.Verify(b2, verify.ArtifactDigest(crypto.SHA256, other[:]), verify.Policy{Key: k.Public()}); err == nil {
		t.Error("a legacy blob bundle verified for another blob")
	}
}

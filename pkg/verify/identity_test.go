package verify_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

var blob = []byte("keyless artifact\n")

func TestKeylessRoundTrip(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, w.root)
	t.Run("message signature", func(t *testing.T) {
		s := w.sign(t, blob, signing{})
		res, err := v.Verify(roundTrip(t, s.b), verify.ArtifactBytes(blob), identityPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if !res.SigningTime.Equal(w.now) || len(res.Timestamps) != 1 {
			t.Errorf("signing time %v, timestamps %v; want %v", res.SigningTime, res.Timestamps, w.now)
		}
		if res.Identity.Issuer != testIssuer || res.Identity.SubjectAlternativeNames[0] != testEmail {
			t.Errorf("identity %+v", res.Identity)
		}
		if len(res.TlogEntries) != 1 || res.TlogEntries[0].Kind != "hashedrekord" || res.TlogEntries[0].BaseURL != w.log.BaseURL {
			t.Errorf("tlog entries %+v", res.TlogEntries)
		}
	})
	t.Run("DSSE logged as hashedrekord over PAE", func(t *testing.T) {
		s := w.sign(t, blob, signing{dsse: true})
		sum := sha256.Sum256(blob)
		res, err := v.Verify(roundTrip(t, s.b), verify.ArtifactDigest(crypto.SHA256, sum[:]), identityPolicy())
		if err != nil {
			t.Fatal(err)
		}
		if res.Statement.GetPredicateType() != bundle.PredicateCosignSign {
			t.Errorf("statement %v", res.Statement)
		}
	})
	t.Run("identity and issuer by regexp", func(t *testing.T) {
		s := w.sign(t, blob, signing{})
		p := verify.Policy{Identity: &verify.Identity{SubjectRegexp: `.*@example\.com`, IssuerRegexp: `https://issuer\.example\.(test|org)`}}
		if _, err := v.Verify(s.b, verify.ArtifactBytes(blob), p); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("username otherName SAN", func(t *testing.T) {
		s := w.sign(t, blob, signing{username: "alice!example.test"})
		p := verify.Policy{Identity: &verify.Identity{Subject: "alice!example.test", Issuer: testIssuer}}
		res, err := v.Verify(s.b, verify.ArtifactBytes(blob), p)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Identity.SubjectAlternativeNames; len(got) != 1 || got[0] != "alice!example.test" {
			t.Errorf("SANs %v", got)
		}
	})
	t.Run("GitHub workflow fields", func(t *testing.T) {
		s := w.sign(t, blob, signing{ext: certext.Extensions{GithubWorkflowRepository: "acme/app", GithubWorkflowRef: "refs/heads/main", GithubWorkflowTrigger: "push"}})
		p := identityPolicy()
		p.Identity.GitHubWorkflowRepository = "acme/app"
		p.Identity.GitHubWorkflowRef = "refs/heads/main"
		if _, err := v.Verify(s.b, verify.ArtifactBytes(blob), p); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no SCT accepted when the trusted root lists no CT log", func(t *testing.T) {
		s := w.sign(t, blob, signing{noSCT: true})
		root := w.root
		root.CTLogs = nil
		if _, err := w.verifier(t, root).Verify(s.b, verify.ArtifactBytes(blob), identityPolicy()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no SCT accepted with UnsafeIgnoreSCT", func(t *testing.T) {
		s := w.sign(t, blob, signing{noSCT: true})
		p := identityPolicy()
		p.UnsafeIgnoreSCT = true
		if _, err := v.Verify(s.b, verify.ArtifactBytes(blob), p); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("threshold 2 met by two logs", func(t *testing.T) {
		log2 := must[*vs.Log](t)(vs.NewLog("log2.example.test"))
		root := w.root
		root.Logs = append(append([]vs.TrustedLog(nil), root.Logs...), vs.TrustedLog{Log: log2, Window: root.Logs[0].Window})
		s := w.sign(t, blob, signing{})
		addEntry(t, s, log2)
		p := identityPolicy()
		p.TlogThreshold = 2
		res, err := w.verifier(t, root).Verify(s.b, verify.ArtifactBytes(blob), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.TlogEntries) != 2 {
			t.Errorf("%d entries verified", len(res.TlogEntries))
		}
	})
}

// addEntry logs the signature of s in log and adds the entry to its bundle.
func addEntry(t *testing.T, s *signed, log *vs.Log) {
	t.Helper()
	body := must[[]byte](t)(vs.HashedRekordBody("SHA2_256", s.digest, s.sig, vs.Verifier{Certificate: s.cert}))
	e := must[*protorekor.TransparencyLogEntry](t)(log.Append(body, "hashedrekord", "0.0.2"))
	vm := s.b.GetVerificationMaterial()
	vm.TlogEntries = append(vm.TlogEntries, e)
}

func TestKeylessNegative(t *testing.T) {
	w := newWorld(t)
	year := 365 * 24 * time.Hour
	expiredInterCA := must[*vs.CA](t)(vs.NewCA("expired-intermediate", w.now.Add(-year), w.now.Add(year), w.now.Add(-time.Hour)))
	untrustedTSA := must[*vs.TSA](t)(vs.NewTSA("untrusted", w.now.Add(-year), w.now.Add(year)))
	foreignCT := must[*vs.CTLog](t)(vs.NewCTLog())
	otherLog := must[*vs.Log](t)(vs.NewLog(w.log.Origin)) // same origin, another key

	rootWith := func(f func(r *vs.TrustedRoot)) vs.TrustedRoot {
		r := w.root
		r.CAs = append([]vs.TrustedCA(nil), r.CAs...)
		r.TSAs = append([]vs.TrustedTSA(nil), r.TSAs...)
		r.Logs = append([]vs.TrustedLog(nil), r.Logs...)
		f(&r)
		return r
	}

	tests := []struct {
		name   string
		build  func(t *testing.T) *signed
		root   vs.TrustedRoot
		policy func(p *verify.Policy)
		is     error
		want   string
	}{
		{
			name: "certificate expired at signing time",
			build: func(t *testing.T) *signed {
				return w.sign(t, blob, signing{notBefore: w.now.Add(-20 * time.Minute), notAfter: w.now.Add(-10 * time.Minute)})
			},
			is: verify.ErrCertificate, want: "certificate has expired or is not yet valid",
		},
		{
			name:  "intermediate expired",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{ca: expiredInterCA}) },
			root:  rootWith(func(r *vs.TrustedRoot) { r.CAs = []vs.TrustedCA{{CA: expiredInterCA, Window: r.CAs[0].Window}} }),
			is:    verify.ErrCertificate, want: "expired",
		},
		{
			name:  "CA outside its validFor window",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{}) },
			root: rootWith(func(r *vs.TrustedRoot) {
				r.CAs[0].Window = vs.Window{Start: w.now.Add(-year), End: w.now.Add(-time.Hour)}
			}),
			is: verify.ErrCertificate, want: "validFor window",
		},
		{
			name:  "timestamp from an untrusted TSA",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{tsa: untrustedTSA}) },
			is:    verify.ErrTimestamp, want: "not signed by a timestamp authority of the trusted root",
		},
		{
			name:  "TSA outside its validFor window",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{}) },
			root:  rootWith(func(r *vs.TrustedRoot) { r.TSAs[0].Window = vs.Window{Start: w.now.Add(time.Hour)} }),
			is:    verify.ErrTimestamp, want: "outside the authority's validFor window",
		},
		{
			name:  "no signing time",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{noTimestamp: true}) },
			is:    verify.ErrTimestamp, want: "no verified signing time",
		},
		{
			name: "tlog entry for another signature",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				other := w.sign(t, blob, signing{}) // valid, but not this signature
				s.b.GetVerificationMaterial().TlogEntries = other.b.GetVerificationMaterial().GetTlogEntries()
				return s
			},
			is: verify.ErrTlog, want: "another signature than the bundle's",
		},
		{
			name: "two entries from one log counted as two",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				addEntry(t, s, w.log)
				return s
			},
			policy: func(p *verify.Policy) { p.TlogThreshold = 2 },
			is:     verify.ErrTlog, want: "2 entries from 1 distinct log(s), 2 distinct logs required",
		},
		{
			name:  "log not in the trusted root",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{}) },
			root:  rootWith(func(r *vs.TrustedRoot) { r.Logs = []vs.TrustedLog{{Log: otherLog, Window: r.Logs[0].Window}} }),
			is:    verify.ErrTlog, want: "is not in the trusted root",
		},
		{
			name: "checkpoint signed by another key",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				p := s.b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof()
				p.Checkpoint.Envelope = otherLog.Checkpoint(uint64(p.GetTreeSize()), p.GetRootHash())
				return s
			},
			is: verify.ErrTlog, want: "checkpoint",
		},
		{
			name: "inclusion proof tampered",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				w.sign(t, blob, signing{}) // grow the tree so the proof has hashes
				e := s.b.GetVerificationMaterial().GetTlogEntries()[0]
				fresh := must[*protorekor.TransparencyLogEntry](t)(w.log.Entry(uint64(e.GetLogIndex()), e.GetCanonicalizedBody(), "hashedrekord", "0.0.2"))
				fresh.GetInclusionProof().GetHashes()[0][0] ^= 1
				s.b.GetVerificationMaterial().TlogEntries[0] = fresh
				return s
			},
			is: verify.ErrTlog, want: "inclusion proof does not verify",
		},
		{
			name:  "log outside its validFor window",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{}) },
			root: rootWith(func(r *vs.TrustedRoot) {
				r.Logs[0].Window = vs.Window{Start: w.now.Add(-year), End: w.now.Add(-time.Minute)}
			}),
			is: verify.ErrTlog, want: "validFor window",
		},
		{
			name:  "identity regexp must match the whole SAN",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{email: "malice@example.com.evil"}) },
			policy: func(p *verify.Policy) {
				p.Identity = &verify.Identity{SubjectRegexp: `alice@example\.com`, Issuer: testIssuer}
			},
			is: verify.ErrIdentityMismatch, want: "certificate has malice@example.com.evil",
		},
		{
			name:  "wrong identity",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{email: "bob@example.com"}) },
			is:    verify.ErrIdentityMismatch, want: "want identity alice@example.com, certificate has bob@example.com",
		},
		{
			name: "certificate with two SANs, the policy naming one",
			build: func(t *testing.T) *signed {
				return w.sign(t, blob, signing{uri: "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"})
			},
			is: verify.ErrIdentityMismatch, want: "the certificate names 2 identities (alice@example.com, https://github.com/evil/repo",
		},
		{
			name:  "certificate with two SANs, a pattern matching one",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{uri: "https://evil.example/signer"}) },
			policy: func(p *verify.Policy) {
				p.Identity = &verify.Identity{SubjectRegexp: `.*@example\.com`, Issuer: testIssuer}
			},
			is: verify.ErrIdentityMismatch, want: "a signing certificate must name exactly one",
		},
		{
			name:  "no issuer extension, the issuer pattern matching anything",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{noIssuer: true}) },
			policy: func(p *verify.Policy) {
				p.Identity = &verify.Identity{Subject: testEmail, IssuerRegexp: `.*`}
			},
			is: verify.ErrIdentityMismatch, want: "the certificate names no OIDC issuer (neither the 1.3.6.1.4.1.57264.1.8 nor the deprecated 1.3.6.1.4.1.57264.1.1 extension)",
		},
		{
			name:  "no issuer extension, an exact issuer policy",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{noIssuer: true}) },
			is:    verify.ErrIdentityMismatch, want: "names no OIDC issuer",
		},
		{
			name: "wrong issuer",
			build: func(t *testing.T) *signed {
				return w.sign(t, blob, signing{ext: certext.Extensions{IssuerV2: "https://evil.example"}})
			},
			is: verify.ErrIdentityMismatch, want: `want OIDC issuer https://issuer.example.test, certificate has "https://evil.example"`,
		},
		{
			name: "GitHub workflow repository mismatch",
			build: func(t *testing.T) *signed {
				return w.sign(t, blob, signing{ext: certext.Extensions{GithubWorkflowRepository: "evil/app"}})
			},
			policy: func(p *verify.Policy) { p.Identity.GitHubWorkflowRepository = "acme/app" },
			is:     verify.ErrIdentityMismatch, want: `want GitHub workflow repository "acme/app", certificate has "evil/app"`,
		},
		{
			name:  "certificate without SCT while the trusted root lists CT logs",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{noSCT: true}) },
			is:    verify.ErrNoSCT, want: "carries no SCT",
		},
		{
			name:  "SCT from a log not in the trusted root",
			build: func(t *testing.T) *signed { return w.sign(t, blob, signing{ct: foreignCT}) },
			is:    verify.ErrSCT, want: "no SCT from a CT log of the trusted root",
		},
		{
			name: "bundle embeds the root certificate",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				s.b.MediaType = bundle.MediaTypeV02
				s.b.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
					Certificates: []*protocommon.X509Certificate{{RawBytes: s.cert.Raw}, {RawBytes: w.ca.Intermediate.Raw}, {RawBytes: w.ca.Root.Raw}},
				}}
				return s
			},
			is: verify.ErrCertificate, want: "embeds a self-signed root certificate",
		},
		{
			name: "artifact mismatch",
			build: func(t *testing.T) *signed {
				return w.sign(t, []byte("something else"), signing{})
			},
			is: verify.ErrArtifactMismatch, want: "the bundle signs sha256:",
		},
		{
			name: "entry index differs from its proof",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				s.b.GetVerificationMaterial().GetTlogEntries()[0].LogIndex++
				return s
			},
			is: verify.ErrTlog, want: "inclusion proof is for index",
		},
		{
			name: "DSSE payload that is not an in-toto statement",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{dsse: true})
				env := s.b.GetDsseEnvelope()
				env.PayloadType = "text/plain"
				pae := bundle.PAE(env.PayloadType, env.Payload)
				sum := sha256.Sum256(pae)
				env.Signatures[0].Sig = must[[]byte](t)(ecdsaSign(s.key, sum[:]))
				s.sig, s.digest = env.Signatures[0].Sig, sum[:]
				s.b.GetVerificationMaterial().TlogEntries = nil
				addEntry(t, s, w.log)
				s.b.GetVerificationMaterial().TimestampVerificationData = w.timestamp(t, s.sig)
				return s
			},
			is: verify.ErrStatement, want: `DSSE payloadType "text/plain", want "application/vnd.in-toto+json"`,
		},
		{
			name: "key bundle checked by identity",
			build: func(t *testing.T) *signed {
				s := w.sign(t, blob, signing{})
				s.b.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "h"}}
				return s
			},
			is: verify.ErrMaterial, want: "signed with a key",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := tc.root
			if root.CAs == nil {
				root = w.root
			}
			s := tc.build(t)
			p := identityPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			_, err := w.verifier(t, root).Verify(roundTrip(t, s.b), verify.ArtifactBytes(blob), p)
			if err == nil {
				t.Fatal("verified")
			}
			if !errors.Is(err, tc.is) || !errors.Is(err, verify.ErrVerification) {
				t.Errorf("error %v does not wrap %v and ErrVerification", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestKeyedWithTransparencyLog(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, w.root)
	k := keyCases[0].gen(t)
	b := blobBundle(t, k, crypto.SHA256, blob)
	p := verify.Policy{Key: k.Public()}

	_, err := v.Verify(b, verify.ArtifactBytes(blob), p)
	var missing *verify.MissingTlogEntryError
	if !errors.Is(err, verify.ErrTlog) || !errors.As(err, &missing) || missing.Required != 1 || !strings.Contains(err.Error(), "no transparency log entry") {
		t.Fatalf("keyed bundle without entry: %v", err)
	}

	der := must[[]byte](t)(x509.MarshalPKIXPublicKey(k.Public()))
	sum := sha256.Sum256(blob)
	body := must[[]byte](t)(vs.HashedRekordBody("SHA2_256", sum[:], b.GetMessageSignature().GetSignature(), vs.Verifier{PublicKey: der}))
	e := must[*protorekor.TransparencyLogEntry](t)(w.log.Append(body, "hashedrekord", "0.0.2"))
	b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
	if _, err := v.Verify(roundTrip(t, b), verify.ArtifactBytes(blob), p); err != nil {
		t.Fatalf("keyed bundle with entry: %v", err)
	}

	other := keyCases[0].gen(t)
	_, err = v.Verify(b, verify.ArtifactBytes(blob), verify.Policy{Key: other.Public()})
	if !errors.Is(err, verify.ErrNoMatchingSignature) {
		t.Fatalf("wrong key: %v", err)
	}

	// The entry names another key than the one the signature verifies under.
	otherDER := must[[]byte](t)(x509.MarshalPKIXPublicKey(other.Public()))
	body = must[[]byte](t)(vs.HashedRekordBody("SHA2_256", sum[:], b.GetMessageSignature().GetSignature(), vs.Verifier{PublicKey: otherDER}))
	e = must[*protorekor.TransparencyLogEntry](t)(w.log.Append(body, "hashedrekord", "0.0.2"))
	b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
	_, err = v.Verify(b, verify.ArtifactBytes(blob), p)
	if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "another public key") {
		t.Fatalf("entry for another key: %v", err)
	}
}

func TestKeyedP384WithTransparencyLog(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, w.root)
	k := keyCases[1].gen(t) // P-384 signs SHA-384 digests, logged as SHA2_384
	b := blobBundle(t, k, crypto.SHA384, blob)
	der := must[[]byte](t)(x509.MarshalPKIXPublicKey(k.Public()))
	digest := hashOf(crypto.SHA384, blob)
	for _, tc := range []struct {
		alg    string
		digest []byte
		want   string
	}{
		{"SHA2_384", digest, ""},
		{"SHA2_256", hashOf(crypto.SHA256, blob), "no digest of the entry's algorithm"},
		{"SHA2_384", hashOf(crypto.SHA384, []byte("other")), "the entry records digest"},
	} {
		body := must[[]byte](t)(vs.HashedRekordBody(tc.alg, tc.digest, b.GetMessageSignature().GetSignature(), vs.Verifier{PublicKey: der}))
		e := must[*protorekor.TransparencyLogEntry](t)(w.log.Append(body, "hashedrekord", "0.0.2"))
		b.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
		_, err := v.Verify(b, verify.ArtifactBytes(blob), verify.Policy{Key: k.Public()})
		if tc.want == "" && err != nil {
			t.Errorf("%s entry: %v", tc.alg, err)
		}
		if tc.want != "" && (!errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s entry: %v, want an error mentioning %q", tc.alg, err, tc.want)
		}
	}
}

func TestDSSEEntryKind(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, w.root)
	sum := sha256.Sum256(blob)
	for _, tc := range []struct {
		name    string
		payload func(env []byte) []byte
		sig     func(sig []byte) []byte
		want    string
	}{
		{"matching", func(p []byte) []byte { return p }, func(s []byte) []byte { return s }, ""},
		{"payload hash of another envelope", func(p []byte) []byte { return append(p, ' ') }, func(s []byte) []byte { return s }, "payload: the entry records digest"},
		{"another signature", func(p []byte) []byte { return p }, func(s []byte) []byte { return append([]byte{0}, s...) }, "another signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := w.sign(t, blob, signing{dsse: true})
			env := s.b.GetDsseEnvelope()
			payloadSum := sha256.Sum256(tc.payload(env.GetPayload()))
			body := must[[]byte](t)(vs.DSSEBody(payloadSum[:], tc.sig(s.sig), vs.Verifier{Certificate: s.cert}))
			e := must[*protorekor.TransparencyLogEntry](t)(w.log.Append(body, "dsse", "0.0.2"))
			s.b.GetVerificationMaterial().TlogEntries = []*protorekor.TransparencyLogEntry{e}
			_, err := v.Verify(roundTrip(t, s.b), verify.ArtifactDigest(crypto.SHA256, sum[:]), identityPolicy())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("unsupported kind", func(t *testing.T) {
		s := w.sign(t, blob, signing{})
		e := s.b.GetVerificationMaterial().GetTlogEntries()[0]
		e.KindVersion = &protorekor.KindVersion{Kind: "rekord", Version: "0.0.1"}
		_, err := v.Verify(s.b, verify.ArtifactBytes(blob), identityPolicy())
		if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "entry kind rekord 0.0.1 is not supported") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("kind differs from the body", func(t *testing.T) {
		s := w.sign(t, blob, signing{})
		e := s.b.GetVerificationMaterial().GetTlogEntries()[0]
		e.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.2"}
		_, err := v.Verify(s.b, verify.ArtifactBytes(blob), identityPolicy())
		if !errors.Is(err, verify.ErrTlog) || !strings.Contains(err.Error(), "entry body is hashedrekord 0.0.2, the bundle says dsse 0.0.2") {
			t.Errorf("error %v", err)
		}
	})
}

// TestVerifierConcurrentUse runs one verifier from many goroutines (run with -race).
func TestVerifierConcurrentUse(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(t, w.root)
	bundles := make([]*protobundle.Bundle, 4)
	for i := range bundles {
		bundles[i] = w.sign(t, blob, signing{}).b
	}
	errs := make(chan error, 4*len(bundles))
	for range 4 {
		for _, b := range bundles {
			go func() {
				_, err := v.Verify(b, verify.ArtifactBytes(blob), identityPolicy())
				errs <- err
			}()
		}
	}
	for range 4 * len(bundles) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

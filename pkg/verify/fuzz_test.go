package verify_test

import (
	"crypto"
	"os"
	"path/filepath"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func FuzzParseTrustedRoot(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"baseUrl":"https://log","hashAlgorithm":"SHA2_256","publicKey":{"rawBytes":"AA==","keyDetails":"PKIX_ED25519","validFor":{"start":"2024-01-01T00:00:00Z"}},"logId":{"keyId":"AA=="}}]}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json"}`))
	paths, _ := filepath.Glob(filepath.Join(conformanceDir, "bundle-verify", "*", "trusted_root.json"))
	paths = append(paths, filepath.Join(conformanceDir, "public-good", "production", "trusted_root.json"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := root.ParseTrustedRoot(data)
		if err != nil {
			return
		}
		for _, l := range append(r.Tlogs(), r.CTLogs()...) {
			if l.PublicKey == nil || l.ValidFrom.IsZero() {
				t.Fatalf("accepted a log without key or validity start")
			}
		}
		for _, ca := range append(r.CertificateAuthorities(), r.TimestampAuthorities()...) {
			if len(ca.Chain) == 0 {
				t.Fatalf("accepted an authority without certificates")
			}
		}
	})
}

// FuzzVerifyBundle feeds arbitrary bundles to the verifier with the production trusted root:
// it must never panic, and nothing the fuzzer makes may verify.
func FuzzVerifyBundle(f *testing.F) {
	trusted, err := root.LoadTrustedRoot(filepath.Join(conformanceDir, "public-good", "production", "trusted_root.json"))
	if err != nil {
		f.Skipf("trusted root not available: %v", err)
	}
	paths, _ := filepath.Glob(filepath.Join(conformanceDir, "bundle-verify", "*_fail", "bundle.sigstore.json"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	v, err := verify.New(trusted)
	if err != nil {
		f.Fatal(err)
	}
	artifact := verify.ArtifactDigest(crypto.SHA256, make([]byte, 32))
	policy := verify.Policy{Identity: &verify.Identity{SubjectRegexp: ".*", IssuerRegexp: ".*"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := bundle.Parse(data)
		if err != nil {
			return
		}
		if _, err := v.Verify(b, artifact, policy); err == nil {
			t.Fatalf("a fuzzed bundle verified against an all-zero digest")
		}
	})
}

package verify_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// BenchmarkVerifyKeyless verifies a production keyless bundle (certificate chain, SCT, SET,
// checkpoint and inclusion proof) against an artifact digest.
func BenchmarkVerifyKeyless(b *testing.B) {
	trusted, err := root.LoadTrustedRoot(filepath.Join(conformanceDir, "public-good", "production", "trusted_root.json"))
	if err != nil {
		b.Skipf("conformance data not available: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(conformanceDir, "bundle-verify", "happy-path-v0.3", "bundle.sigstore.json"))
	if err != nil {
		b.Fatal(err)
	}
	artifactBytes, err := os.ReadFile(filepath.Join(conformanceDir, "a.txt"))
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(trusted)
	if err != nil {
		b.Fatal(err)
	}
	policy := verify.Policy{Identity: &verify.Identity{Subject: conformanceIdentity, Issuer: conformanceIssuer}}
	artifact := verify.ArtifactBytes(artifactBytes)
	b.ResetTimer()
	for b.Loop() {
		bd, err := bundle.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(bd, artifact, policy); err != nil {
			b.Fatal(err)
		}
	}
}

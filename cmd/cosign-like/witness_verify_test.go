package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
)

// TestVerifyWitnessPolicyCLI: --witness-policy reaches the verifier. A keyless blob signed through
// the stack, whose log is witnessed, verifies under the stack's policy and under no policy, and is
// refused under a policy whose quorum also needs a witness that never cosigned.
func TestVerifyWitnessPolicyCLI(t *testing.T) {
	st, token := startKeylessStack(t)
	t.Setenv("COSIGN_LIKE_WITNESS_POLICY", "")
	dir := t.TempDir()
	blob := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(blob, []byte("release notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "notes.sigstore.json")
	mustRun(t, "sign-blob", "-y", "--identity-token", token, "--bundle", bundle, blob)
	verify := []string{"verify-blob", "--certificate-identity", "alice@example.com",
		"--certificate-oidc-issuer", st.OIDCURL, "--bundle", bundle, blob}

	mustRun(t, verify...)
	mustRun(t, append(verify, "--witness-policy", st.WitnessPolicyPath)...)

	policy, err := os.ReadFile(st.WitnessPolicyPath)
	if err != nil {
		t.Fatal(err)
	}
	absent, err := vs.NewWitness("absent.example/w2")
	if err != nil {
		t.Fatal(err)
	}
	stricter := strings.Replace(string(policy), "quorum w1\n",
		absent.PolicyLine("w2")+"group both all w1 w2\nquorum both\n", 1)
	if stricter == string(policy) {
		t.Fatalf("the stack's policy has no \"quorum w1\" line:\n%s", policy)
	}
	stricterPath := filepath.Join(dir, "stricter_policy.txt")
	if err := os.WriteFile(stricterPath, []byte(stricter), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, `witness quorum not met: quorum "both" needs more than the cosignatures of [w1]`, append(verify, "--witness-policy", stricterPath)...)
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const conformanceData = "../../../shared/conformance"

func runVerifyBundleCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"verify-bundle"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestVerifyBundleCommand(t *testing.T) {
	if _, err := os.Stat(conformanceData); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance data missing: %v", err)
		}
		t.Skipf("conformance data not found: %v", err)
	}
	prod := filepath.Join(conformanceData, "public-good", "production", "trusted_root.json")
	artifact := filepath.Join(conformanceData, "a.txt")
	const (
		identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
		issuer   = "https://token.actions.githubusercontent.com"
	)
	caseBundle := func(name string) string {
		return filepath.Join(conformanceData, "bundle-verify", name, "bundle.sigstore.json")
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"identity, artifact path", []string{"--bundle", caseBundle("happy-path-v0.3"), "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", prod, artifact}, ""},
		{"identity, digest", []string{"--bundle", caseBundle("happy-path-v0.3"), "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", prod,
			"sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"}, ""},
		{"key", []string{"--bundle", caseBundle("managed-key-happy-path"), "--key", filepath.Join(conformanceData, "bundle-verify", "managed-key-happy-path", "key.pub"), "--trusted-root", prod, artifact}, ""},
		{"wrong identity", []string{"--bundle", caseBundle("happy-path-v0.3"), "--certificate-identity", "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main", "--certificate-oidc-issuer", issuer, "--trusted-root", prod, artifact},
			"identity mismatch: want identity https://github.com/evil/repo"},
		{"no trusted root", []string{"--bundle", caseBundle("happy-path-v0.3"), "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, artifact}, "no trusted root"},
		{"neither key nor identity", []string{"--bundle", caseBundle("happy-path-v0.3"), "--trusted-root", prod, artifact}, "give --key"},
		{"key and identity", []string{"--bundle", caseBundle("happy-path-v0.3"), "--key", "k.pub", "--certificate-identity", identity, "--trusted-root", prod, artifact}, "exclude each other"},
		{"malformed bundle", []string{"--bundle", caseBundle("bundle-malformed-json_fail"), "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", prod, artifact}, "invalid bundle: parsing JSON"},
		{"bad digest argument", []string{"--bundle", caseBundle("happy-path-v0.3"), "--certificate-identity", identity, "--certificate-oidc-issuer", issuer, "--trusted-root", prod, "sha256:zz"}, "want 64 hex characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runVerifyBundleCmd(t, tc.args...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("verify-bundle failed: %v", err)
				}
				if !strings.Contains(out, "Verified OK") {
					t.Errorf("output %q", out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

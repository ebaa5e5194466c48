package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/devstack"
)

// TestKeylessAttestCLI attests with no key through the embedded stack (token, CA with SCT, TSA,
// log: a hashedrekord entry over the DSSE pre-authentication encoding) and verifies by identity,
// with policies, on the registry and from a saved layout.
func TestKeylessAttestCLI(t *testing.T) {
	ctx := context.Background()
	st, token := startKeylessStack(t)
	img, err := devstack.PushSample(ctx, st.RegistryHost+"/demo/attest:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := img.String()
	mustRun(t, "attest", "-y", "--identity-token", token, "--type", "spdxjson", "--predicate", attestTestdata("sbom.spdx.json"), ref)
	// The legacy layout cannot carry a Rekor v2 entry: keyless with a timestamp only.
	mustRun(t, "attest", "-y", "--identity-token", token, "--tlog-upload=false", "--new-bundle-format=false", "--type", "slsaprovenance1", "--predicate", attestTestdata("provenance.slsa1.json"), ref)
	mustFail(t, "legacy layout", "attest", "-y", "--identity-token", token, "--new-bundle-format=false", "--type", "vuln", "--predicate", attestTestdata("vuln.json"), ref)

	id := []string{"--certificate-identity", "alice@example.com", "--certificate-oidc-issuer", st.OIDCURL}
	stdout, _ := mustRun(t, append(append([]string{"verify-attestation", "--type", "spdxjson", "--policy", attestTestdata("policy-spdx.rego"), "-o", "text"}, id...), ref)...)
	if !strings.Contains(stdout, "identity:  alice@example.com") || !strings.Contains(stdout, "signed at:") {
		t.Fatalf("keyless verify-attestation printed %q", stdout)
	}
	mustFail(t, "identity", append(append([]string{"verify-attestation", "--type", "spdxjson"}, "--certificate-identity", "bob@example.com", "--certificate-oidc-issuer", st.OIDCURL), ref)...)
	mustFail(t, "data.signature.deny: package musl 1.2.5-r0 is forbidden", append(append([]string{"verify-attestation", "--type", "spdxjson", "--policy", attestTestdata("policy-forbid-musl.rego")}, id...), ref)...)
	// Without a log entry, only --insecure-ignore-tlog accepts the legacy attestation; its time
	// comes from the timestamp.
	mustFail(t, "transparency log", append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, id...), ref)...)
	mustRun(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1", "--insecure-ignore-tlog", "--policy", attestTestdata("policy-cosign-v0.rego")}, id...), ref)...)

	layout := filepath.Join(t.TempDir(), "airgap")
	mustRun(t, "save", "--dir", layout, ref)
	mustRun(t, append(append([]string{"verify-attestation", "--type", "spdxjson", "--local-image"}, id...), layout)...)

	dir := t.TempDir()
	blob := filepath.Join(dir, "app.tar.gz")
	if err := os.WriteFile(blob, []byte("keyless release bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(dir, "app.att.json")
	mustRun(t, "attest-blob", "--identity-token", token, "--type", "cyclonedx", "--predicate", attestTestdata("sbom.cdx.json"), "--bundle", b, blob)
	mustRun(t, append(append([]string{"verify-blob-attestation", "--type", "cyclonedx", "--bundle", b}, id...), blob)...)
}

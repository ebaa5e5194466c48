package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/attest"
)

// cuePolicies require an SPDX attestation checked in CUE: sbom/** asks for SPDX 2.3 (what the
// test SBOM is), sbom/strict* for SPDX 2.2, and notes/** a custom attestation whose Data is
// the release note of the test data; spec.policy of sbom-count checks, in CUE, the result
// the authorities established.
func cuePolicies(host, keyPEM string) string {
	return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: cue-sbom}
spec:
  images: [{glob: "%[1]s/sbom/**"}]
  authorities:
    - name: sbom-signer
      key:
        data: |
          %[2]s
      attestations:
        - name: spdx
          predicateType: spdxjson
          policy:
            type: cue
            data: |
              predicateType: "https://spdx.dev/Document"
              predicate: spdxVersion: "SPDX-2.3"
  policy:
    type: cue
    data: |
      import "list"
      authorityMatches: "sbom-signer": attestations: spdx: list.MinItems(1)
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: cue-strict}
spec:
  images: [{glob: "%[1]s/sbom/strict*"}]
  authorities:
    - key:
        data: |
          %[2]s
      attestations:
        - name: spdx-2.2
          predicateType: https://spdx.dev/Document
          policy:
            type: cue
            data: |
              predicate: spdxVersion: "SPDX-2.2"
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: cue-notes}
spec:
  images: [{glob: "%[1]s/notes/**"}]
  authorities:
    - key:
        data: |
          %[2]s
      attestations:
        - name: reviewed
          predicateType: custom
          policy:
            type: cue
            data: |
              import "strings"
              import "time"
              predicateType: "https://cosign.sigstore.dev/attestation/v1"
              predicate: {
                Data: =~"reviewed-by: alice"
                Timestamp: <time.Parse(time.RFC3339, "2049-10-09T17:10:27Z")
                Data: strings.HasPrefix("release notes")
              }
`, host, keyPEM)
}

func TestCUEAttestationPolicies(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	key := newKey(t)
	hook := startWebhook(t, Config{Policies: parsePolicies(t, cuePolicies(host, publicPEM(t, key, "          ")))})
	attested := signImage(t, host, "sbom/app", key, false)
	attestSBOM(t, attested, key)
	if r := hook.review("/validate", fixture(t, "pod", attested.String(), attested.String())); !r.Allowed {
		t.Fatalf("image with an SPDX 2.3 attestation refused: %s", message(r))
	}

	// The SBOM is SPDX 2.3; cue-strict's CUE wants 2.2: the conflict is named.
	strict := signImage(t, host, "sbom/strict-app", key, false)
	attestSBOM(t, strict, key)
	r := hook.review("/validate", fixture(t, "pod", strict.String(), attested.String()))
	msg := message(r)
	if r.Allowed || !strings.Contains(msg, "failed policy cue-strict") || strings.Contains(msg, "failed policy cue-sbom") ||
		!strings.Contains(msg, `spdx-2.2: predicate.spdxVersion: conflicting values "SPDX-2.3" and "SPDX-2.2"`) {
		t.Fatalf("allowed %t, %q", r.Allowed, msg)
	}

	// Without an attestation, the authority fails before spec.policy is looked at.
	bare := signImage(t, host, "sbom/bare", key, false)
	if r := hook.review("/validate", fixture(t, "pod", bare.String(), attested.String())); r.Allowed || !strings.Contains(message(r), "failed policy cue-sbom") {
		t.Fatalf("image without an attestation: allowed %t, %q", r.Allowed, message(r))
	}

	// A custom attestation: its Data and Timestamp are checked with CUE's regexp, strings and
	// time packages.
	notes := signImage(t, host, "notes/app", key, false)
	attestPredicate(t, notes, key, attest.PredicateCustom, []byte("release notes for example-app 1.4.0\nreviewed-by: alice\n"))
	if r := hook.review("/validate", fixture(t, "pod", notes.String(), attested.String())); !r.Allowed {
		t.Fatalf("reviewed notes refused: %s", message(r))
	}
	unreviewed := signImage(t, host, "notes/unreviewed", key, false)
	attestPredicate(t, unreviewed, key, attest.PredicateCustom, []byte("release notes for example-app 1.5.0\n"))
	r = hook.review("/validate", fixture(t, "pod", unreviewed.String(), attested.String()))
	if msg := message(r); r.Allowed || !strings.Contains(msg, "failed policy cue-notes") || !strings.Contains(msg, "predicate.Data: invalid value") ||
		!strings.Contains(msg, `(out of bound =~"reviewed-by: alice")`) {
		t.Fatalf("unreviewed notes: allowed %t, %q", r.Allowed, msg)
	}
}

// TestCUESpecPolicyFails: a CUE spec.policy that the authorities' result does not meet fails
// the policy, naming the field.
func TestCUESpecPolicyFails(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	key := newKey(t)
	doc := keyPolicy(t, "two-signatures", host+"/**", key) + `  policy:
    type: cue
    data: |
      import "list"
      authorityMatches: "authority-0": signatures: list.MinItems(2)
`
	hook := startWebhook(t, Config{Policies: parsePolicies(t, doc)})
	img := signImage(t, host, "app", key, false)
	r := hook.review("/validate", fixture(t, "pod", img.String(), img.String()))
	if msg := message(r); r.Allowed || !strings.Contains(msg, "failed policy two-signatures: spec.policy: policy failed: two-signatures.spec.policy: authorityMatches.\"authority-0\".signatures: invalid value") {
		t.Fatalf("allowed %t, %q", r.Allowed, msg)
	}
}

// TestMalformedCUERefused: a CUE policy that does not compile is refused when the policies are
// put to work, naming the file, the policy and the field.
func TestMalformedCUERefused(t *testing.T) {
	pem := publicPEM(t, newKey(t), "          ")
	for field, tail := range map[string]string{
		"spec.authorities[0].attestations[0].policy.data": `
      attestations:
        - name: a
          predicateType: spdx
          policy: {type: cue, data: "predicate: {spdxVersion: \"SPDX-2.3\""}`,
		"spec.policy.data": `
  policy: {type: cue, data: "authorityMatches: a: b: c: d: ]"}`,
	} {
		docs := parsePolicies(t, "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities:\n    - key:\n        data: |\n          "+pem+tail+"\n")
		_, err := NewDecider(context.Background(), docs, DeciderOptions{})
		if err == nil || !strings.Contains(err.Error(), `test.yaml: policy "p": `+field+": invalid policy") {
			t.Errorf("err = %v\nwant it to name test.yaml, policy p and %s", err, field)
		}
	}
}

package admission

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/devstack"
	"github.com/cosign-like/cosign-like/pkg/root"
)

// TestKeylessPolicies signs an image keyless through the in-process stack (CA with SCT, TSA,
// log) and judges it against policies naming the signer's identity, another identity, and an
// identity pattern.
func TestKeylessPolicies(t *testing.T) {
	ctx := context.Background()
	w := startDevWorld(t)
	st, trusted := w.st, w.trusted
	// signAs pushes an image and signs it keyless as alice: with a timestamp and a log entry,
	// or (timestampOnly) a timestamp alone; attest adds a keyless SPDX attestation.
	signAs := func(ref string, timestampOnly, attestToo bool) string {
		img, err := devstack.PushSample(ctx, ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, o := w.keyless(t, "alice@example.com")
		if timestampOnly {
			o.RekorURL, o.LogKeys = "", nil
		}
		sign(t, img, s, o)
		if attestToo {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
			if err != nil {
				t.Fatal(err)
			}
			attestWith(t, img, s, o, attest.PredicateSPDX, data)
		}
		return img.String()
	}
	signed := func(ref string) string { return signAs(ref, false, false) }
	alice := signed(st.RegistryHost + "/team/app:v1")
	other := signed(st.RegistryHost + "/ops/tool:v1")
	anyone := signed(st.RegistryHost + "/lab/tool:v1")
	pols := parsePolicies(t, fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: team}
spec:
  images: [{glob: "%[1]s/team/**"}]
  authorities:
    - keyless:
        identities:
          - {issuer: "%[2]s", subject: alice@example.com}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: ops}
spec:
  images: [{glob: "%[1]s/ops/**"}]
  authorities:
    - keyless:
        identities:
          - {issuer: "%[2]s", subject: bob@example.com}
          - {issuerRegExp: "https://accounts\\.example\\.com", subjectRegExp: ".*"}
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: lab}
spec:
  images: [{glob: "%[1]s/lab/**"}]
  authorities:
    - keyless:
        identities:
          - {issuerRegExp: "http://127\\.0\\.0\\.1:[0-9]+", subjectRegExp: ".*@example\\.com"}
`, st.RegistryHost, st.OIDCURL))
	hook := startWebhook(t, Config{Policies: pols, Decider: DeciderOptions{Trust: Trust{Default: trusted}}})
	if r := hook.review("/validate", fixture(t, "pod", alice, anyone)); !r.Allowed {
		t.Fatalf("alice's images refused: %s", message(r))
	}
	r := hook.review("/validate", fixture(t, "pod", other, alice))
	msg := message(r)
	for _, want := range []string{"failed policy ops", "identity 0 (bob@example.com, " + st.OIDCURL + ")",
		"want identity bob@example.com, certificate has alice@example.com", "identity 1", "want an OIDC issuer matching"} {
		if r.Allowed || !strings.Contains(msg, want) {
			t.Errorf("allowed %t, message %q\nwant it to say %q", r.Allowed, msg, want)
		}
	}

	// A keyless attestation; and a signature with a timestamp and no log entry, which passes
	// only an authority with rfc3161timestamp.
	attested := signAs(st.RegistryHost+"/sbom/app:v1", false, true)
	stamped := signAs(st.RegistryHost+"/tsa/app:v1", true, false)
	tsaPolicies := parsePolicies(t, fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: sbom}
spec:
  images: [{glob: "%[1]s/sbom/**"}]
  authorities:
    - keyless:
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
      attestations:
        - name: spdx
          predicateType: spdxjson
          policy:
            type: rego
            data: |
              package sigstore
              isCompliant { input.predicate.spdxVersion == "SPDX-2.3" }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: timestamped}
spec:
  images: [{glob: "%[1]s/tsa/**"}]
  authorities:
    - name: with-tsa
      keyless:
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
      rfc3161timestamp: {}
`, st.RegistryHost, st.OIDCURL))
	hook = startWebhook(t, Config{Policies: tsaPolicies, Decider: DeciderOptions{Trust: Trust{Default: trusted}}})
	if r := hook.review("/validate", fixture(t, "pod", attested, stamped)); !r.Allowed {
		t.Fatalf("keyless attestation and timestamped signature refused: %s", message(r))
	}
	noTSA := parsePolicies(t, fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: logged}
spec:
  images: [{glob: "%[1]s/tsa/**"}]
  authorities:
    - keyless:
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
`, st.RegistryHost, st.OIDCURL))
	hook = startWebhook(t, Config{Policies: noTSA, Decider: DeciderOptions{Trust: Trust{Default: trusted}}})
	if r := hook.review("/validate", fixture(t, "job", stamped)); r.Allowed || !strings.Contains(message(r), "failed policy logged") ||
		!strings.Contains(message(r), "the bundle has no transparency log entry") {
		t.Fatalf("a signature without a log entry, no rfc3161timestamp: allowed %t, %q", r.Allowed, message(r))
	}

	// A TrustRoot document naming the stack's TUF repository gives the trust root a policy
	// names, fetched and verified from the repository.
	tufRoot, err := os.ReadFile(st.TUFRootPath)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := policy.Parse("trust.yaml", []byte(fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1alpha1
kind: TrustRoot
metadata: {name: dev-tuf}
spec:
  remote:
    mirror: %[3]s
    root: %[4]s
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: via-tuf}
spec:
  images: [{glob: "%[1]s/team/**"}]
  authorities:
    - keyless:
        trustRootRef: dev-tuf
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
`, st.RegistryHost, st.OIDCURL, st.TUFMirror, base64.StdEncoding.EncodeToString(tufRoot))))
	if err != nil {
		t.Fatal(err)
	}
	named, err := FetchTrustRoots(ctx, docs.TrustRoots, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hook = startWebhook(t, Config{Policies: docs.Policies, Decider: DeciderOptions{Trust: Trust{Named: named}}})
	if r := hook.review("/validate", fixture(t, "job", alice)); !r.Allowed {
		t.Fatalf("trust root from TUF: refused: %s", message(r))
	}

	// The trust root a policy names (trustRootRef), and a CA given inline (ca-cert): the stack's
	// own CA passes, another CA does not.
	ca := pki.EncodeCertificates(trusted.CertificateAuthorities()[0].Chain)
	otherCA, _, err := pki.NewThrowawayRoot(pkix.Name{CommonName: "another CA"}, time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	indent := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n            ") }
	refPolicies := parsePolicies(t, fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: by-ref}
spec:
  images: [{glob: "%[1]s/team/**"}]
  authorities:
    - keyless:
        trustRootRef: dev
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: own-ca}
spec:
  images: [{glob: "%[1]s/lab/**"}]
  authorities:
    - keyless:
        ca-cert:
          data: |
            %[3]s
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: other-ca}
spec:
  images: [{glob: "%[1]s/ops/**"}]
  authorities:
    - keyless:
        ca-cert:
          data: |
            %[4]s
        identities: [{issuer: "%[2]s", subject: alice@example.com}]
`, st.RegistryHost, st.OIDCURL, indent(ca), indent(pki.EncodeCertificates([]*x509.Certificate{otherCA}))))
	if _, err := NewDecider(ctx, refPolicies, DeciderOptions{Trust: Trust{Default: trusted}}); err == nil || !strings.Contains(err.Error(), `trust root "dev" is not known`) {
		t.Fatalf("unknown trustRootRef: %v", err)
	}
	hook = startWebhook(t, Config{Policies: refPolicies, Decider: DeciderOptions{Trust: Trust{Default: trusted, Named: map[string]*root.TrustedRoot{"dev": trusted}}}})
	if r := hook.review("/validate", fixture(t, "pod", alice, anyone)); !r.Allowed {
		t.Fatalf("trustRootRef and ca-cert: refused: %s", message(r))
	}
	if r := hook.review("/validate", fixture(t, "pod", other, alice)); r.Allowed || !strings.Contains(message(r), "failed policy other-ca") {
		t.Fatalf("another CA: allowed %t, %q", r.Allowed, message(r))
	}
}

package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/admission"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/root"
)

// TestCosignSignedAdmitted: images that cosign v3.1.3 signs and attests keyless through our
// stack, and signs with a key in both layouts, are admitted by `cosign-like admission test`
// under the policies that name their signers, and refused under policies naming another.
func TestCosignSignedAdmitted(t *testing.T) {
	st := startDevStack(t)
	cosign := newCosignPeer(t, st)
	us := newOurs(t, st)
	reg, issuer := st.env["COSIGN_LIKE_REGISTRY"], st.env["COSIGN_LIKE_OIDC_ISSUER"]
	aliceFile := writeText(t, t.TempDir(), "token", st.token(t, "alice@example.com"))
	cosign.ok(t, "generate-key-pair", "--output-key-prefix", "theirs")
	key := filepath.Join(cosign.work, "theirs.key")
	pub, err := os.ReadFile(filepath.Join(cosign.work, "theirs.pub"))
	if err != nil {
		t.Fatal(err)
	}

	keyless := strings.TrimSpace(us.ok(t, "dev", "push-sample", reg+"/admit/keyless:v1").stdout)
	cosign.ok(t, "sign", "--identity-token", aliceFile, keyless)
	pred := writeText(t, t.TempDir(), "provenance.json", provenancePredicate)
	cosign.ok(t, "attest", "--identity-token", aliceFile, "--type", "slsaprovenance1", "--predicate", pred, keyless)
	keyedBundle := strings.TrimSpace(us.ok(t, "dev", "push-sample", reg+"/admit/keyed-bundle:v1").stdout)
	cosign.ok(t, "sign", "--key", key, keyedBundle)
	keyedLegacy := strings.TrimSpace(us.ok(t, "dev", "push-sample", reg+"/admit/keyed-legacy:v1").stdout)
	cosign.ok(t, "sign", "--key", key, "--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false", keyedLegacy)

	images := []string{keyless, keyedBundle, keyedLegacy}
	policies := func(subject string) string {
		dir := t.TempDir()
		doc := fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: keyless}
spec:
  images: [{glob: "%[1]s/admit/keyless*"}]
  authorities:
    - keyless:
        identities: [{issuer: "%[2]s", subject: "%[3]s"}]
      attestations:
        - name: provenance
          predicateType: https://slsa.dev/provenance/v1
          policy:
            type: rego
            data: |
              package sigstore
              isCompliant { input.predicate.runDetails.builder.id == "https://example.com/builder" }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: keyed}
spec:
  images: [{glob: "%[1]s/admit/keyed-*"}]
  authorities:
    - key:
        data: %[4]q
`, reg, issuer, subject, string(pub))
		writeText(t, dir, "policies.yaml", doc)
		return dir
	}
	alicePolicies := policies("alice@example.com")
	out := us.ok(t, append([]string{"admission", "test", "--policies", alicePolicies}, images...)...).stdout
	for _, img := range images {
		if !strings.Contains(out, "allow "+img) {
			t.Errorf("admission test did not allow %s:\n%s", img, out)
		}
	}
	// The library decides as the binary does.
	docs, err := policy.LoadDir(alicePolicies)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := root.LoadTrustedRoot(st.env["COSIGN_LIKE_TRUSTED_ROOT"])
	if err != nil {
		t.Fatal(err)
	}
	d, err := admission.NewDecider(context.Background(), docs.Policies, admission.DeciderOptions{Trust: admission.Trust{Default: trusted}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var judged []admission.Image
	for _, img := range images {
		judged = append(judged, admission.Image{Ref: img})
	}
	for _, v := range d.Decide(context.Background(), admission.Object{}, judged) {
		if !v.Allowed {
			t.Errorf("the library refused %s: %v", v.Ref, v.Denials)
		}
	}
	r := us.fails(t, "1 of 1 images denied", "admission", "test", "--policies", policies("bob@example.com"), keyless)
	if !strings.Contains(r.stdout, "want identity bob@example.com, certificate has alice@example.com") {
		t.Errorf("admission test under bob's policy printed:\n%s", r.stdout)
	}
}

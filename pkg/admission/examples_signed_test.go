package admission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/attest"
)

// TestDocumentedExamplesSigned decides with the documents of testdata/examples-signed, in the
// shape of policy-controller's documented examples that need signatures and attestations, on
// images signed and attested through the in-process stack, as that documentation says they
// decide.
func TestDocumentedExamplesSigned(t *testing.T) {
	w := startDevWorld(t)
	key := newKey(t)
	replacer := strings.NewReplacer("REGISTRY", w.st.RegistryHost, "ISSUER", w.st.OIDCURL, "PUBLIC_KEY", publicPEM(t, key, "          "))
	dir := filepath.Join("testdata", "examples-signed")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pols []*policy.ClusterImagePolicy
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := policy.Parse(e.Name(), []byte(replacer.Replace(string(data))))
		if err != nil {
			t.Fatal(err)
		}
		pols = append(pols, docs.Policies...)
	}
	hook := startWebhook(t, Config{Policies: pols, Decider: DeciderOptions{Trust: Trust{Default: w.trusted}}})
	sbom, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	cdx, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	vuln, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "vuln.json"))
	if err != nil {
		t.Fatal(err)
	}
	alice, aliceOpts := w.keyless(t, "alice@example.com")
	keyOpts := w.logged(t)

	keySBOM := w.push(t, "key-sbom/app")
	attestWith(t, keySBOM, key, keyOpts, attest.PredicateSPDX, sbom)
	keyCDX := w.push(t, "key-sbom/cdx-only")
	attestWith(t, keyCDX, key, keyOpts, attest.PredicateCycloneDX, cdx)
	keylessSBOM := w.push(t, "keyless-sbom/app")
	attestWith(t, keylessSBOM, alice, aliceOpts, attest.PredicateSPDX, sbom)
	keyedNotKeyless := w.push(t, "keyless-sbom/by-key")
	attestWith(t, keyedNotKeyless, key, keyOpts, attest.PredicateSPDX, sbom)
	custom := w.push(t, "custom/app")
	attestWith(t, custom, alice, aliceOpts, attest.PredicateCustom, []byte("release approved"))
	customOther := w.push(t, "custom/other")
	attestWith(t, customOther, alice, aliceOpts, attest.PredicateCustom, []byte("release postponed"))
	literal := w.push(t, "custom-literal/app")
	attestWith(t, literal, alice, aliceOpts, attest.PredicateCustom, []byte("release approved"))
	demo := func(repo string, keySignatures int) string {
		img := w.push(t, repo)
		sign(t, img, alice, aliceOpts)
		for range keySignatures {
			sign(t, img, key, keyOpts)
		}
		attestWith(t, img, alice, aliceOpts, attest.PredicateCustom, []byte("release approved"))
		attestWith(t, img, alice, aliceOpts, attest.PredicateVuln, vuln)
		attestWith(t, img, key, keyOpts, attest.PredicateCustom, []byte("release approved by key"))
		return img.String()
	}
	demoOK := demo("demo/app", 1)
	demoTwice := demo("demo/signed-twice", 2)

	for _, c := range []struct {
		name    string
		image   string
		allowed bool
		says    []string
	}{
		{"SPDX attestation by the key", keySBOM.String(), true, nil},
		{"only a CycloneDX attestation by the key", keyCDX.String(), false, []string{"failed policy custom-key-attestation-sbom-spdxjson", "attestation must-have-spdxjson"}},
		{"keyless SPDX attestation", keylessSBOM.String(), true, nil},
		{"SPDX attestation by a key, not the identity", keyedNotKeyless.String(), false, []string{"failed policy keyless-attestation-sbom-spdxjson", "attestation must-have-spdxjson"}},
		{"custom attestation with the text", custom.String(), true, nil},
		{"custom attestation with another text", customOther.String(), false, []string{"failed policy custom-data", `predicate.Data: conflicting values "release postponed" and "release approved"`}},
		{"predicate compared with the text itself", literal.String(), false, []string{"failed policy custom-literal:", "custom-match-predicate: predicate: conflicting values \"release approved\" and {",
			"failed policy custom-literal-rego:", "data.sigstore.isCompliant is not true"}},
		{"two signers, two keyless attestations, one key attestation", demoOK, true, nil},
		{"the key signed twice", demoTwice, false, []string{"failed policy two-signatures-two-attestations: spec.policy: policy failed", "authorityMatches.keysignature.signatures: invalid value"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := hook.review("/validate", fixture(t, "job", c.image))
			msg := message(r)
			if r.Allowed != c.allowed {
				t.Fatalf("allowed %t, want %t: %s", r.Allowed, c.allowed, msg)
			}
			for _, want := range c.says {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q\nwant it to say %q", msg, want)
				}
			}
		})
	}
}

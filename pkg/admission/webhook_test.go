package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

// keyedWorld is a registry with images signed by one key, and the policies about them.
type keyedWorld struct {
	host     string
	counter  *testutil.RequestCounter
	signed   name.Digest // bundle layout
	legacy   name.Digest // cosign's .sig layout
	unsigned name.Digest
	wrongKey name.Digest
	attested name.Digest // signed and with an SPDX attestation
	noSBOM   name.Digest // signed, no attestation
	key      signer.Signer
	hook     *webhook
}

func keyedPolicies(host, keyPEM string) string {
	return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: shop-key}
spec:
  images: [{glob: "%[1]s/shop/**"}]
  authorities:
    - name: release-key
      key:
        data: |
          %[2]s
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: sbom}
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
            type: rego
            data: |
              package sigstore
              default isCompliant = false
              isCompliant {
                input.predicateType == "https://spdx.dev/Document"
                input.predicate.spdxVersion == "SPDX-2.3"
              }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: sbom-strict}
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
            type: rego
            data: |
              package sigstore
              isCompliant = {"result": false, "error": "only SPDX 2.2 SBOMs are accepted"} {
                input.predicate.spdxVersion != "SPDX-2.2"
              }
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: trial}
spec:
  mode: warn
  images: [{glob: "%[1]s/trial/**"}]
  authorities:
    - key:
        data: |
          %[2]s
`, host, keyPEM)
}

func newKeyedWorld(t *testing.T, cfg Config) *keyedWorld { return newKeyedWorldTB(t, cfg) }

func newKeyedWorldTB(t testing.TB, cfg Config) *keyedWorld {
	t.Helper()
	host, counter := testutil.NewRegistry(t)
	key := newKey(t)
	w := &keyedWorld{host: host, counter: counter, key: key}
	w.signed = signImage(t, host, "shop/signed", key, false)
	w.legacy = signImage(t, host, "shop/legacy", key, true)
	w.unsigned = signImage(t, host, "shop/unsigned", nil, false)
	w.wrongKey = signImage(t, host, "shop/wrong-key", newKey(t), false)
	w.attested = signImage(t, host, "sbom/attested", key, false)
	attestSBOM(t, w.attested, key)
	w.noSBOM = signImage(t, host, "sbom/none", key, false)
	cfg.Policies = parsePolicies(t, keyedPolicies(host, publicPEM(t, key, "          ")))
	w.hook = startWebhook(t, cfg)
	return w
}

func TestValidateEachKind(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	for _, c := range []struct {
		fixture string
		images  []name.Digest
	}{
		{"pod", []name.Digest{w.signed, w.legacy}},
		{"deployment", []name.Digest{w.signed, w.legacy, w.attested}},
		{"replicaset", []name.Digest{w.legacy}},
		{"statefulset", []name.Digest{w.signed}},
		{"daemonset", []name.Digest{w.signed}},
		{"job", []name.Digest{w.legacy}},
		{"cronjob", []name.Digest{w.signed}},
		{"pod-ephemeral", []name.Digest{w.signed, w.legacy}},
	} {
		t.Run(c.fixture, func(t *testing.T) {
			refs := make([]string, len(c.images))
			for i, d := range c.images {
				refs[i] = d.String()
			}
			r := w.hook.review("/validate", fixture(t, c.fixture, refs...))
			if !r.Allowed {
				t.Fatalf("refused: %s", message(r))
			}
			// The same kind with an unsigned image in its first container is refused.
			refs[0] = w.unsigned.String()
			r = w.hook.review("/validate", fixture(t, c.fixture, refs...))
			if r.Allowed || !strings.Contains(message(r), w.unsigned.String()) {
				t.Fatalf("unsigned image: allowed %t, %q", r.Allowed, message(r))
			}
		})
	}
}

func TestValidateRefusals(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	for _, c := range []struct {
		name  string
		image string
		want  []string
	}{
		{"unsigned", w.unsigned.String(), []string{"failed policy shop-key", "authority release-key", "no valid signature: no signatures found for " + w.unsigned.String()}},
		{"wrong key", w.wrongKey.String(), []string{"failed policy shop-key", "authority release-key", "no valid signature for " + w.wrongKey.String(), "bundle sha256:"}},
		{"tag", w.host + "/shop/signed:latest", []string{"spec.containers[0].image: " + w.host + "/shop/signed:latest: must be an image digest"}},
		{"missing attestation", w.noSBOM.String(), []string{"failed policy sbom", "authority sbom-signer: attestation spdx", "no verified attestation: no attestation of predicate type https://spdx.dev/Document verified for " + w.noSBOM.String()}},
		{"no policy", w.host + "/elsewhere/app@" + w.signed.DigestStr(), []string{"no matching policies"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.hook.review("/validate", fixture(t, "pod", c.image, w.signed.String()))
			if r.Allowed {
				t.Fatal("allowed")
			}
			for _, want := range c.want {
				if !strings.Contains(message(r), want) {
					t.Errorf("message %q\nwant it to say %q", message(r), want)
				}
			}
		})
	}
}

func TestAttestationPolicies(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	r := w.hook.review("/validate", fixture(t, "pod", w.attested.String(), w.signed.String()))
	if !r.Allowed {
		t.Fatalf("attested image refused: %s", message(r))
	}
	// sbom/strict-app matches both sbom (SPDX 2.3 passes its Rego) and sbom-strict (whose
	// Rego wants SPDX 2.2): every matching policy must pass, and one does not.
	strict := signImage(t, w.host, "sbom/strict-app", w.key, false)
	attestSBOM(t, strict, w.key)
	r = w.hook.review("/validate", fixture(t, "pod", strict.String(), w.signed.String()))
	msg := message(r)
	if r.Allowed || !strings.Contains(msg, "failed policy sbom-strict") || strings.Contains(msg, "failed policy sbom:") ||
		!strings.Contains(msg, "policy failed") || !strings.Contains(msg, "data.sigstore.isCompliant: only SPDX 2.2 SBOMs are accepted") {
		t.Fatalf("allowed %t, %q", r.Allowed, msg)
	}
}

func TestDeploymentNamesTheUnsignedContainer(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	r := w.hook.review("/validate", fixture(t, "deployment", w.signed.String(), w.unsigned.String(), w.legacy.String()))
	if r.Allowed {
		t.Fatal("allowed")
	}
	msg := message(r)
	if !strings.Contains(msg, "spec.template.spec.containers[1].image: "+w.unsigned.String()) {
		t.Errorf("message %q does not name the second container", msg)
	}
	if strings.Contains(msg, w.signed.String()) || strings.Contains(msg, w.legacy.String()) || strings.Count(msg, "failed policy") != 1 {
		t.Errorf("message %q names more than the unsigned container", msg)
	}
}

func TestWarnModeAdmitsWithWarnings(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	trial := signImage(t, w.host, "trial/app", newKey(t), false)
	r := w.hook.review("/validate", fixture(t, "pod", trial.String(), w.signed.String()))
	if !r.Allowed {
		t.Fatalf("refused: %s", message(r))
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "failed policy trial") || !strings.Contains(r.Warnings[0], "no valid signature") {
		t.Fatalf("warnings %q", r.Warnings)
	}
}

func TestNoMatch(t *testing.T) {
	for _, c := range []struct {
		noMatch NoMatch
		allowed bool
		warned  bool
	}{
		{NoMatchDeny, false, false}, {NoMatchWarn, true, true}, {NoMatchAllow, true, false},
	} {
		t.Run(string(c.noMatch), func(t *testing.T) {
			w := newKeyedWorld(t, Config{Decider: DeciderOptions{NoMatch: c.noMatch}})
			other := w.host + "/elsewhere/app@" + w.signed.DigestStr()
			r := w.hook.review("/validate", fixture(t, "pod", other, w.signed.String()))
			if r.Allowed != c.allowed || (len(r.Warnings) > 0) != c.warned {
				t.Fatalf("allowed %t, warnings %q, message %q", r.Allowed, r.Warnings, message(r))
			}
		})
	}
}

func TestMutatePinsTags(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	tag := w.host + "/shop/signed:latest"
	r := w.hook.review("/mutate", fixture(t, "deployment", tag, w.legacy.String(), w.host+"/shop/missing:v9"))
	if !r.Allowed {
		t.Fatalf("refused: %s", message(r))
	}
	if r.PatchType == nil || *r.PatchType != "JSONPatch" {
		t.Fatalf("patch type %v", r.PatchType)
	}
	var ops []patchOp
	if err := json.Unmarshal(r.Patch, &ops); err != nil {
		t.Fatal(err)
	}
	want := patchOp{Op: "replace", Path: "/spec/template/spec/containers/0/image", Value: tag + "@" + w.signed.DigestStr()}
	if len(ops) != 1 || ops[0] != want {
		t.Fatalf("patch %+v, want [%+v]", ops, want)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "spec.template.spec.containers[2].image") {
		t.Fatalf("warnings %q: want one for the tag that does not resolve", r.Warnings)
	}
	// What the patch pins is what the validating webhook accepts.
	v := w.hook.review("/validate", fixture(t, "pod", want.Value, w.legacy.String()))
	if !v.Allowed {
		t.Fatalf("pinned image refused: %s", message(v))
	}
}

func TestSkipped(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	r := w.hook.review("/validate", fixture(t, "pod-delete", w.unsigned.String()))
	if !r.Allowed {
		t.Fatalf("deletion refused: %s", message(r))
	}
}

func TestCacheSavesRegistryRequests(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	body := fixture(t, "deployment", w.signed.String(), w.legacy.String(), w.attested.String())
	w.counter.Reset()
	if r := w.hook.review("/validate", body); !r.Allowed {
		t.Fatalf("refused: %s", message(r))
	}
	first := w.counter.Count()
	if first == 0 {
		t.Fatal("the first review made no registry request")
	}
	// The metric counts what the registry served.
	if n := w.hook.metric("cosign_like_admission_registry_requests_total"); n != float64(first) {
		t.Fatalf("registry_requests_total is %v, the registry served %d", n, first)
	}
	if n := w.hook.metric(`cosign_like_admission_registry_requests_total{result="2xx"}`); n == 0 {
		t.Fatal("no registry request counted as answered 2xx")
	}
	w.counter.Reset()
	for range 1000 {
		if r := w.hook.review("/validate", body); !r.Allowed {
			t.Fatalf("refused: %s", message(r))
		}
	}
	if n := w.counter.Count(); n != 0 {
		t.Fatalf("1000 more identical reviews made %d registry requests (%v), want 0", n, w.counter.Requests())
	}
	if n := w.hook.metric("cosign_like_admission_registry_requests_total"); n != float64(first) {
		t.Fatalf("after 1000 cached reviews registry_requests_total is %v, want it still %d", n, first)
	}
	perReview := `cosign_like_admission_registry_requests_per_review_%s{allowed="true",webhook="validate"}`
	if n, sum := w.hook.metric(fmt.Sprintf(perReview, "count")), w.hook.metric(fmt.Sprintf(perReview, "sum")); n != 1001 || sum != float64(first) {
		t.Fatalf("registry_requests_per_review: count %v, sum %v; want 1001 reviews making %d requests", n, sum, first)
	}
	if n := w.hook.metric(`cosign_like_admission_registry_requests_per_review_bucket{allowed="true",webhook="validate",le="0"}`); n != 1000 {
		t.Fatalf("%v reviews made no registry request, want 1000", n)
	}
	// A failure is not cached: each refusal asks the registry again.
	body = fixture(t, "pod", w.unsigned.String(), w.signed.String())
	w.hook.review("/validate", body)
	w.counter.Reset()
	w.hook.review("/validate", body)
	if w.counter.Count() == 0 {
		t.Fatal("a refusal was answered from the cache")
	}
}

func TestBudgetStalledRegistry(t *testing.T) {
	// A registry that accepts connections and never answers.
	host := testutil.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	digest := "sha256:" + strings.Repeat("ab", 32)
	pols := parsePolicies(t, keyPolicy(t, "stalled", host+"/**", newKey(t)))
	hook := startWebhook(t, Config{Policies: pols, Budget: time.Second})
	image := host + "/app@" + digest
	within(t, 3*time.Second, func() {
		r := hook.review("/validate", fixture(t, "pod", image, image))
		if r.Allowed || !strings.Contains(message(r), "the registry could not be reached within the time budget") {
			t.Fatalf("allowed %t, %q", r.Allowed, message(r))
		}
	})
	within(t, 3*time.Second, func() {
		r := hook.review("/mutate", fixture(t, "pod", host+"/app:v1", image))
		if !r.Allowed || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "could not be reached") {
			t.Fatalf("mutate: allowed %t, warnings %q", r.Allowed, r.Warnings)
		}
	})
}

func TestHealthReadyMetrics(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	w.hook.review("/validate", fixture(t, "pod", w.signed.String(), w.unsigned.String()))
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready: 4 policies",
		"/metrics": `cosign_like_admission_decisions_total{policy="shop-key",result="deny"} 1`,
	} {
		resp, err := w.hook.client.Get(w.hook.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %q in\n%s", path, resp.StatusCode, want, body)
		}
	}
}

func TestReloadKeepsLastGoodPolicies(t *testing.T) {
	w := newKeyedWorld(t, Config{})
	body := fixture(t, "job", w.signed.String())
	if r := w.hook.review("/validate", body); !r.Allowed {
		t.Fatalf("refused: %s", message(r))
	}
	bad, err := policy.Parse("bad.yaml", []byte("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{key: {kms: \"pkcs11:token=absent\"}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.hook.srv.Reload(context.Background(), bad.Policies, DeciderOptions{}); err == nil {
		t.Fatal("a policy whose key does not load was put in force")
	}
	if r := w.hook.review("/validate", body); !r.Allowed {
		t.Fatalf("after a failed reload: refused: %s", message(r))
	}
	deny := parsePolicies(t, "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: closed}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: fail, message: closed for maintenance}}]\n")
	if err := w.hook.srv.Reload(context.Background(), deny, DeciderOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := w.hook.review("/validate", body); r.Allowed || !strings.Contains(message(r), "closed for maintenance") {
		t.Fatalf("after a reload: allowed %t, %q", r.Allowed, message(r))
	}
}

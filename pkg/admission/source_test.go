package admission

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/root"
)

// TestSourceRepositoryAndTagPrefix: signatures kept in another repository, under prefixed
// legacy tags, are found where source[] says, and only there.
func TestSourceRepositoryAndTagPrefix(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	key := newKey(t)
	img := signImage(t, host, "apps/web", key, true)
	// Move the .sig tag to host/signatures:release-sha256-<hex>.sig.
	sigTag := oci.LegacyTag(img, oci.SuffixSignature)
	desc, err := remote.Get(sigTag)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := name.NewTag(host + "/signatures:release-" + sigTag.TagStr())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(moved, desc); err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(sigTag); err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: %[1]s}
spec:
  images: [{glob: "%[2]s/apps/**"}]
  authorities:
    - key:
        data: |
          %[3]s
      signatureFormat: legacy
%[4]s`
	pem := publicPEM(t, key, "          ")
	withSource := fmt.Sprintf(doc, "elsewhere", host, pem, fmt.Sprintf("      source:\n        - oci: %s/signatures\n          tagPrefix: release-\n", host))
	beside := fmt.Sprintf(doc, "beside", host, pem, "")
	for _, c := range []struct {
		policies string
		allowed  bool
	}{{withSource, true}, {beside, false}} {
		hook := startWebhook(t, Config{Policies: parsePolicies(t, c.policies)})
		r := hook.review("/validate", fixture(t, "job", img.String()))
		if r.Allowed != c.allowed {
			t.Errorf("allowed %t, want %t: %s", r.Allowed, c.allowed, message(r))
		}
	}
}

// TestRegistryErrorsGiveUp: a registry that answers 503, or drops the connection in the middle
// of its answer, is retried until the budget ends, and the denial says it could not be reached.
func TestRegistryErrorsGiveUp(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"503": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		},
		"connection dropped": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"schemaVersion": 2, "manif`))
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			host := testutil.Serve(t, h)
			hook := startWebhook(t, Config{Policies: parsePolicies(t, keyPolicy(t, "busy", host+"/**", newKey(t))), Budget: 2 * time.Second})
			image := host + "/app@sha256:" + strings.Repeat("cd", 32)
			within(t, 4*time.Second, func() {
				r := hook.review("/validate", fixture(t, "job", image))
				if r.Allowed || !strings.Contains(message(r), "the registry could not be reached") {
					t.Fatalf("allowed %t, %q", r.Allowed, message(r))
				}
			})
		})
	}
}

// TestPolicySetupRefusals: policies that cannot be put to work are refused at start, naming
// the policy, its file and the field.
func TestPolicySetupRefusals(t *testing.T) {
	pem := publicPEM(t, newKey(t), "          ")
	for want, doc := range map[string]string{
		"spec.authorities[0].ctlog: a transparency log entry is required, and there is no trusted root": `
    - key:
        data: |
          ` + pem + `
      ctlog: {url: "https://rekor.example.com"}`,
		"spec.authorities[0].keyless: keyless verification needs a trusted root": `
    - keyless:
        identities: [{issuer: "https://accounts.example.com", subject: a@example.com}]`,
		"spec.authorities[0].attestations[0].policy.data": `
    - key:
        data: |
          ` + pem + `
      attestations:
        - {name: a, predicateType: spdx, policy: {type: rego, data: "package signature\nallow = true"}}`,
		"spec.authorities[0].key": `
    - key: {kms: "pkcs11:token=absent;object=absent"}`,
	} {
		docs := parsePolicies(t, "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities:"+doc+"\n")
		_, err := NewDecider(context.Background(), docs, DeciderOptions{Trust: Trust{Named: map[string]*root.TrustedRoot{}}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `test.yaml: policy "p"`) {
			t.Errorf("err = %v\nwant it to say %q", err, want)
		}
	}
}

// TestRegistryErrorsRetried: answers cut short and 503s that the registry stops giving are
// retried within the budget, and the image passes.
func TestRegistryErrorsRetried(t *testing.T) {
	inner := testutil.RegistryHandler()
	var failures atomic.Int32
	host := testutil.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/referrers/") {
			switch failures.Add(1) {
			case 1, 2, 3, 4, 5, 6, 7, 8, 9:
				http.Error(w, "overloaded", http.StatusServiceUnavailable)
				return
			case 10:
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"schemaVersion": 2, "manif`))
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
				}
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	key := newKey(t)
	img := signImage(t, host, "apps/web", key, false)
	failures.Store(0)
	hook := startWebhook(t, Config{Policies: parsePolicies(t, keyPolicy(t, "flaky", host+"/**", key)), Budget: 15 * time.Second,
		Decider: DeciderOptions{Registry: []oci.Option{oci.WithRetry(oci.Retry{Attempts: 3, Backoff: 10 * time.Millisecond})}}})
	r := hook.review("/validate", fixture(t, "job", img.String()))
	if !r.Allowed {
		t.Fatalf("refused after %d failed answers: %s", failures.Load(), message(r))
	}
	if n := failures.Load(); n < 11 {
		t.Fatalf("the referrers API was asked %d times, want the 10 failures and a success", n)
	}
}

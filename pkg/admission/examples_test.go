package admission

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
)

// TestExamplesDecide decides with the example policies of testdata/examples, written in the
// shape of policy-controller's documented examples, as that documentation says they decide.
func TestExamplesDecide(t *testing.T) {
	ctx := context.Background()
	docs, err := policy.LoadDir(filepath.Join("testdata", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecider(ctx, docs.Policies, DeciderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const dig = "@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	pod := func(labels map[string]string, images ...string) Object {
		var cs []any
		for _, img := range images {
			cs = append(cs, map[string]any{"image": img})
		}
		return Object{Resource: policy.Resource{APIVersion: "v1", Kind: "Pod", Labels: labels},
			Spec: map[string]any{"containers": cs}, ObjectMeta: map[string]any{"labels": labels},
			TypeMeta: map[string]any{"kind": "Pod", "apiVersion": "v1"}}
	}
	asAccount := func(account string) Object {
		o := pod(nil)
		o.Spec.(map[string]any)["serviceAccount"] = account
		return o
	}
	deployment := Object{Resource: policy.Resource{APIVersion: "apps/v1", Kind: "Deployment"}, TypeMeta: map[string]any{"kind": "Deployment"}}
	for _, c := range []struct {
		name    string
		obj     Object
		image   string
		allowed bool
		says    string // in the denial or warning
	}{
		{"timestamp server in a Pod", pod(nil), "ghcr.io/example/timestamp-server" + dig, true, ""},
		{"timestamp server in a Deployment", deployment, "ghcr.io/example/timestamp-server" + dig, false, "failed policy timestamp-server-only-in-pods: spec.policy: policy failed: data.sigstore.isCompliant is not true"},
		{"scratch image", pod(nil), "scratch.example.com/tool" + dig, false, "failed policy no-scratch-images: authority authority-0: disallowed by static policy: scratch images are for local experiments only"},
		{"payments pod from its registry", pod(map[string]string{"team": "payments"}, "registry.example.com/payments/api"), "registry.example.com/payments/api" + dig, true, ""},
		{"payments pod from elsewhere: a warning", pod(map[string]string{"team": "payments"}, "docker.io/library/nginx"), "nginx" + dig, true, "failed policy payments-pods"},
		{"official image", pod(nil), "busybox" + dig, true, ""},
		{"user image on Docker Hub matches no policy", pod(nil), "alice/busybox" + dig, false, "no matching policies"},
		// The CUE forms of the documentation's includeTypeMeta, includeObjectMeta and
		// includeSpec examples.
		{"typed server in a Pod (CUE)", pod(nil), "ghcr.io/example/typed-server" + dig, true, ""},
		{"typed server in a Deployment (CUE)", deployment, "ghcr.io/example/typed-server" + dig, false, `failed policy typed-server-only-in-pods: spec.policy: policy failed: typed-server-only-in-pods.spec.policy: typemeta.kind: conflicting values "Deployment" and "Pod"`},
		{"frontend label (CUE)", pod(map[string]string{"tier": "frontend"}), "ghcr.io/example/frontend/web" + dig, true, ""},
		{"backend label (CUE)", pod(map[string]string{"tier": "backend"}), "ghcr.io/example/frontend/web" + dig, false, `failed policy frontend-label: spec.policy: policy failed: frontend-label.spec.policy: metadata.labels.tier: conflicting values "backend" and "frontend"`},
		{"deployer account (CUE)", asAccount("deployer"), "ghcr.io/example/deploy-tools/kubectl" + dig, true, ""},
		{"default account (CUE)", asAccount("default"), "ghcr.io/example/deploy-tools/kubectl" + dig, false, `failed policy deployer-account: spec.policy: policy failed: deployer-account.spec.policy: spec.serviceAccount: conflicting values "default" and "deployer"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := d.Decide(ctx, c.obj, []Image{{Ref: c.image, Field: "spec.containers[0].image"}})[0]
			said := strings.Join(append(v.Denials, v.Warnings...), "\n")
			if v.Allowed != c.allowed || (c.says == "") != (said == "") || !strings.Contains(said, c.says) {
				t.Fatalf("allowed %t, said %q; want allowed %t saying %q", v.Allowed, said, c.allowed, c.says)
			}
		})
	}
}

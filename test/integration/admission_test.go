package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
)

// admissionPolicy requires images under HOST/shop/ to be signed by the key in cosign.pub, and
// images under HOST/sbom/ to carry an SPDX SBOM attestation signed by it.
const admissionPolicy = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: shop
spec:
  images:
    - glob: "%[1]s/shop/**"
  authorities:
    - name: release-key
      key:
        data: |
          %[2]s
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: sbom
spec:
  images:
    - glob: "%[1]s/sbom/**"
  authorities:
    - key:
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
                input.predicate.spdxVersion == "SPDX-2.3"
              }
`

// reviewFixture reads pkg/admission's AdmissionReview fixture with its images replaced.
func reviewFixture(t *testing.T, name string, images ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "pkg", "admission", "testdata", "reviews", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i, img := range images {
		s = strings.ReplaceAll(s, fmt.Sprintf(`"IMAGE_%d"`, i), `"`+img+`"`)
	}
	return []byte(s)
}

// startAdmission runs `admission serve` as a user does and returns its HTTPS address; the
// process is stopped with SIGTERM when the test ends.
func startAdmission(t *testing.T, c *cli, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"admission", "serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("admission serve exited: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("admission serve did not stop on SIGTERM")
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "admission webhook listening on https://"); ok {
				lines <- addr
			}
		}
	}()
	select {
	case addr := <-lines:
		return addr, cmd
	case <-time.After(30 * time.Second):
		t.Fatalf("admission serve did not announce its address:\n%s", stderr.String())
	}
	return "", nil
}

func TestAdmissionWebhook(t *testing.T) {
	c := newCLI(t)
	host, counter := testutil.NewRegistry(t)
	c.ok("generate-key-pair")
	signed := testutil.PushRandomImage(t, host, "shop/signed").String()
	c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", signed)
	legacy := testutil.PushRandomImage(t, host, "shop/legacy").String()
	c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", "--new-bundle-format=false", legacy)
	unsigned := testutil.PushRandomImage(t, host, "shop/unsigned").String()
	attested := testutil.PushRandomImage(t, host, "sbom/app").String()
	sbom, err := filepath.Abs(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	c.ok("attest", "--key", "cosign.key", "--tlog-upload=false", "--type", "spdxjson", "--predicate", sbom, attested)
	bare := testutil.PushRandomImage(t, host, "sbom/bare").String()
	c.ok("sign", "--key", "cosign.key", "--tlog-upload=false", bare)

	pub, err := os.ReadFile(filepath.Join(c.dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := strings.ReplaceAll(strings.TrimSpace(string(pub)), "\n", "\n          ")
	if err := os.MkdirAll(filepath.Join(c.dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "policies", "shop.yaml"), []byte(fmt.Sprintf(admissionPolicy, host, keyPEM)), 0o644); err != nil {
		t.Fatal(err)
	}

	out := c.ok("admission", "init", "--dir", "adm", "--service", "image-policy.cosign-system").stdout
	if !strings.Contains(out, "admission webhook for image-policy.cosign-system created in adm") {
		t.Fatalf("init printed %q", out)
	}
	addr, server := startAdmission(t, c, "--dir", "adm", "--policies", "policies")
	caPEM, err := os.ReadFile(filepath.Join(c.dir, "adm", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "image-policy.cosign-system.svc"}}}
	post := func(path string, body []byte) map[string]any {
		t.Helper()
		resp, err := client.Post("https://"+addr+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var review struct {
			Response map[string]any `json:"response"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &review) != nil || review.Response == nil {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, data)
		}
		return review.Response
	}
	allowed := func(r map[string]any) bool { return r["allowed"] == true }
	msg := func(r map[string]any) string {
		if s, ok := r["status"].(map[string]any); ok {
			m, _ := s["message"].(string)
			return m
		}
		return ""
	}

	for _, kind := range []string{"replicaset", "statefulset", "daemonset", "job", "cronjob"} {
		if r := post("/validate", reviewFixture(t, kind, legacy)); !allowed(r) {
			t.Errorf("%s with a signed image refused: %s", kind, msg(r))
		}
	}
	if r := post("/validate", reviewFixture(t, "pod", signed, attested)); !allowed(r) {
		t.Errorf("pod with a signed and an attested image refused: %s", msg(r))
	}
	r := post("/validate", reviewFixture(t, "deployment", signed, unsigned, legacy))
	if allowed(r) || !strings.Contains(msg(r), "spec.template.spec.containers[1].image: "+unsigned+": failed policy shop") ||
		strings.Contains(msg(r), "containers[0]") || strings.Contains(msg(r), "containers[2]") {
		t.Errorf("deployment with one unsigned image: allowed %t, %q", allowed(r), msg(r))
	}
	r = post("/validate", reviewFixture(t, "pod", bare, signed))
	if allowed(r) || !strings.Contains(msg(r), "no attestation of predicate type https://spdx.dev/Document verified") {
		t.Errorf("image without its attestation: allowed %t, %q", allowed(r), msg(r))
	}
	tag := host + "/shop/signed:latest"
	r = post("/mutate", reviewFixture(t, "pod", tag, signed))
	patch, _ := r["patch"].(string) // base64 JSON patch
	if !allowed(r) || r["patchType"] != "JSONPatch" || patch == "" {
		t.Fatalf("mutate: %v", r)
	}
	// A second identical review is answered from the cache: no registry request.
	body := reviewFixture(t, "pod", signed, attested)
	counter.Reset()
	post("/validate", body)
	if n := counter.Count(); n != 0 {
		t.Errorf("a repeated review made %d registry requests: %v", n, counter.Requests())
	}

	// SIGHUP reads the policies again; policies that cannot be used leave those in force.
	policyFile := filepath.Join(c.dir, "policies", "shop.yaml")
	closed := "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: closed}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: fail, message: closed for maintenance}}]\n"
	for i, content := range []string{closed, "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: broken}\nspec: {imagez: []}\n"} {
		if err := os.WriteFile(policyFile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := server.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := post("/validate", reviewFixture(t, "job", legacy))
			if !allowed(r) && strings.Contains(msg(r), "closed for maintenance") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reload %d: allowed %t, %q", i, allowed(r), msg(r))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := os.WriteFile(policyFile, []byte(fmt.Sprintf(admissionPolicy, host, keyPEM)), 0o644); err != nil {
		t.Fatal(err)
	}

	// admission test: the same decision without a cluster.
	out = c.ok("admission", "test", "--policies", "policies", signed, tag, attested).stdout
	if !strings.Contains(out, "allow "+signed) || !strings.Contains(out, "allow "+tag+"@sha256:") || !strings.Contains(out, "allow "+attested) {
		t.Errorf("admission test printed:\n%s", out)
	}
	res := c.fails("1 of 2 images denied", "admission", "test", "--policies", "policies", signed, unsigned)
	if !strings.Contains(res.stdout, "deny "+unsigned) || !strings.Contains(res.stdout, "no signatures found") {
		t.Errorf("admission test printed:\n%s", res.stdout)
	}
	res = c.fails("1 of 1 images denied", "admission", "test", "--policies", "policies", host+"/other/app:latest@"+strings.TrimPrefix(signed, host+"/shop/signed@"))
	if !strings.Contains(res.stdout, "no matching policies") {
		t.Errorf("admission test printed:\n%s", res.stdout)
	}
}

func TestAdmissionRefusesBadPolicies(t *testing.T) {
	c := newCLI(t)
	if err := os.MkdirAll(filepath.Join(c.dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities:\n    - key:\n        secretRef: {name: k}\n"
	if err := os.WriteFile(filepath.Join(c.dir, "policies", "p.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("admission", "init", "--dir", "adm", "--service", "image-policy.cosign-system")
	c.fails("spec.authorities[0].key.secretRef: not supported", "admission", "serve", "--dir", "adm", "--policies", "policies", "--addr", "127.0.0.1:0")
	c.fails(filepath.Join("policies", "p.yaml"), "admission", "test", "--policies", "policies", "example.com/app@sha256:"+strings.Repeat("0", 64))
}

// TestAdmissionCUEPolicies: `admission test` judges attestations with CUE policies, and a CUE
// policy that does not compile stops `admission serve` and `admission test`, naming the file,
// the policy and the field.
func TestAdmissionCUEPolicies(t *testing.T) {
	c := newCLI(t)
	host, _ := testutil.NewRegistry(t)
	c.ok("generate-key-pair")
	sbom, err := filepath.Abs(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	attested := testutil.PushRandomImage(t, host, "sbom/app").String()
	c.ok("attest", "--key", "cosign.key", "--tlog-upload=false", "--type", "spdxjson", "--predicate", sbom, attested)
	pub, err := os.ReadFile(filepath.Join(c.dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := strings.ReplaceAll(strings.TrimSpace(string(pub)), "\n", "\n          ")
	policy := func(cue string) string {
		return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: sbom}
spec:
  images: [{glob: "%s/sbom/**"}]
  authorities:
    - key:
        data: |
          %s
      attestations:
        - name: spdx
          predicateType: spdxjson
          policy:
            type: cue
            data: %q
`, host, keyPEM, cue)
	}
	if err := os.MkdirAll(filepath.Join(c.dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(c.dir, "policies", "sbom.yaml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(policy(`predicate: spdxVersion: "SPDX-2.3"`))
	if out := c.ok("admission", "test", "--policies", "policies", attested).stdout; !strings.Contains(out, "allow "+attested) {
		t.Errorf("admission test printed:\n%s", out)
	}
	write(policy(`predicate: spdxVersion: "SPDX-2.2"`))
	res := c.fails("1 of 1 images denied", "admission", "test", "--policies", "policies", attested)
	if !strings.Contains(res.stdout, "deny "+attested) || !strings.Contains(res.stdout, `predicate.spdxVersion: conflicting values "SPDX-2.3" and "SPDX-2.2"`) {
		t.Errorf("admission test printed:\n%s", res.stdout)
	}
	write(policy(`predicate: {spdxVersion: "SPDX-2.3"`))
	want := filepath.Join("policies", "sbom.yaml") + `: policy "sbom": spec.authorities[0].attestations[0].policy.data: invalid policy`
	c.fails(want, "admission", "test", "--policies", "policies", attested)
	c.ok("admission", "init", "--dir", "adm", "--service", "image-policy.cosign-system")
	c.fails(want, "admission", "serve", "--dir", "adm", "--policies", "policies", "--addr", "127.0.0.1:0")
}

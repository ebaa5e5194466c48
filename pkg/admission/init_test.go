package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cosign-like/cosign-like/internal/httpserver"
)

func TestInitOpenServeTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := Init(ctx, dir, InitOptions{Service: "image-policy.cosign-system"}); err != nil {
		t.Fatal(err)
	}
	if err := Init(ctx, dir, InitOptions{Service: "image-policy.cosign-system"}); !errors.Is(err, ErrStateExists) {
		t.Fatalf("second init: %v", err)
	}
	for _, bad := range []string{"image-policy", "a.b.c", "Image_Policy.ns"} {
		if err := Init(ctx, t.TempDir(), InitOptions{Service: bad}); err == nil {
			t.Errorf("service %q accepted", bad)
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, WebhookConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	docs := yamlDocuments(t, cfg)
	if len(docs) != 2 || docs[0]["kind"] != "MutatingWebhookConfiguration" || docs[1]["kind"] != "ValidatingWebhookConfiguration" {
		t.Fatalf("webhook configuration: %v", docs)
	}
	for i, path := range []string{"/mutate", "/validate"} {
		hook := docs[i]["webhooks"].([]any)[0].(map[string]any)
		client := hook["clientConfig"].(map[string]any)
		bundle, err := base64.StdEncoding.DecodeString(client["caBundle"].(string))
		if err != nil || !bytes.Equal(bundle, caPEM) {
			t.Errorf("caBundle is not %s", CAFile)
		}
		svc := client["service"].(map[string]any)
		if hook["failurePolicy"] != "Fail" || hook["timeoutSeconds"] != TimeoutSeconds || svc["path"] != path ||
			svc["name"] != "image-policy" || svc["namespace"] != "cosign-system" ||
			hook["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)[IncludeLabel] != "true" {
			t.Errorf("webhook %d: %v", i, hook)
		}
	}
	deploy, err := os.ReadFile(filepath.Join(dir, DeploymentFile))
	if err != nil {
		t.Fatal(err)
	}
	if d := yamlDocuments(t, deploy); len(d) != 2 || d[0]["kind"] != "Deployment" || d[1]["kind"] != "Service" {
		t.Fatalf("deployment: %v", d)
	}

	srv, err := Open(ctx, dir, Options{Policies: parsePolicies(t, `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: all}
spec:
  images: [{glob: "**"}]
  authorities: [{static: {action: pass}}]
`)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := httpserver.Start(ctx, []httpserver.Service{{Name: "admission", Addr: "127.0.0.1:0", Server: srv, TLS: srv.TLSConfig()}}, httpserver.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown(ctx)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "image-policy.cosign-system.svc"}}}
	resp, err := client.Get("https://" + g.Addr(0).String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ready: 1 policies") {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	resp, err = client.Post("https://"+g.Addr(0).String()+"/validate", "application/json", bytes.NewReader(fixture(t, "job", "nginx@sha256:"+strings.Repeat("0", 64))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"allowed":true`) || !strings.Contains(string(body), `"uid":"0006"`) {
		t.Fatalf("validate: %s", body)
	}
}

func yamlDocuments(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

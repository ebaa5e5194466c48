package admission

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cosign-like/cosign-like/pkg/ca/pki"
)

// Files of the state directory Init writes.
const (
	CAFile            = "ca.crt"          // the self-signed CA of the serving certificate (the caBundle)
	CertFile          = "tls.crt"         // the serving certificate, then the CA
	KeyFile           = "tls.key"         // the serving key
	WebhookConfigFile = "webhook.yaml"    // Mutating- and ValidatingWebhookConfiguration
	DeploymentFile    = "deployment.yaml" // an example Deployment and Service
)

// Settings written into the webhook configuration.
const (
	// TimeoutSeconds is the webhooks' timeoutSeconds: above the default budget (DefaultBudget),
	// so that the server answers, with a denial if it must, before the API server gives up.
	TimeoutSeconds = 25
	// IncludeLabel is the namespace label that opts a namespace in, as policy-controller has it.
	IncludeLabel = "policy.sigstore.dev/include"
)

// InitOptions configure Init.
type InitOptions struct {
	// Service is NAME.NAMESPACE of the Kubernetes Service in front of the webhook. Required.
	Service string
	// Image is the container image of the example Deployment (default
	// ghcr.io/cosign-like/cosign-like:latest: resolve it to a digest before use).
	Image string
	// Validity is how long the serving certificate and its CA are valid (default 1 year).
	Validity time.Duration
}

// ErrStateExists is returned by Init when the directory already holds a serving key.
var ErrStateExists = errors.New("state directory already initialised")

// Init writes a webhook's state directory: a self-signed CA (whose private key is not kept:
// run Init in a new directory to rotate), a P-256 serving key and a certificate for
// NAME.NAMESPACE.svc (and the service's shorter and longer DNS names), the
// Mutating/ValidatingWebhookConfiguration YAML with that CA as caBundle, failurePolicy Fail,
// timeoutSeconds 25 and the namespace opt-in label, and an example Deployment and Service.
func Init(_ context.Context, dir string, opts InitOptions) error {
	svc, ns, ok := strings.Cut(opts.Service, ".")
	if !ok || strings.Contains(ns, ".") {
		return fmt.Errorf("service %q: want NAME.NAMESPACE", opts.Service)
	}
	for _, part := range []string{svc, ns} {
		if errs := validation.IsDNS1123Label(part); len(errs) > 0 {
			return fmt.Errorf("service %q: %q: %s", opts.Service, part, strings.Join(errs, "; "))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return fmt.Errorf("%s: %w", dir, ErrStateExists)
	}
	if opts.Validity == 0 {
		opts.Validity = 365 * 24 * time.Hour
	}
	if opts.Image == "" {
		opts.Image = "ghcr.io/cosign-like/cosign-like:latest"
	}
	ca, caKey, err := pki.NewThrowawayRoot(pkix.Name{Organization: []string{"cosign-like"}, CommonName: opts.Service + " webhook CA"}, opts.Validity, 0)
	if err != nil {
		return err
	}
	key, err := pki.GenerateP256()
	if err != nil {
		return err
	}
	serial, err := pki.SerialNumber()
	if err != nil {
		return err
	}
	host := svc + "." + ns + ".svc"
	now := time.Now().Add(-time.Minute).UTC()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"cosign-like"}, CommonName: host},
		DNSNames:     []string{host, svc, svc + "." + ns, host + ".cluster.local"},
		NotBefore:    now,
		NotAfter:     now.Add(opts.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("creating the serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	caPEM := pki.EncodeCertificates([]*x509.Certificate{ca})
	vars := manifestVars{Name: svc, Namespace: ns, CABundle: base64.StdEncoding.EncodeToString(caPEM), Image: opts.Image,
		Timeout: TimeoutSeconds, IncludeLabel: IncludeLabel, Hooks: []hookVars{
			{Kind: "MutatingWebhookConfiguration", Verb: "mutate", Reinvoke: true},
			{Kind: "ValidatingWebhookConfiguration", Verb: "validate"}}}
	if err := pki.WritePrivateKey(filepath.Join(dir, KeyFile), key); err != nil {
		return err
	}
	if err := pki.WriteCertificates(filepath.Join(dir, CertFile), []*x509.Certificate{leaf, ca}); err != nil {
		return err
	}
	if err := pki.WriteFile(filepath.Join(dir, CAFile), caPEM, 0o644); err != nil {
		return err
	}
	for file, t := range map[string]*template.Template{WebhookConfigFile: webhookTemplate, DeploymentFile: deploymentTemplate} {
		var b strings.Builder
		if err := t.Execute(&b, vars); err != nil {
			return err
		}
		if err := pki.WriteFile(filepath.Join(dir, file), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

type manifestVars struct {
	Name, Namespace, CABundle, Image, IncludeLabel string
	Timeout                                        int
	Hooks                                          []hookVars
}

type hookVars struct {
	Kind, Verb string
	Reinvoke   bool
}

// webhookRules are the resources both webhooks see.
const webhookRules = `    rules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods", "pods/ephemeralcontainers"]
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
      - apiGroups: ["batch"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["jobs", "cronjobs"]`

// webhookTemplate writes both configurations; they differ in kind, path and reinvocation.
var webhookTemplate = template.Must(template.New("webhook").Parse(`# Written by cosign-like admission init. Namespaces opt in with the label
# {{.IncludeLabel}}: "true". Apply with kubectl apply -f.
{{- range $i, $h := .Hooks}}
{{- if $i}}
---{{end}}
apiVersion: admissionregistration.k8s.io/v1
kind: {{$h.Kind}}
metadata:
  name: {{$.Name}}
webhooks:
  - name: {{$h.Verb}}.{{$.Name}}.{{$.Namespace}}.svc
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: {{$.Timeout}}
{{- if $h.Reinvoke}}
    reinvocationPolicy: IfNeeded
{{- end}}
    namespaceSelector:
      matchLabels:
        {{$.IncludeLabel}}: "true"
    clientConfig:
      caBundle: {{$.CABundle}}
      service:
        name: {{$.Name}}
        namespace: {{$.Namespace}}
        path: /{{$h.Verb}}
        port: 443
` + webhookRules + `{{- end}}
`))

var deploymentTemplate = template.Must(template.New("deployment").Parse(`# Written by cosign-like admission init: an example. Create its secret and config maps first:
#   kubectl -n {{.Namespace}} create secret generic {{.Name}}-state --from-file=tls.crt --from-file=tls.key
#   kubectl -n {{.Namespace}} create configmap {{.Name}}-policies --from-file=POLICY-DIR/
#   kubectl -n {{.Namespace}} create configmap {{.Name}}-trust --from-file=trusted_root.json
# Keep the webhook's own namespace out of {{.IncludeLabel}}, so that it can always start.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {{.Name}}
  template:
    metadata:
      labels:
        app: {{.Name}}
    spec:
      containers:
        - name: webhook
          image: {{.Image}}
          args: ["admission", "serve", "--dir", "/state", "--policies", "/policies",
                 "--trusted-root", "/trust/trusted_root.json", "--addr", ":8443"]
          ports:
            - containerPort: 8443
          readinessProbe:
            httpGet: {path: /readyz, port: 8443, scheme: HTTPS}
          livenessProbe:
            httpGet: {path: /healthz, port: 8443, scheme: HTTPS}
          volumeMounts:
            - {name: state, mountPath: /state, readOnly: true}
            - {name: policies, mountPath: /policies, readOnly: true}
            - {name: trust, mountPath: /trust, readOnly: true}
      volumes:
        - name: state
          secret: {secretName: {{.Name}}-state}
        - name: policies
          configMap: {name: {{.Name}}-policies}
        - name: trust
          configMap: {name: {{.Name}}-trust}
---
apiVersion: v1
kind: Service
metadata:
  name: {{.Name}}
  namespace: {{.Namespace}}
spec:
  selector:
    app: {{.Name}}
  ports:
    - port: 443
      targetPort: 8443
`))

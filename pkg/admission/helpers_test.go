package admission

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

func newKey(t testing.TB) signer.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publicPEM is the key's public half as a PEM block indented for a YAML literal.
func publicPEM(t testing.TB, s signer.Signer, indent string) string {
	t.Helper()
	pemBytes, err := signer.MarshalPublicKeyPEM(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(pemBytes)), "\n")
	return strings.Join(lines, "\n"+indent)
}

// keyPolicy is a policy named name requiring images matching glob to be signed by s.
func keyPolicy(t testing.TB, name, glob string, s signer.Signer) string {
	t.Helper()
	return fmt.Sprintf(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: %s}
spec:
  images: [{glob: "%s"}]
  authorities:
    - key:
        data: |
          %s
`, name, glob, publicPEM(t, s, "          "))
}

// signImage pushes a random image to host/repo and signs it with s (legacy: cosign's .sig
// layout), returning its digest reference.
func signImage(t testing.TB, host, repo string, s signer.Signer, legacy bool) name.Digest {
	t.Helper()
	img := testutil.PushRandomImage(t, host, repo)
	if s == nil {
		return img
	}
	if _, err := cosign.SignImage(context.Background(), img.String(), cosign.SignOptions{Signer: s, Legacy: legacy}); err != nil {
		t.Fatal(err)
	}
	return img
}

// attestSBOM attests img with the SPDX SBOM of the repository's test data.
func attestSBOM(t testing.TB, img name.Digest, s signer.Signer) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attest", "sbom.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	attestPredicate(t, img, s, attest.PredicateSPDX, data)
}

// attestPredicate attests img with a predicate of the type (cosign's custom type wraps text).
func attestPredicate(t testing.TB, img name.Digest, s signer.Signer, predicateType string, predicate []byte) {
	t.Helper()
	attestWith(t, img, s, nil, predicateType, predicate)
}

func parsePolicies(t testing.TB, yamlText string) []*policy.ClusterImagePolicy {
	t.Helper()
	docs, err := policy.Parse("test.yaml", []byte(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	return docs.Policies
}

// webhook is a Server behind httptest's TLS server.
type webhook struct {
	t      testing.TB
	srv    *Server
	url    string
	client *http.Client
}

func startWebhook(t testing.TB, cfg Config) *webhook {
	t.Helper()
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	return &webhook{t: t, srv: srv, url: ts.URL, client: ts.Client()}
}

// fixture reads testdata/reviews/<name>.json with IMAGE_0, IMAGE_1, ... replaced by images.
func fixture(t testing.TB, name string, images ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "reviews", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i, img := range images {
		s = strings.ReplaceAll(s, `"IMAGE_`+string(rune('0'+i))+`"`, `"`+img+`"`)
	}
	if strings.Contains(s, `"IMAGE_`) {
		t.Fatalf("fixture %s needs more images than %d", name, len(images))
	}
	return []byte(s)
}

// review posts a review to path and returns the response.
func (w *webhook) review(path string, body []byte) *admissionv1.AdmissionResponse {
	w.t.Helper()
	resp, err := w.client.Post(w.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("%s: %d %s", path, resp.StatusCode, data)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil {
		w.t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		w.t.Fatalf("answer %s", data)
	}
	return out.Response
}

func message(r *admissionv1.AdmissionResponse) string {
	if r.Result == nil {
		return ""
	}
	return r.Result.Message
}

// within fails unless fn returns within d.
func within(t testing.TB, d time.Duration, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	fn()
	elapsed := time.Since(start)
	if elapsed > d {
		t.Fatalf("took %s, more than %s", elapsed, d)
	}
	return elapsed
}

// metric sums the samples of /metrics whose name (with labels, when series gives some) is
// series; 0 when there is none.
func (w *webhook) metric(series string) float64 {
	w.t.Helper()
	resp, err := w.client.Get(w.url + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if name != series && (strings.Contains(series, "{") || !strings.HasPrefix(name, series+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			w.t.Fatalf("metric line %q: %v", line, err)
		}
		total += v
	}
	return total
}

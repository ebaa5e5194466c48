package admission

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// DefaultBudget is the time one admission request may take (Config.Budget): below the
// webhooks' timeoutSeconds, so that a registry that does not answer gives a denial the API
// server receives.
const DefaultBudget = 20 * time.Second

// MaxReviewBytes bounds an AdmissionReview body (objects are at most 1.5 MiB in etcd; a
// review carries the object and the old one).
const MaxReviewBytes = 8 << 20

// Config builds a Server.
type Config struct {
	// Policies are the ClusterImagePolicy documents enforced.
	Policies []*policy.ClusterImagePolicy
	// Decider configures verification (trust, registry, no-match, cache, concurrency).
	Decider DeciderOptions
	// Certificate is the serving certificate and key (nil: the handler is served as given, for
	// a caller that terminates TLS itself).
	Certificate *tls.Certificate
	// Budget is the time one review may take (default DefaultBudget).
	Budget time.Duration
	// Logger receives a line per decision and the request logs; nil discards them.
	Logger *slog.Logger
}

// Options configure Open.
type Options struct {
	Policies []*policy.ClusterImagePolicy
	Decider  DeciderOptions
	Budget   time.Duration
	Logger   *slog.Logger
}

// Server is the admission webhook.
type Server struct {
	decider atomic.Pointer[Decider]
	budget  time.Duration
	logger  *slog.Logger
	tls     *tls.Config
	handler http.Handler
	stats   *metrics
	closed  atomic.Bool
	wg      sync.WaitGroup
}

// Open builds the webhook of a state directory written by Init (its serving key and
// certificate).
func Open(ctx context.Context, dir string, o Options) (*Server, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading the serving key and certificate of %s: %w", dir, err)
	}
	return New(ctx, Config{Policies: o.Policies, Decider: o.Decider, Certificate: &cert, Budget: o.Budget, Logger: o.Logger})
}

// New builds the webhook: POST /mutate and /validate take AdmissionReviews, GET /readyz says
// it is ready, and the shared setup adds /healthz and /metrics.
func New(ctx context.Context, cfg Config) (*Server, error) {
	d, err := NewDecider(ctx, cfg.Policies, cfg.Decider)
	if err != nil {
		return nil, err
	}
	s := &Server{budget: cfg.Budget, logger: cfg.Logger}
	s.decider.Store(d)
	if s.budget <= 0 {
		s.budget = DefaultBudget
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Certificate != nil {
		s.tls = &tls.Config{Certificates: []tls.Certificate{*cfg.Certificate}, MinVersion: tls.VersionTLS12}
	}
	reg := prometheus.NewRegistry()
	s.stats = newMetrics(reg)
	d.stats = s.stats
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mutate", func(w http.ResponseWriter, r *http.Request) { s.serveReview(w, r, "mutate", s.mutate) })
	mux.HandleFunc("POST /validate", func(w http.ResponseWriter, r *http.Request) { s.serveReview(w, r, "validate", s.validate) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.closed.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("closing\n"))
			return
		}
		_, _ = fmt.Fprintf(w, "ready: %d policies\n", len(s.decider.Load().policies))
	})
	s.handler = httpserver.Instrument("admission", mux, httpserver.Options{Logger: s.logger, MaxBodyBytes: MaxReviewBytes, Registry: reg})
	return s, nil
}

// Handler serves the webhook.
func (s *Server) Handler() http.Handler { return s.handler }

// TLSConfig is the serving TLS configuration (nil when New was given no certificate).
func (s *Server) TLSConfig() *tls.Config { return s.tls }

// Decider is the server's decider: the policies in force.
func (s *Server) Decider() *Decider { return s.decider.Load() }

// Reload puts new policies (and decider options) in force for the reviews that start after
// it. When they cannot be used, it returns why and the policies in force stay. Verifications
// cached under the old policies stay valid for the policies whose content is unchanged.
func (s *Server) Reload(ctx context.Context, docs []*policy.ClusterImagePolicy, o DeciderOptions) error {
	d, err := newDecider(ctx, docs, o, s.decider.Load())
	if err != nil {
		return err
	}
	d.stats = s.stats
	s.decider.Store(d)
	return nil
}

// Close marks the server not ready, waits for the reviews in flight and closes the idle
// registry connections.
func (s *Server) Close(ctx context.Context) error {
	s.closed.Store(true)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	defer s.decider.Load().Close()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answer is what a webhook decided about a review.
type answer struct {
	allowed  bool
	message  string
	warnings []string
	patch    []patchOp
	images   []string
	skip     string
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// serveReview reads an AdmissionReview, decides within the budget, and answers it.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, webhook string, decide func(context.Context, *reviewed) answer) {
	s.wg.Add(1)
	defer s.wg.Done()
	start := time.Now()
	body, err := httpserver.ReadBody(w, r, MaxReviewBytes)
	if err != nil {
		httpserver.Error(w, http.StatusRequestEntityTooLarge, "%v", err)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		if err == nil {
			err = errors.New("no request")
		}
		httpserver.Error(w, http.StatusBadRequest, "not an AdmissionReview: %v", err)
		return
	}
	req := review.Request
	ctx, cancel := context.WithTimeout(r.Context(), s.budget)
	defer cancel()
	requests := &tally{m: s.stats}
	ctx = withTally(ctx, requests)
	var a answer
	obj, err := readObject(req)
	switch {
	case err != nil:
		a = answer{message: err.Error()}
	case obj.skip != "":
		a = answer{allowed: true, skip: obj.skip}
	default:
		a = decide(ctx, obj)
	}
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: a.allowed, Warnings: a.warnings}
	if !a.allowed {
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: a.message}
	}
	if len(a.patch) > 0 {
		patch, err := json.Marshal(a.patch)
		if err != nil {
			httpserver.Error(w, http.StatusInternalServerError, "encoding the patch: %v", err)
			return
		}
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = patch, &pt
	}
	out := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Response: resp}
	data, err := json.Marshal(out)
	if err != nil {
		httpserver.Error(w, http.StatusInternalServerError, "encoding the review: %v", err)
		return
	}
	elapsed := time.Since(start)
	s.stats.reviews.WithLabelValues(webhook, fmt.Sprint(a.allowed)).Observe(elapsed.Seconds())
	s.stats.perReview.WithLabelValues(webhook, fmt.Sprint(a.allowed)).Observe(float64(requests.n.Load()))
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "decision", slog.String("webhook", webhook),
		slog.String("uid", string(req.UID)), slog.String("operation", string(req.Operation)),
		slog.String("kind", req.Kind.Kind), slog.String("namespace", req.Namespace), slog.String("name", req.Name),
		slog.Bool("allowed", a.allowed), slog.Any("images", a.images), slog.String("reason", a.message),
		slog.Any("warnings", a.warnings), slog.Int("patches", len(a.patch)), slog.String("skipped", a.skip),
		slog.Duration("duration", elapsed))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// validate refuses an image without a digest and verifies every image against the policies
// that match it.
func (s *Server) validate(ctx context.Context, obj *reviewed) answer {
	images := make([]Image, len(obj.images))
	for i, img := range obj.images {
		images[i] = img.Image
	}
	verdicts := s.decider.Load().Decide(ctx, obj.obj, images)
	a := answer{allowed: true}
	var denials []string
	for _, v := range verdicts {
		a.images = append(a.images, v.Ref)
		a.warnings = append(a.warnings, v.Warnings...)
		if !v.Allowed {
			a.allowed = false
			denials = append(denials, v.Denials...)
		}
	}
	if !a.allowed {
		a.message = "image verification failed:\n" + strings.Join(denials, "\n")
	}
	return a
}

// mutate resolves each image given by tag to the digest its registry serves now, and
// answers the JSON patch that pins it (image:tag@sha256:...). An image that cannot be
// resolved is left as it is, with a warning: the validating webhook refuses it.
func (s *Server) mutate(ctx context.Context, obj *reviewed) answer {
	a := answer{allowed: true}
	type result struct {
		op   *patchOp
		warn string
	}
	results := make([]result, len(obj.images))
	d := s.decider.Load()
	var wg sync.WaitGroup
	for i, img := range obj.images {
		a.images = append(a.images, img.Ref)
		wg.Go(func() {
			pinned, err := d.Resolve(ctx, img.Ref)
			switch {
			case err != nil:
				results[i].warn = fmt.Sprintf("%s: %s: %v", img.Field, img.Ref, err)
			case pinned != img.Ref:
				results[i].op = &patchOp{Op: "replace", Path: img.pointer, Value: pinned}
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.op != nil {
			a.patch = append(a.patch, *r.op)
		}
		if r.warn != "" {
			a.warnings = append(a.warnings, r.warn)
		}
	}
	return a
}

// Resolve returns ref pinned to the digest its registry serves (ref@sha256:..., keeping the
// tag for people to read), or ref itself when it names a digest already.
func (d *Decider) Resolve(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("not an image reference: %w", err)
	}
	if _, ok := r.(name.Digest); ok {
		return ref, nil
	}
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		return "", fmt.Errorf("resolving the tag: %w", budgetError(ctx))
	}
	digest, err := retryUnreachable(ctx, func() (name.Digest, error) {
		digest, _, err := oci.Resolve(ctx, ref, d.o.Registry...)
		if err != nil {
			err = registryError(ctx, "resolving the tag", err)
		}
		return digest, err
	})
	if err != nil {
		return "", err
	}
	return ref + "@" + digest.DigestStr(), nil
}

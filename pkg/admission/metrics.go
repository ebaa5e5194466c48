package admission

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the webhook's own Prometheus metrics.
type metrics struct {
	decisions   *prometheus.CounterVec
	reviews     *prometheus.HistogramVec
	cacheHits   prometheus.Counter
	cacheMisses prometheus.Counter
	// registryRequests counts every registry request, by result; perReview is how many one
	// review made, by webhook and decision.
	registryRequests *prometheus.CounterVec
	perReview        *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cosign_like_admission_decisions_total",
			Help: "Decisions on images, by result (allow, deny, warn) and policy (empty: no policy matched).",
		}, []string{"result", "policy"}),
		reviews: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cosign_like_admission_review_duration_seconds",
			Help:    "Time to answer an admission review, by webhook (mutate, validate) and whether it was allowed.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30},
		}, []string{"webhook", "allowed"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cosign_like_admission_cache_hits_total",
			Help: "Policy verifications answered from the cache.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cosign_like_admission_cache_misses_total",
			Help: "Policy verifications that had to read the registry.",
		}),
		registryRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cosign_like_admission_registry_requests_total",
			Help: "Registry requests made to decide reviews, by result: the status class answered (2xx, 3xx, 4xx, 5xx), or error when none was.",
		}, []string{"result"}),
		perReview: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cosign_like_admission_registry_requests_per_review",
			Help:    "Registry requests one admission review made, by webhook (mutate, validate) and whether it was allowed.",
			Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"webhook", "allowed"}),
	}
	reg.MustRegister(m.decisions, m.reviews, m.cacheHits, m.cacheMisses, m.registryRequests, m.perReview)
	return m
}

func (m *metrics) decision(result, policy string) {
	if m != nil {
		m.decisions.WithLabelValues(result, policy).Inc()
	}
}

func (m *metrics) cache(hit bool) {
	switch {
	case m == nil:
	case hit:
		m.cacheHits.Inc()
	default:
		m.cacheMisses.Inc()
	}
}

func (m *metrics) registryRequest(result string) {
	if m != nil {
		m.registryRequests.WithLabelValues(result).Inc()
	}
}

package logserver

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics are the Prometheus metrics of a log server.
type serverMetrics struct {
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
	treeSize prometheus.Gauge
	groups   prometheus.Histogram
	groupDur prometheus.Histogram
}

// observeGroup records one group handed to the storage.
func (m *serverMetrics) observeGroup(size int, d time.Duration) {
	m.groups.Observe(float64(size))
	m.groupDur.Observe(d.Seconds())
}

func newServerMetrics(reg *prometheus.Registry) (*serverMetrics, error) {
	m := &serverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tlog_add_entry_requests_total",
			Help: "Create-entry requests by outcome (created, duplicate, invalid, too_large, pushback, unwitnessed, canceled, error).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tlog_add_entry_latency_seconds",
			Help:    "Time from request to response with an inclusion proof, for created entries.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .3, .5, .75, 1, 2, 5},
		}),
		treeSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tlog_tree_size",
			Help: "Size of the newest tree this server signed a checkpoint for.",
		}),
		groups: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tlog_group_entries",
			Help:    "Entries per group handed to the storage (those that arrived while the previous group was written).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13),
		}),
		groupDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tlog_group_write_seconds",
			Help:    "Time to sequence and integrate one group.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.treeSize, m.groups, m.groupDur} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering log metrics: %w", err)
		}
	}
	return m, nil
}

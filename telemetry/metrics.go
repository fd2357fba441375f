// Package telemetry defines Marquee's Prometheus metrics in one place, so
// every name, label and bucket is visible at a glance and each component
// receives the collectors it needs instead of registering globals.
package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector. Create it once per process (or per test)
// with New and pass it down.
type Metrics struct {
	Registry *prometheus.Registry

	RecsServed     *prometheus.CounterVec   // by tier that answered
	TierErrors     *prometheus.CounterVec   // by tier skipped because of an error
	TierLatency    *prometheus.HistogramVec // by tier that answered
	EventsApplied  prometheus.Counter
	EventsDup      prometheus.Counter
	EventsAccepted prometheus.Counter
	EventsRejected *prometheus.CounterVec // by reason
	IngestFailures prometheus.Counter
	FoldIn         prometheus.Histogram
	UserActors     prometheus.Gauge
	Feedback       *prometheus.CounterVec // attributed or not
	AnalyticsErrs  prometheus.Counter
}

// latencyBuckets span 50µs to 2.5s: the cache tier lives at the bottom,
// timeouts at the top.
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// New creates the collectors on a fresh registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		RecsServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_recommendations_total", Help: "Recommendation lists served, by the tier that answered.",
		}, []string{"tier"}),
		TierErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_tier_errors_total", Help: "Tiers skipped because their backend failed, by tier.",
		}, []string{"tier"}),
		TierLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "marquee_recommendation_seconds", Help: "Time to answer a recommendation request inside the actor, by answering tier.",
			Buckets: latencyBuckets,
		}, []string{"tier"}),
		EventsApplied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_events_applied_total", Help: "Events stored and applied by user actors.",
		}),
		EventsDup: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_events_duplicate_total", Help: "Redelivered events ignored because their event_id was already stored.",
		}),
		EventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_events_accepted_total", Help: "Events accepted over HTTP and acknowledged by the event bus.",
		}),
		EventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_events_rejected_total", Help: "Events refused at the HTTP edge, by reason.",
		}, []string{"reason"}),
		IngestFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_ingest_batch_failures_total", Help: "Consumed batches that failed and will be retried.",
		}),
		FoldIn: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "marquee_fold_in_seconds", Help: "Time to recompute one user's preference vector.", Buckets: latencyBuckets,
		}),
		UserActors: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "marquee_user_actors", Help: "User actors currently active on this node.",
		}),
		Feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_feedback_total", Help: "Events carrying a rec_log_id, by whether they could be attributed to a served list.",
		}, []string{"attributed"}),
		AnalyticsErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_analytics_write_errors_total", Help: "Failed writes of recommendation logs or feedback.",
		}),
	}
	reg.MustRegister(m.RecsServed, m.TierErrors, m.TierLatency, m.EventsApplied, m.EventsDup, m.EventsAccepted,
		m.EventsRejected, m.IngestFailures, m.FoldIn, m.UserActors, m.Feedback, m.AnalyticsErrs)
	return m
}

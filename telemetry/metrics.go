// Package telemetry defines Marquee's Prometheus metrics in one place, so
// every name, label and bucket is visible at a glance and each component
// receives the collectors it needs instead of registering globals.
package telemetry

import (
	"regexp"

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
	// EventsDeadLettered counts records moved from the event stream to
	// the dead-letter topic, by reason (undecodable, invalid).
	EventsDeadLettered *prometheus.CounterVec
	FoldIn             prometheus.Histogram
	UserActors         prometheus.Gauge
	Feedback           *prometheus.CounterVec // attributed or not
	AnalyticsErrs      prometheus.Counter
	// AnalyticsDropped counts records dropped because the analytics
	// buffer overflowed (it should stay 0 under normal load).
	AnalyticsDropped prometheus.Counter
	Freshness        prometheus.Histogram
	HTTP             *prometheus.HistogramVec // by route, method, status
	// HTTPShed counts API requests refused by admission control (503);
	// HTTPInflight is how many it has admitted at the moment.
	HTTPShed     prometheus.Counter
	HTTPInflight prometheus.Gauge
	// HTTPConns is how many connections the connection gate has handed
	// the server at the moment.
	HTTPConns prometheus.Gauge
	ModelNDCG prometheus.Gauge
	// ServingModel is 1 for the version this node serves (one series).
	ServingModel    *prometheus.GaugeVec
	TrainingSeconds prometheus.Histogram
	TrainingRuns    *prometheus.CounterVec // by outcome
	ConsumerLag     *prometheus.GaugeVec   // by partition
	ArchiveRows     prometheus.Counter
	ArchiveFiles    prometheus.Counter
	ArchiveFailures prometheus.Counter
	// CatalogCheckSkipped counts events accepted without checking their
	// movie against the catalog because the catalog was unreachable.
	CatalogCheckSkipped prometheus.Counter
	// EventIDCheckSkipped counts events with a client-supplied event_id
	// accepted without checking that id against the stored events because
	// the interaction log was unreachable.
	EventIDCheckSkipped prometheus.Counter
	// DependencyUp is 1 or 0 per dependency, as the last readiness probe
	// found it (events, database, cache, archive).
	DependencyUp *prometheus.GaugeVec
}

// ObserveDependency records a readiness check's outcome.
func (m *Metrics) ObserveDependency(name string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.DependencyUp.WithLabelValues(name).Set(v)
}

// latencyBuckets span 50µs to 2.5s: the cache tier lives at the bottom,
// timeouts at the top.
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// runtimeMetrics are the Go runtime's metrics exported beside the
// defaults: the GC's (cycles, heap goal, stop-the-world pauses), the
// scheduler's (go_sched_latencies_seconds: how long runnable goroutines
// waited for a CPU) and the CPU the GC took, assists included
// (go_cpu_classes_gc_*). They tell a tail that comes from the GC or from
// saturated cores from one that comes from the code.
var runtimeMetrics = []collectors.GoRuntimeMetricsRule{
	collectors.MetricsGC, collectors.MetricsScheduler,
	{Matcher: regexp.MustCompile(`^/cpu/classes/gc/`)},
}

// New creates the collectors on a fresh registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(runtimeMetrics...)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
		EventsDeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_events_dead_lettered_total", Help: "Records of the event stream moved to the dead-letter topic, by reason (undecodable, invalid).",
		}, []string{"reason"}),
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
		AnalyticsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_analytics_dropped_total", Help: "Analytics records dropped because the write buffer was full.",
		}),
		Freshness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "marquee_freshness_seconds", Help: "Time from an event's arrival to the user's updated preference vector.",
			Buckets: latencyBuckets,
		}),
		HTTP: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "marquee_http_request_seconds", Help: "HTTP request latency by route, method and status.", Buckets: latencyBuckets,
		}, []string{"route", "method", "status"}),
		HTTPShed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_http_shed_total", Help: "API requests refused with 503 by admission control (the request or the connection gate): the node was at capacity.",
		}),
		HTTPInflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "marquee_http_inflight", Help: "API requests being served now (admitted by admission control).",
		}),
		HTTPConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "marquee_http_connections", Help: "Connections being served now (admitted by the connection gate).",
		}),
		ModelNDCG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "marquee_model_ndcg_at_10", Help: "Holdout NDCG@10 of the last trained model.",
		}),
		ServingModel: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "marquee_serving_model", Help: "1 for the model version this node serves now.",
		}, []string{"version"}),
		TrainingSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "marquee_training_seconds", Help: "Duration of training jobs.", Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		TrainingRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marquee_training_runs_total", Help: "Training jobs by outcome (promoted, candidate, failed).",
		}, []string{"outcome"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "marquee_kafka_consumer_lag", Help: "Events waiting in each partition after the last poll.",
		}, []string{"partition"}),
		ArchiveRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_archive_rows_total", Help: "Interactions moved from the hot table into the archive.",
		}),
		ArchiveFiles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_archive_files_total", Help: "Parquet files written, verified and committed.",
		}),
		CatalogCheckSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_catalog_check_skipped_total", Help: "Events accepted unchecked against the catalog because it was unreachable.",
		}),
		EventIDCheckSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_event_id_check_skipped_total", Help: "Events accepted without checking their event_id against the stored events because the interaction log was unreachable.",
		}),
		ArchiveFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_archive_failures_total", Help: "Archiving runs that stopped on an error (their rows stay hot).",
		}),
		DependencyUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "marquee_dependency_up", Help: "1 when the dependency answered the last readiness probe, 0 when it did not.",
		}, []string{"dependency"}),
	}
	reg.MustRegister(m.RecsServed, m.TierErrors, m.TierLatency, m.EventsApplied, m.EventsDup, m.EventsAccepted,
		m.EventsRejected, m.IngestFailures, m.EventsDeadLettered, m.FoldIn, m.UserActors, m.Feedback, m.AnalyticsErrs, m.AnalyticsDropped,
		m.Freshness, m.HTTP, m.HTTPShed, m.HTTPInflight, m.HTTPConns, m.ModelNDCG, m.ServingModel, m.TrainingSeconds, m.TrainingRuns, m.ConsumerLag,
		m.ArchiveRows, m.ArchiveFiles, m.ArchiveFailures, m.CatalogCheckSkipped, m.EventIDCheckSkipped, m.DependencyUp)
	return m
}

package telemetry

import (
	"encoding/json"
	"math"
	"net/http"
	"runtime/metrics"
)

// RuntimeSamples are the Go runtime metrics RuntimeHandler serves: the
// CPU its GC used (assists apart too), the GC cycles, and, at the runtime's
// own resolution, how long runnable goroutines waited for a core and how
// long the GC stopped the world. /metrics has the same metrics in a few
// buckets spanning decades; a tail of a few milliseconds needs these.
var RuntimeSamples = []string{
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
	"/sched/latencies:seconds",
	"/sched/pauses/total/gc:seconds",
}

// RuntimeReading is what RuntimeHandler answers: scalar metrics by name,
// and histograms by name as cumulative counts at upper bounds (the last
// bound, infinite in the runtime, is math.MaxFloat64).
type RuntimeReading struct {
	Values     map[string]float64      `json:"values"`
	Histograms map[string][][2]float64 `json:"histograms"`
}

// RuntimeHandler serves a RuntimeReading of RuntimeSamples, as JSON. It
// belongs on the profiling listener (MARQUEE_PPROF_ADDR), beside pprof:
// `marquee bench -runtime-url` reads it before and after a run.
func RuntimeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ReadRuntime())
	})
}

// ReadRuntime reads RuntimeSamples now.
func ReadRuntime() RuntimeReading {
	samples := make([]metrics.Sample, len(RuntimeSamples))
	for i, name := range RuntimeSamples {
		samples[i].Name = name
	}
	metrics.Read(samples)
	out := RuntimeReading{Values: map[string]float64{}, Histograms: map[string][][2]float64{}}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindFloat64:
			out.Values[s.Name] = s.Value.Float64()
		case metrics.KindUint64:
			out.Values[s.Name] = float64(s.Value.Uint64())
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			cum, buckets := 0.0, make([][2]float64, 0, len(h.Counts))
			for i, c := range h.Counts {
				cum += float64(c)
				if c == 0 && i < len(h.Counts)-1 {
					continue // the runtime's histograms are sparse: keep the bounds that count
				}
				buckets = append(buckets, [2]float64{min(h.Buckets[i+1], math.MaxFloat64), cum})
			}
			out.Histograms[s.Name] = buckets
		}
	}
	return out
}

package loadgen

import (
	"math"
	"testing"

	"github.com/marquee-recsys/marquee/telemetry"
)

func TestNodeRuntimeIsTheDifferenceOfTwoReadings(t *testing.T) {
	before := telemetry.RuntimeReading{
		Values: map[string]float64{"/cpu/classes/gc/total:cpu-seconds": 1, "/cpu/classes/gc/mark/assist:cpu-seconds": 0.5, "/gc/cycles/total:gc-cycles": 10},
		// Sparse: 90 waits up to 1 µs, 10 up to 1 ms.
		Histograms: map[string][][2]float64{"/sched/latencies:seconds": {{1e-6, 90}, {1e-3, 100}}},
	}
	after := telemetry.RuntimeReading{
		Values: map[string]float64{"/cpu/classes/gc/total:cpu-seconds": 3, "/cpu/classes/gc/mark/assist:cpu-seconds": 1.5, "/gc/cycles/total:gc-cycles": 25},
		// Since: 980 more up to 1 µs, 9 up to 10 µs, 10 up to 1 ms, 1 up to 20 ms.
		Histograms: map[string][][2]float64{
			"/sched/latencies:seconds":       {{1e-6, 1070}, {1e-5, 1079}, {1e-3, 1099}, {0.02, 1100}},
			"/sched/pauses/total/gc:seconds": {{1e-4, 14}, {3e-4, 15}, {math.MaxFloat64, 15}},
		},
	}
	r := nodeRuntime(before, after, 10)
	if r.GCShare != 0.2 || r.AssistShare != 0.1 || r.GCCycles != 15 {
		t.Errorf("GC: %+v", r)
	}
	// 1,000 waits since: the 990th is within 1 ms, the 999th too; the
	// 1,000th, the only one past 1 ms, is p99.9's neighbour, not p99.9.
	if r.SchedP99 != 1 || r.SchedP999 != 1 {
		t.Errorf("scheduling p99 %v ms, p99.9 %v ms; want 1 and 1", r.SchedP99, r.SchedP999)
	}
	if r.GCPauseMax != 0.3 {
		t.Errorf("longest pause %v ms, want 0.3", r.GCPauseMax)
	}
}

func TestQuantileOfNothingIsZero(t *testing.T) {
	if q := quantile(nil, 0.99); q != 0 {
		t.Errorf("quantile of no bucket = %v", q)
	}
	if q := quantile([][2]float64{{1, 0}, {2, 0}}, 0.99); q != 0 {
		t.Errorf("quantile of empty buckets = %v", q)
	}
}

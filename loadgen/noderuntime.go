package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/marquee-recsys/marquee/telemetry"
)

// NodeRuntime is what the node's Go runtime did over a measured run, from
// two readings of its runtime metrics (the node's profiling listener,
// /debug/runtime): the share of the node's CPU its GC took and the part
// of it that were assists (GC work charged to goroutines that allocate,
// in their request's time), the GC cycles, and the tails of two waits a
// request cannot see itself: the scheduler's (a runnable goroutine
// waiting for a core) and the GC's stop-the-world pauses. A scheduling
// p99 close to the requests' p99 says the tail is the cores, not code.
type NodeRuntime struct {
	GCShare     float64 `json:"gc_cpu_share"`
	AssistShare float64 `json:"gc_assist_cpu_share"`
	GCCycles    float64 `json:"gc_cycles"`
	SchedP99    float64 `json:"sched_latency_p99_ms"`
	SchedP999   float64 `json:"sched_latency_p999_ms"`
	GCPauseMax  float64 `json:"gc_pause_max_ms"`
}

// readRuntime reads the node's runtime metrics from url (its profiling
// listener's /debug/runtime).
func readRuntime(ctx context.Context, c *http.Client, url string) (telemetry.RuntimeReading, error) {
	var r telemetry.RuntimeReading
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return r, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return r, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

// nodeRuntime is what happened between two readings, over cpu seconds of
// the node's CPU.
func nodeRuntime(before, after telemetry.RuntimeReading, cpu float64) NodeRuntime {
	d := func(name string) float64 { return after.Values[name] - before.Values[name] }
	r := NodeRuntime{GCCycles: d("/gc/cycles/total:gc-cycles")}
	if cpu > 0 {
		r.GCShare = d("/cpu/classes/gc/total:cpu-seconds") / cpu
		r.AssistShare = d("/cpu/classes/gc/mark/assist:cpu-seconds") / cpu
	}
	sched := delta(before.Histograms["/sched/latencies:seconds"], after.Histograms["/sched/latencies:seconds"])
	r.SchedP99, r.SchedP999 = 1000*quantile(sched, 0.99), 1000*quantile(sched, 0.999)
	pauses := delta(before.Histograms["/sched/pauses/total/gc:seconds"], after.Histograms["/sched/pauses/total/gc:seconds"])
	r.GCPauseMax = 1000 * quantile(pauses, 1)
	return r
}

// delta is after's cumulative buckets less before's. Both are sparse
// (telemetry.ReadRuntime keeps the bounds that count), so before's count
// at a bound is its count at the last bound not above it.
func delta(before, after [][2]float64) [][2]float64 {
	out := make([][2]float64, len(after))
	for i, b := range after {
		j := sort.Search(len(before), func(j int) bool { return before[j][0] > b[0] })
		prev := 0.0
		if j > 0 {
			prev = before[j-1][1]
		}
		out[i] = [2]float64{b[0], b[1] - prev}
	}
	return out
}

// quantile is the upper bound of the bucket that holds quantile q of
// cumulative buckets (q = 1: the highest bucket reached), 0 when empty.
func quantile(bs [][2]float64, q float64) float64 {
	if len(bs) == 0 || bs[len(bs)-1][1] <= 0 {
		return 0
	}
	rank := q * bs[len(bs)-1][1]
	for _, b := range bs {
		if b[1] >= rank && b[1] > 0 {
			return b[0]
		}
	}
	return bs[len(bs)-1][0]
}

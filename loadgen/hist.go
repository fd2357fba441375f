package loadgen

import (
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds, in microseconds: 1 µs to 5 minutes with three
// significant digits, so every percentile is within 0.1% of the truth.
const (
	histLowest  = 1
	histHighest = int64(5 * time.Minute / time.Microsecond)
	histDigits  = 3
)

// Recorder collects latencies per label (a tier, say) in HDR histograms,
// and counts failures per label. It is safe for concurrent use; one lock
// is cheap beside an HTTP round trip.
type Recorder struct {
	mu     sync.Mutex
	hists  map[string]*hdrhistogram.Histogram
	errors map[string]int64
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{hists: map[string]*hdrhistogram.Histogram{}, errors: map[string]int64{}}
}

// Record adds one latency under label. Values beyond the histogram's
// range are clamped to it rather than lost.
func (r *Recorder) Record(label string, d time.Duration) {
	us := min(max(d.Microseconds(), histLowest), histHighest)
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hists[label]
	if h == nil {
		h = hdrhistogram.New(histLowest, histHighest, histDigits)
		r.hists[label] = h
	}
	_ = h.RecordValue(us) // in range by construction
}

// Fail counts one failed operation under label.
func (r *Recorder) Fail(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[label]++
}

// Merge adds everything o recorded into r.
func (r *Recorder) Merge(o *Recorder) {
	if o == nil || o == r {
		return
	}
	o.mu.Lock()
	hists := make(map[string]*hdrhistogram.Histogram, len(o.hists))
	for l, h := range o.hists {
		hists[l] = h.Clone()
	}
	errs := make(map[string]int64, len(o.errors))
	for l, n := range o.errors {
		errs[l] = n
	}
	o.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for l, h := range hists {
		if mine := r.hists[l]; mine != nil {
			mine.Merge(h)
		} else {
			r.hists[l] = h
		}
	}
	for l, n := range errs {
		r.errors[l] += n
	}
}

// Count returns how many latencies were recorded under label.
func (r *Recorder) Count(label string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.hists[label]; h != nil {
		return h.TotalCount()
	}
	return 0
}

// Labels returns the labels with a latency or a failure, sorted.
func (r *Recorder) Labels() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for l := range r.hists {
		out = append(out, l)
	}
	for l := range r.errors {
		if _, ok := r.hists[l]; !ok {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// Stats summarizes one label; elapsed is the wall time the operations
// took, for the throughput.
func (r *Recorder) Stats(label string, elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Label: label, Errors: r.errors[label], Seconds: elapsed.Seconds()}
	h := r.hists[label]
	if h == nil {
		return s
	}
	s.Count = h.TotalCount()
	if elapsed > 0 {
		s.PerSecond = float64(s.Count) / elapsed.Seconds()
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	s.P50, s.P95, s.P99, s.P999, s.Max = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(95)),
		ms(h.ValueAtQuantile(99)), ms(h.ValueAtQuantile(99.9)), ms(h.Max())
	return s
}

// All summarizes every label, in Labels order.
func (r *Recorder) All(elapsed time.Duration) []Stats {
	var out []Stats
	for _, l := range r.Labels() {
		out = append(out, r.Stats(l, elapsed))
	}
	return out
}

// Stats is the summary of one label's latencies; times are milliseconds.
type Stats struct {
	Label     string  `json:"label"`
	Count     int64   `json:"count"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p999_ms"`
	Max       float64 `json:"max_ms"`
}

// MedianStats combines the same labels across runs: every field is the
// median of the runs that have the label (the lower middle value for an
// even number of runs, so that it is one that was measured).
func MedianStats(runs [][]Stats) []Stats {
	byLabel := map[string][]Stats{}
	var order []string
	for _, run := range runs {
		for _, s := range run {
			if _, ok := byLabel[s.Label]; !ok {
				order = append(order, s.Label)
			}
			byLabel[s.Label] = append(byLabel[s.Label], s)
		}
	}
	slices.Sort(order)
	out := make([]Stats, 0, len(order))
	for _, l := range order {
		ss := byLabel[l]
		med := func(f func(Stats) float64) float64 {
			v := make([]float64, len(ss))
			for i, s := range ss {
				v[i] = f(s)
			}
			return median(v)
		}
		out = append(out, Stats{
			Label:     l,
			Count:     int64(med(func(s Stats) float64 { return float64(s.Count) })),
			Errors:    int64(med(func(s Stats) float64 { return float64(s.Errors) })),
			Seconds:   med(func(s Stats) float64 { return s.Seconds }),
			PerSecond: med(func(s Stats) float64 { return s.PerSecond }),
			P50:       med(func(s Stats) float64 { return s.P50 }),
			P95:       med(func(s Stats) float64 { return s.P95 }),
			P99:       med(func(s Stats) float64 { return s.P99 }),
			P999:      med(func(s Stats) float64 { return s.P999 }),
			Max:       med(func(s Stats) float64 { return s.Max }),
		})
	}
	return out
}

// median returns the middle value (the lower middle for an even count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

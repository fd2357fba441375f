package loadgen

import (
	"sync"
	"testing"
	"time"
)

func TestRecorderPercentiles(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	for i := 1; i <= 1000; i++ {
		r.Record("vector", time.Duration(i)*time.Microsecond*10) // 10 µs … 10 ms
	}
	r.Fail("vector")
	s := r.Stats("vector", 2*time.Second)
	if s.Count != 1000 || s.Errors != 1 || s.PerSecond != 500 {
		t.Fatalf("count %d errors %d rate %v, want 1000, 1, 500/s", s.Count, s.Errors, s.PerSecond)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", s.P50, 5}, {"p95", s.P95, 9.5}, {"p99", s.P99, 9.9}, {"max", s.Max, 10}} {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v ms, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRecorderClampsAndMerges(t *testing.T) {
	t.Parallel()
	a, b := NewRecorder(), NewRecorder()
	a.Record("cache", 0)              // below the lowest: 1 µs
	a.Record("cache", 10*time.Minute) // above the highest: 5 minutes
	b.Record("cache", time.Millisecond)
	b.Record("popular", time.Millisecond)
	b.Fail("error")
	a.Merge(b)
	if got := a.Labels(); len(got) != 3 || got[0] != "cache" || got[1] != "error" || got[2] != "popular" {
		t.Fatalf("labels %v", got)
	}
	s := a.Stats("cache", 0)
	if s.Count != 3 || !near(s.Max, 300_000) || s.PerSecond != 0 {
		t.Fatalf("merged cache stats %+v: want 3 values, max clamped to 5 min", s)
	}
	if b.Count("cache") != 1 {
		t.Fatal("Merge changed its argument")
	}
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				r.Record([]string{"cache", "vector"}[(w+i)%2], time.Millisecond)
			}
		})
	}
	wg.Wait()
	if n := r.Count("cache") + r.Count("vector"); n != 8000 {
		t.Fatalf("%d recorded, want 8000", n)
	}
}

func TestMedianStats(t *testing.T) {
	t.Parallel()
	runs := [][]Stats{
		{{Label: "cache", Count: 10, P99: 3}, {Label: "vector", Count: 1, P99: 9}},
		{{Label: "cache", Count: 30, P99: 1}},
		{{Label: "cache", Count: 20, P99: 2}, {Label: "vector", Count: 3, P99: 7}},
	}
	got := MedianStats(runs)
	if len(got) != 2 || got[0].Label != "cache" || got[0].Count != 20 || got[0].P99 != 2 {
		t.Fatalf("cache median %+v, want count 20, p99 2", got)
	}
	// Two runs have "vector": the lower middle value, one that was measured.
	if got[1].Label != "vector" || got[1].Count != 1 || got[1].P99 != 7 {
		t.Fatalf("vector median %+v, want count 1, p99 7", got[1])
	}
}

package loadgen

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when told to: SleepUntil jumps to
// the wake-up time, and operations advance it to simulate service time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	return ctx.Err()
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func TestOpenLoopSendsOnSchedule(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	start := clock.Now()
	var mu sync.Mutex
	sentAt := map[int]time.Duration{}
	lat := NewRecorder()
	res, err := OpenLoop{Rate: 1000, Duration: 10 * time.Millisecond, Clock: clock, MaxInFlight: 1}.Run(context.Background(), lat, nil,
		func(_ context.Context, seq int) (string, error) {
			mu.Lock()
			sentAt[seq] = clock.Now().Sub(start)
			mu.Unlock()
			return "cache", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 10 || len(sentAt) != 10 {
		t.Fatalf("ran %d ops (%d distinct), want 10", res.Ops, len(sentAt))
	}
	for seq, at := range sentAt {
		if want := time.Duration(seq) * time.Millisecond; at != want {
			t.Errorf("op %d sent at %v, want %v", seq, at, want)
		}
	}
	if s := lat.Stats("cache", res.Elapsed); s.Count != 10 || s.Max > 0.001 {
		t.Errorf("instant ops: %+v, want 10 latencies of 0", s)
	}
}

// TestOpenLoopMeasuresFromDueTime is the coordinated-omission check: a
// server that takes 3 ms per request, one at a time, offered one request
// per millisecond falls further behind with every request, and the
// latencies must say so (3, 5, 7, … ms), not 3 ms each as a closed loop
// would report. The service times stay 3 ms.
func TestOpenLoopMeasuresFromDueTime(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	lat, svc := NewRecorder(), NewRecorder()
	res, err := OpenLoop{Rate: 1000, Duration: 10 * time.Millisecond, Clock: clock, MaxInFlight: 1}.Run(context.Background(), lat, svc,
		func(context.Context, int) (string, error) {
			clock.Advance(3 * time.Millisecond)
			return "vector", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	l, s := lat.Stats("vector", res.Elapsed), svc.Stats("vector", res.Elapsed)
	// Op i is due at i ms and ends at 3(i+1) ms: latency 2i+3 ms.
	if l.Count != 10 || !near(l.Max, 21) || !near(l.P50, 11) {
		t.Errorf("latency from due time: %+v, want 10 ops, p50 11 ms, max 21 ms", l)
	}
	if s.Count != 10 || !near(s.Max, 3) || !near(s.P50, 3) {
		t.Errorf("service time: %+v, want 3 ms each", s)
	}
	if !near(res.Lag.Max, 18) {
		t.Errorf("scheduler lag max %v ms, want 18 (op 9 due at 9 ms, sent at 27 ms)", res.Lag.Max)
	}
	if want := 30 * time.Millisecond; res.Elapsed != want {
		t.Errorf("elapsed %v, want %v", res.Elapsed, want)
	}
}

func TestOpenLoopStartsAtStart(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	start := clock.Now().Add(time.Second)
	var first time.Time
	_, err := OpenLoop{Rate: 10, Duration: 100 * time.Millisecond, Start: start, Clock: clock, MaxInFlight: 1}.Run(context.Background(), NewRecorder(), nil,
		func(_ context.Context, seq int) (string, error) {
			if seq == 0 {
				first = clock.Now()
			}
			return "x", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(start) {
		t.Fatalf("op 0 sent at %v, want %v", first, start)
	}
}

func TestClosedLoopMeasuresEachRequest(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	lat := NewRecorder()
	res, err := ClosedLoop{Workers: 1, Duration: 10 * time.Millisecond, Clock: clock}.Run(context.Background(), lat,
		func(_ context.Context, seq int) (string, error) {
			clock.Advance(time.Millisecond)
			if seq%2 == 1 {
				return "popular", nil
			}
			return "cache", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	c, p := lat.Stats("cache", res.Elapsed), lat.Stats("popular", res.Elapsed)
	if res.Ops != 10 || c.Count != 5 || p.Count != 5 || !near(c.Max, 1) || !near(c.PerSecond, 500) {
		t.Fatalf("ops %d, cache %+v, popular %+v; want 5 of each at 1 ms, 500/s each", res.Ops, c, p)
	}
}

func TestFailuresAreCounted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	lat := NewRecorder()
	_, err := OpenLoop{Rate: 100, Duration: 50 * time.Millisecond, Clock: clock, MaxInFlight: 1}.Run(context.Background(), lat, nil,
		func(_ context.Context, seq int) (string, error) {
			if seq == 2 {
				return "", context.DeadlineExceeded
			}
			return "batch", nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if b, e := lat.Stats("batch", time.Second), lat.Stats(ErrorLabel, time.Second); b.Count != 4 || e.Errors != 1 || e.Count != 1 {
		t.Fatalf("batch %+v, error %+v; want 4 answers and 1 failure", b, e)
	}
}

func TestOpenLoopStopsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	clock := newFakeClock()
	res, err := OpenLoop{Rate: 1000, Duration: time.Hour, Clock: clock, MaxInFlight: 1}.Run(ctx, NewRecorder(), nil,
		func(_ context.Context, seq int) (string, error) {
			if seq == 4 {
				cancel()
			}
			return "x", nil
		})
	if err == nil || res.Ops != 5 {
		t.Fatalf("ops %d, err %v; want 5 ops and the context's error", res.Ops, err)
	}
}

// near compares milliseconds within the histograms' 0.1% precision.
func near(got, want float64) bool {
	d := got - want
	return d < want*0.002+0.002 && -d < want*0.002+0.002
}

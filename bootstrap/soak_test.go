package bootstrap

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/loadgen"
	"github.com/marquee-recsys/marquee/ports"
)

// Soak rates: events (in small batches, as a collector sends them) and
// recommendation requests, steady for MARQUEE_SOAK. A soak looks for
// leaks and lost events over time, not for the maximum rate (that is
// marquee bench): these leave the 2-core machine headroom, so that what
// grows is the node, not a backlog.
const (
	soakEventReqs  = 50  // POST /api/events per second
	soakEventBatch = 4   // events per POST: 200 events/s
	soakRecs       = 100 // GET /api/recommendations per second
	soakUsers      = 2000
	soakInFlight   = 64 // per stream: a stall shows as latency, not as thousands of connections
)

// soakSample is the node's footprint at one moment.
type soakSample struct {
	at         time.Duration
	heap       uint64 // bytes in use after a GC
	goroutines int
	fds        int // open descriptors: sockets (HTTP, PostgreSQL, Redis, MinIO, Kafka) and files
}

// TestSoak runs a node on the real services (PostgreSQL + pgvector, Redis,
// MinIO, the embedded Kafka) under steady load for MARQUEE_SOAK (make
// soak: 10m), with archiving every minute of everything older than a
// minute, so that events flow through the whole life cycle while the test
// watches. It checks that memory, goroutines and open descriptors stay
// flat (the last minute against the second), that no request failed, and
// that every accepted event is accounted for exactly once: produced =
// stored in the hot table + archived.
//
// Not part of make test (it is skipped without MARQUEE_SOAK): run it with
// make soak.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("MARQUEE_SOAK"))
	if err != nil || d < 2*time.Minute {
		t.Skip("set MARQUEE_SOAK to a duration of at least 2m (make soak)")
	}
	dbURL, redisURL := realServices(t)
	schema, bucket := fmt.Sprintf("soak%d", time.Now().UnixNano()), fmt.Sprintf("marquee-soak-%d", time.Now().Unix())
	app := startAppEnv(t, map[string]string{
		"MARQUEE_DATABASE_URL": dbURL, "MARQUEE_DATABASE_SCHEMA": schema,
		"MARQUEE_REDIS_URL": redisURL, "MARQUEE_REDIS_PREFIX": schema,
		"MARQUEE_S3_ENDPOINT":   envOr("MARQUEE_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		"MARQUEE_S3_ACCESS_KEY": envOr("MARQUEE_TEST_S3_ACCESS_KEY", "minioadmin"),
		"MARQUEE_S3_SECRET_KEY": envOr("MARQUEE_TEST_S3_SECRET_KEY", "minioadmin"), "MARQUEE_S3_BUCKET": bucket,
		"MARQUEE_HOT_RETENTION": "1m", "MARQUEE_ARCHIVE_EVERY": "1m", "MARQUEE_PASSIVATE_AFTER": "30s",
		"MARQUEE_DEMO": "true", "MARQUEE_DEMO_USERS": "500", "MARQUEE_TRAIN_CRON": "off",
		"MARQUEE_RATE_LIMIT": "off", "MARQUEE_INSECURE_DEV": "true", "MARQUEE_LOG_LEVEL": "warn",
	})
	ctx := context.Background()
	c := loadgen.NewClient(app.URL(), nil)
	defer c.Close()
	movies, err := c.Movies(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		accepted []string // ids of events the node answered 202 for
		failures atomic.Int64
		lastErr  atomic.Value
	)
	events := func(ctx context.Context, seq int) (string, error) {
		batch := make([]loadgen.Event, soakEventBatch)
		ids := make([]string, soakEventBatch)
		for i := range batch {
			n := seq*soakEventBatch + i
			ids[i] = fmt.Sprintf("soak-%d", n)
			batch[i] = loadgen.Event{EventID: ids[i], UserID: fmt.Sprint("user_", n*7919%soakUsers),
				MovieID: movies[n*104729%len(movies)], Type: []string{"view", "click", "like", "watch_complete"}[n%4]}
		}
		n, err := c.Post(ctx, batch...)
		if err != nil {
			failures.Add(1)
			lastErr.Store(err.Error())
			return "events", err
		}
		if n != soakEventBatch {
			return "events", fmt.Errorf("accepted %d of %d", n, soakEventBatch)
		}
		mu.Lock()
		accepted = append(accepted, ids...)
		mu.Unlock()
		return "events", nil
	}
	recs := func(ctx context.Context, seq int) (string, error) {
		tier, err := c.Tier(ctx, fmt.Sprint("user_", seq*31%soakUsers), 10)
		if err != nil {
			failures.Add(1)
			lastErr.Store(err.Error())
		}
		return tier, err
	}

	start := time.Now()
	var samples []soakSample
	sampleDone := make(chan struct{})
	go func() {
		defer close(sampleDone)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for time.Since(start) < d {
			<-tick.C
			samples = append(samples, footprint(time.Since(start)))
		}
	}()
	latency := loadgen.NewRecorder()
	var wg sync.WaitGroup
	for _, l := range []struct {
		rate float64
		op   loadgen.Op
	}{{soakEventReqs, events}, {soakRecs, recs}} {
		wg.Go(func() {
			if _, err := (loadgen.OpenLoop{Rate: l.rate, Duration: d, Start: start, MaxInFlight: soakInFlight}).Run(ctx, latency, nil, l.op); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	<-sampleDone
	if f := failures.Load(); f > 0 {
		t.Errorf("%d requests failed; the last: %v", f, lastErr.Load())
	}

	// Every accepted event applied, then counted where it lives now.
	waitFor(t, "every accepted event applied", func() bool {
		m, err := c.Metrics(ctx, "marquee_events_applied_total", "marquee_events_duplicate_total")
		return err == nil && int(m["marquee_events_applied_total"]+m["marquee_events_duplicate_total"]) >= len(accepted)
	})
	hot, archived := countSoakEvents(t, app)
	lost, twice := 0, 0
	for _, id := range accepted {
		switch hot[id] + archived[id] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	t.Logf("soak %s: %d events accepted = %d stored in the hot table + %d archived; lost %d, counted twice %d; requests failed %d",
		d, len(accepted), len(hot), len(archived), lost, twice, failures.Load())
	for _, label := range latency.Labels() {
		s := latency.Stats(label, d)
		t.Logf("  %-8s %7d requests  p50 %6.2f ms  p99 %7.2f ms  max %7.2f ms", label, s.Count, s.P50, s.P99, s.Max)
	}
	if lost > 0 || twice > 0 {
		t.Errorf("produced %d, stored + archived: %d lost, %d twice", len(accepted), lost, twice)
	}
	if path := os.Getenv("MARQUEE_SOAK_HEAP_PROFILE"); path != "" {
		writeHeapProfile(t, path)
	}
	checkFlat(t, samples)
}

// writeHeapProfile writes the live heap after a GC, for go tool pprof.
func writeHeapProfile(t *testing.T, path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("heap profile: %s", path)
}

// footprint measures this process (the node and the load generator).
func footprint(at time.Duration) soakSample {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fds, _ := os.ReadDir("/proc/self/fd")
	return soakSample{at: at, heap: m.HeapInuse, goroutines: runtime.NumGoroutine(), fds: len(fds)}
}

// checkFlat compares the median of the last minute's samples with the
// second minute's (the first is warm-up: actors, pools and caches fill).
// Goroutines and descriptors include the requests in flight, which follow
// latency, hence their slack; a leak grows without bound and passes it.
func checkFlat(t *testing.T, s []soakSample) {
	t.Helper()
	var base, last []soakSample
	end := s[len(s)-1].at
	for _, x := range s {
		if x.at > time.Minute && x.at <= 2*time.Minute {
			base = append(base, x)
		}
		if x.at > end-time.Minute {
			last = append(last, x)
		}
	}
	med := func(xs []soakSample, f func(soakSample) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	var b strings.Builder
	for _, x := range s {
		fmt.Fprintf(&b, "\n  %5.0fs heap %6.1f MiB  goroutines %5d  fds %4d", x.at.Seconds(), float64(x.heap)/(1<<20), x.goroutines, x.fds)
	}
	t.Log("footprint every 10 s:" + b.String())
	for _, c := range []struct {
		what  string
		f     func(soakSample) float64
		slack func(base float64) float64
	}{
		{"heap MiB", func(x soakSample) float64 { return float64(x.heap) / (1 << 20) }, func(b float64) float64 { return b*1.25 + 16 }},
		{"goroutines", func(x soakSample) float64 { return float64(x.goroutines) }, func(b float64) float64 { return b*1.3 + 50 }},
		{"open descriptors", func(x soakSample) float64 { return float64(x.fds) }, func(b float64) float64 { return b*1.3 + 30 }},
	} {
		b, l := med(base, c.f), med(last, c.f)
		t.Logf("%s: second minute %.1f, last minute %.1f (limit %.1f)", c.what, b, l, c.slack(b))
		if l > c.slack(b) {
			t.Errorf("%s grew from %.1f to %.1f", c.what, b, l)
		}
	}
}

// countSoakEvents counts the soak's events in the hot table and in the
// archive. An archiving run that commits between the two scans would move
// rows out of the hot side after the archive side was read, so the count
// is taken between runs and repeated until no run started or committed a
// file while it was taken.
func countSoakEvents(t *testing.T, app *App) (hot, archived map[string]int) {
	t.Helper()
	ctx := context.Background()
	c := client(t, app)
	idle := func() (string, bool) {
		st, err := marquee.Check(c.GetArchiveWithResponse(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if st.JSON200.Current == nil {
			return "", true
		}
		return st.JSON200.Current.ID, !st.JSON200.Current.Running
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		run, ok := idle()
		if !ok {
			time.Sleep(time.Second)
			continue
		}
		before, err := app.Stores.Ledger.Files(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hot, archived = map[string]int{}, map[string]int{}
		count := func(into map[string]int) func(domain.Interaction) error {
			return func(ev domain.Interaction) error {
				if strings.HasPrefix(ev.EventID, "soak-") {
					into[ev.EventID]++
				}
				return nil
			}
		}
		if err := app.Stores.Archive.Scan(ctx, before, ports.FieldEventID, count(archived)); err != nil {
			t.Fatal(err)
		}
		if err := app.Stores.Log.Scan(ctx, count(hot)); err != nil {
			t.Fatal(err)
		}
		after, err := app.Stores.Ledger.Files(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if runAfter, ok := idle(); ok && runAfter == run && len(after) == len(before) {
			return hot, archived
		}
	}
	t.Fatal("archiving never paused long enough to count")
	return nil, nil
}

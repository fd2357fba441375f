package actors

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// blockingSink holds every write until released, like a database that has
// stopped answering.
type blockingSink struct {
	*memory.Analytics
	release chan struct{}
	once    sync.Once
}

func (b *blockingSink) LogServed(ctx context.Context, lists ...domain.Served) error {
	<-b.release
	return b.Analytics.LogServed(ctx, lists...)
}

func (b *blockingSink) open() { b.once.Do(func() { close(b.release) }) }

// TestServingNeverWaitsForAnalytics serves while the analytics store is
// stuck: every request is answered, and once the store answers again every
// list is logged.
func TestServingNeverWaitsForAnalytics(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{Analytics: memory.NewAnalytics(), release: make(chan struct{})}
	f := newFixture(t, Config{}, func(d *Deps) { d.Analytics = sink })
	t.Cleanup(sink.open)
	f.seedPopular(t, 20)
	for i := 0; i < 300; i++ {
		if _, err := f.sys.Recommend(testCtx(t), domain.UserID(fmt.Sprint("user_", i%50)), 5); err != nil {
			t.Fatalf("request %d failed while analytics was stuck: %v", i, err)
		}
	}
	sink.open()
	waitFor(t, "every served list logged", func() bool { n, _ := sink.Counts(); return n == 300 })
}

// TestAnalyticsOverflowIsCounted fills a tiny buffer while the store is
// stuck: the overflow is dropped and counted, serving goes on.
func TestAnalyticsOverflowIsCounted(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{Analytics: memory.NewAnalytics(), release: make(chan struct{})}
	f := newFixture(t, Config{AnalyticsBuffer: 10}, func(d *Deps) { d.Analytics = sink })
	t.Cleanup(sink.open)
	f.seedPopular(t, 20)
	for i := 0; i < 40; i++ {
		if _, err := f.sys.Recommend(testCtx(t), "user_1", 5); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "drops counted", func() bool { return testutil.ToFloat64(f.deps.Metrics.AnalyticsDropped) > 0 })
}

// discardSink is analytics switched off: it keeps nothing.
type discardSink struct{}

func (discardSink) LogServed(context.Context, ...domain.Served) error { return nil }
func (discardSink) ServedList(context.Context, string) (domain.Served, error) {
	return domain.Served{}, ports.ErrNotFound
}
func (discardSink) RecordFeedback(context.Context, ...domain.Feedback) error         { return nil }
func (discardSink) RecordFreshness(context.Context, ...domain.FreshnessSample) error { return nil }
func (discardSink) ForgetUser(context.Context, domain.UserID, []string) error        { return nil }
func (discardSink) ForgetEvents(context.Context, []string) error                     { return nil }

// BenchmarkRecommendLogging compares serving (cache tier, through the
// actors) with served lists logged to the in-memory store and discarded.
func BenchmarkRecommendLogging(b *testing.B) {
	for _, tc := range []struct {
		name string
		sink ports.AnalyticsSink
	}{{"logging=on", memory.NewAnalytics()}, {"logging=off", discardSink{}}} {
		b.Run(tc.name, func(b *testing.B) {
			w, req := benchWorld(b)
			sys, err := Start(Config{}, Deps{
				Log: memory.NewInteractionLog(), Profiles: memory.NewProfileStore(nil), Cache: w.Cache, Vectors: w.Vectors,
				Batch: w.Batch, Popular: w.Popular, Catalog: w.Catalog, Analytics: tc.sink,
				Models: NewModels(memory.NewModelStore()), Metrics: w.Metrics, Logger: w.Logger,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = sys.Stop(context.Background()) }()
			ctx := context.Background()
			if _, err := sys.Recommend(ctx, req.User, 10); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := sys.Recommend(ctx, req.User, 10); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

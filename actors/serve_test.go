package actors

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// gatedLog blocks the append of one event until released, holding its
// user's actor busy.
type gatedLog struct {
	ports.InteractionLog
	eventID string
	entered chan struct{}
	release chan struct{}
}

func (g *gatedLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	if ev.EventID == g.eventID {
		close(g.entered)
		<-g.release
	}
	return g.InteractionLog.Append(ctx, ev)
}

// gatedVectors blocks searches for more than limit movies until released.
type gatedVectors struct {
	ports.VectorIndex
	limit   int
	entered chan struct{}
	release chan struct{}
}

func (g *gatedVectors) Search(ctx context.Context, version string, q []float32, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	if k > g.limit {
		close(g.entered)
		<-g.release
	}
	return g.VectorIndex.Search(ctx, version, q, k, f)
}

// TestCacheHitsDoNotWaitForTheUserActor: once a user's actor has
// invalidated the cache, a cached list is served without it, even while
// the actor is busy computing a longer list for the same user.
func TestCacheHitsDoNotWaitForTheUserActor(t *testing.T) {
	t.Parallel()
	gate := &gatedVectors{limit: 100, entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{}, func(d *Deps) { gate.VectorIndex = d.Vectors; d.Vectors = gate })
	u := domain.UserID("user_fast")
	first := f.likerServed(t, u, 3)
	if !f.sys.env.trust.trusted(u) {
		t.Fatal("the actor invalidated the cache after its event but the user is not trusted")
	}

	// A list longer than the cached one (19 movies) keeps the actor in a
	// vector search.
	gate.limit = 0
	long := make(chan error, 1)
	go func() {
		_, err := f.sys.Recommend(context.Background(), u, 50)
		long <- err
	}()
	<-gate.entered

	ctx, cancel := context.WithTimeout(testCtx(t), 2*time.Second)
	defer cancel()
	hit, err := f.sys.Recommend(ctx, u, 3)
	if err != nil || hit.ServedBy != domain.TierCache || !slices.Equal(movieIDs(hit.List), movieIDs(first.List)) {
		t.Fatalf("while the actor is busy: %s %v %v", hit.ServedBy, movieIDs(hit.List), err)
	}
	if got := testutil.ToFloat64(f.deps.Metrics.RecsServed.WithLabelValues("cache")); got != 1 {
		t.Fatalf("cache hits counted = %v, want 1", got)
	}
	close(gate.release)
	if err := <-long; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache hit logged", func() bool {
		s, err := f.analytics.ServedList(testCtx(t), hit.RecLogID)
		return err == nil && s.ServedBy == domain.TierCache
	})
}

// TestRequestsWaitForAnEventBeingStored: from the moment an event can be
// read back, no list from before it is served: a request that arrives
// while the user's actor stores it waits for the actor.
func TestRequestsWaitForAnEventBeingStored(t *testing.T) {
	t.Parallel()
	gate := &gatedLog{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{}, func(d *Deps) { gate.InteractionLog = d.Log; d.Log = gate })
	u := domain.UserID("user_storing")
	first := f.likerServed(t, u, 3)
	ev := event(u, first.List.Items[0].MovieID, domain.EventWatchComplete)
	gate.eventID = ev.EventID
	applied := make(chan error, 1)
	go func() { applied <- f.sys.Apply(context.Background(), []domain.Interaction{ev}) }()
	<-gate.entered

	served := make(chan domain.Served, 1)
	go func() {
		s, err := f.sys.Recommend(context.Background(), u, 3)
		if err != nil {
			t.Error(err)
		}
		served <- s
	}()
	select {
	case s := <-served:
		t.Fatalf("answered (%s %v) while the event was being stored", s.ServedBy, movieIDs(s.List))
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.release)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	s := <-served
	if s.ServedBy != domain.TierVector || slices.Contains(movieIDs(s.List), ev.MovieID) {
		t.Fatalf("after the event: %s %v", s.ServedBy, movieIDs(s.List))
	}
}

// TestCacheTrustEndsWithTheActor: a passivated actor takes the user out
// of the trust, so the next request reaches a new actor that reloads the
// state and invalidates before any cached list is served again.
func TestCacheTrustEndsWithTheActor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{PassivateAfter: 30 * time.Millisecond})
	f.seedPopular(t, 10)
	u := domain.UserID("user_gone")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "m0", domain.EventView)}); err != nil {
		t.Fatal(err)
	}
	if !f.sys.env.trust.trusted(u) {
		t.Fatal("not trusted after the event")
	}
	waitFor(t, "user actor passivated", func() bool { return testutil.ToFloat64(f.deps.Metrics.UserActors) == 0 })
	if f.sys.env.trust.trusted(u) {
		t.Fatal("still trusted after the actor stopped")
	}
	if _, err := f.sys.Recommend(testCtx(t), u, 3); err != nil {
		t.Fatal(err)
	}
	if !f.sys.env.trust.trusted(u) {
		t.Fatal("the new actor served but the user is not trusted again")
	}
}

// countingCache counts reads and fails them while down is set.
type countingCache struct {
	ports.RecommendationCache
	down  atomic.Bool
	reads atomic.Int64
}

func (c *countingCache) Get(ctx context.Context, u domain.UserID) (domain.RecList, uint64, error) {
	c.reads.Add(1)
	if c.down.Load() {
		return domain.RecList{}, 0, errDown
	}
	return c.RecommendationCache.Get(ctx, u)
}

// TestFailedCacheReadIsNotRepeated: when the caller's read of the cache
// fails, the actor's walk skips the cache rather than waiting for it again.
func TestFailedCacheReadIsNotRepeated(t *testing.T) {
	t.Parallel()
	cc := &countingCache{}
	f := newFixture(t, Config{}, func(d *Deps) { cc.RecommendationCache = d.Cache; d.Cache = cc })
	f.seedPopular(t, 10)
	u := domain.UserID("user_slow_cache")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "m0", domain.EventView)}); err != nil {
		t.Fatal(err)
	}
	cc.down.Store(true)
	before := cc.reads.Load()
	s, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || s.ServedBy != domain.TierPopular {
		t.Fatalf("with the cache down: %s %v", s.ServedBy, err)
	}
	if n := cc.reads.Load() - before; n != 1 {
		t.Fatalf("the cache was read %d times for one request, want 1", n)
	}
	if got := testutil.ToFloat64(f.deps.Metrics.TierErrors.WithLabelValues("cache")); got != 1 {
		t.Fatalf("cache errors counted = %v, want 1", got)
	}
}

// TestNearCopyAnswersWithoutACacheRead: the head of a list the actor just
// computed answers the next requests with no cache round trip, until an
// event or the cache TTL ends it.
func TestNearCopyAnswersWithoutACacheRead(t *testing.T) {
	t.Parallel()
	cc := &countingCache{}
	// Long enough for the requests below on a loaded machine (under
	// -race): a copy that expires among them is read from the cache.
	const ttl = 2 * time.Second
	f := newFixture(t, Config{CacheTTL: ttl}, func(d *Deps) { cc.RecommendationCache = d.Cache; d.Cache = cc })
	u := domain.UserID("user_near")
	first := f.likerServed(t, u, 5)
	// The list is cached, and its copy kept, after the answer.
	wait := testCtx(t)
	for e := f.sys.env.trust.entry(u); e == nil || e.near.Load() == nil; e = f.sys.env.trust.entry(u) {
		if wait.Err() != nil {
			t.Fatal("the near copy was never kept")
		}
		time.Sleep(time.Millisecond)
	}
	reads := cc.reads.Load()
	for n := 1; n <= 5; n++ {
		s, err := f.sys.Recommend(testCtx(t), u, n)
		if err != nil || s.ServedBy != domain.TierCache || !slices.Equal(movieIDs(s.List), movieIDs(first.List)[:n]) {
			t.Fatalf("n=%d: %s %v %v", n, s.ServedBy, movieIDs(s.List), err)
		}
	}
	if got := cc.reads.Load(); got != reads {
		t.Fatalf("%d cache reads for lists the near copy holds", got-reads)
	}

	// An event ends the copy: the next list leaves the movie out.
	watched := first.List.Items[0].MovieID
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, watched, domain.EventWatchComplete)}); err != nil {
		t.Fatal(err)
	}
	after, err := f.sys.Recommend(testCtx(t), u, 5)
	if err != nil || after.ServedBy != domain.TierVector || slices.Contains(movieIDs(after.List), watched) {
		t.Fatalf("after the event: %s %v %v", after.ServedBy, movieIDs(after.List), err)
	}

	// So does the TTL, as it ends the cached list.
	time.Sleep(ttl + 50*time.Millisecond)
	reads = cc.reads.Load()
	expired, err := f.sys.Recommend(testCtx(t), u, 5)
	if err != nil || expired.ServedBy != domain.TierVector || cc.reads.Load() == reads {
		t.Fatalf("after the TTL: %s %v, %d cache reads", expired.ServedBy, err, cc.reads.Load()-reads)
	}
}

// likerServed publishes the fixture's model, has u like a0 and returns
// u's first list of n, which the vector tier must have computed.
func (f *fixture) likerServed(t *testing.T, u domain.UserID, n int) domain.Served {
	t.Helper()
	f.publishModel(t, "v1")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "a0", domain.EventLike)}); err != nil {
		t.Fatal(err)
	}
	first, err := f.sys.Recommend(testCtx(t), u, n)
	if err != nil || first.ServedBy != domain.TierVector {
		t.Fatalf("first list: %s %v", first.ServedBy, err)
	}
	return first
}

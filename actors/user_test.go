package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

func TestUserActorLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.seedPopular(t, 30)
	u := domain.UserID("user_1")

	// No model, no history: popular.
	s, err := f.sys.Recommend(testCtx(t), u, 5)
	if err != nil {
		t.Fatal(err)
	}
	if s.ServedBy != domain.TierPopular || fmt.Sprint(movieIDs(s.List)) != "[m0 m1 m2 m3 m4]" || s.RecLogID == "" {
		t.Fatalf("first list: %s %v %q", s.ServedBy, movieIDs(s.List), s.RecLogID)
	}

	// Seen movies disappear from the popular list at once.
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "m0", domain.EventView), event(u, "m2", domain.EventDislike)}); err != nil {
		t.Fatal(err)
	}
	s, _ = f.sys.Recommend(testCtx(t), u, 3)
	if got := fmt.Sprint(movieIDs(s.List)); got != "[m1 m3 m4]" {
		t.Fatalf("after seeing m0 and disliking m2: %v", got)
	}

	// With a model, a user who likes a* movies gets a* movies from the vector tier.
	f.publishModel(t, "v1")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "a0", domain.EventLike), event(u, "a1", domain.EventWatchComplete)}); err != nil {
		t.Fatal(err)
	}
	s, _ = f.sys.Recommend(testCtx(t), u, 3)
	if s.ServedBy != domain.TierVector || s.List.ModelVersion != "v1" || fmt.Sprint(movieIDs(s.List)) != "[a2 a3 a4]" {
		t.Fatalf("vector tier: %s %v (model %q)", s.ServedBy, movieIDs(s.List), s.List.ModelVersion)
	}
	// The next request is a cache hit that still says where the list came from.
	s2, _ := f.sys.Recommend(testCtx(t), u, 3)
	if s2.ServedBy != domain.TierCache || s2.List.Tier != domain.TierVector || s2.RecLogID == s.RecLogID {
		t.Fatalf("second request: served by %s, list tier %s", s2.ServedBy, s2.List.Tier)
	}

	// A click on a b* movie invalidates the cache and changes the list.
	for _, m := range []domain.MovieID{"b0", "b1", "b2", "b3"} {
		if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, m, domain.EventWatchComplete)}); err != nil {
			t.Fatal(err)
		}
	}
	s3, _ := f.sys.Recommend(testCtx(t), u, 3)
	hasB := slices.ContainsFunc(s3.List.Items, func(it domain.ScoredMovie) bool { return strings.HasPrefix(string(it.MovieID), "b") })
	if s3.ServedBy != domain.TierVector || !hasB {
		t.Fatalf("after watching b0..b3: %s %v, want b movies in the list", s3.ServedBy, movieIDs(s3.List))
	}
	for _, it := range s3.List.Items {
		if it.MovieID == "a0" || it.MovieID == "a1" || it.MovieID == "b0" {
			t.Fatalf("seen movie %s recommended", it.MovieID)
		}
	}
}

func TestRedeliveredEventsAreAppliedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	u := domain.UserID("user_dup")
	evs := []domain.Interaction{event(u, "m1", domain.EventClick), event(u, "m2", domain.EventClick)}
	for i := 0; i < 3; i++ {
		if err := f.sys.Apply(testCtx(t), evs); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.log.Len(); n != 2 {
		t.Fatalf("stored %d events, want 2", n)
	}
	if d := testutil.ToFloat64(f.deps.Metrics.EventsDup); d != 4 {
		t.Fatalf("duplicates counted = %v, want 4", d)
	}
	top, _ := f.popular.Top(testCtx(t), 5, nil, t0)
	if len(top) != 2 || top[0].Score > 2.01 {
		t.Fatalf("popularity counted redeliveries: %+v", top)
	}
}

func TestPassivationAndReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{PassivateAfter: 30 * time.Millisecond})
	f.seedPopular(t, 20)
	u := domain.UserID("user_passive")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "m0", domain.EventView)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "user actor passivated", func() bool { return testutil.ToFloat64(f.deps.Metrics.UserActors) == 0 })

	// A fresh actor reloads the history: m0 stays excluded.
	s, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || fmt.Sprint(movieIDs(s.List)) != "[m1 m2 m3]" {
		t.Fatalf("after reload: %v, %v", movieIDs(s.List), err)
	}

	// Events racing with passivation are never lost: send them at the
	// moment actors time out, many times over.
	for i := 0; i < 40; i++ {
		time.Sleep(time.Duration(20+i%15) * time.Millisecond)
		if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, domain.MovieID(fmt.Sprint("x", i)), domain.EventClick)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "user actor passivated", func() bool { return testutil.ToFloat64(f.deps.Metrics.UserActors) == 0 })
	h, _ := f.log.UserHistory(testCtx(t), u)
	if len(h) != 41 {
		t.Fatalf("history has %d events, want 41", len(h))
	}
}

// panickyLog panics once on a chosen event, as a bug in an adapter would.
type panickyLog struct {
	ports.InteractionLog
	eventID string
	fired   atomic.Bool
}

func (p *panickyLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	if ev.EventID == p.eventID && p.fired.CompareAndSwap(false, true) {
		panic("boom: simulated adapter bug")
	}
	return p.InteractionLog.Append(ctx, ev)
}

func TestSupervisorRestartsUserActorAfterPanic(t *testing.T) {
	t.Parallel()
	u := domain.UserID("user_panic")
	first, bad := event(u, "m1", domain.EventClick), event(u, "m2", domain.EventClick)
	var pl *panickyLog
	f := newFixture(t, Config{MessageTimeout: 500 * time.Millisecond}, func(d *Deps) {
		pl = &panickyLog{InteractionLog: d.Log, eventID: bad.EventID}
		d.Log = pl
	})
	f.seedPopular(t, 5)
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{first}); err != nil {
		t.Fatal(err)
	}
	// The panic loses the message: the batch fails (the consumer would retry).
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{bad}); err == nil {
		t.Fatal("apply that panicked reported success")
	}
	// The restarted actor reloaded its state and accepts the retry.
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{bad}); err != nil {
		t.Fatalf("retry after restart: %v", err)
	}
	s, err := f.sys.Recommend(testCtx(t), u, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range movieIDs(s.List) {
		if id == "m1" || id == "m2" {
			t.Fatalf("restarted actor lost history: recommended %s", id)
		}
	}
	if !pl.fired.Load() {
		t.Fatal("the panic never fired")
	}
}

func TestFeedbackIsAttributedToTheServedList(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, func(d *Deps) { d.Now = func() time.Time { return t0 } })
	f.seedPopular(t, 10)
	u := domain.UserID("user_fb")
	s, err := f.sys.Recommend(testCtx(t), u, 5)
	if err != nil {
		t.Fatal(err)
	}
	click := event(u, s.List.Items[2].MovieID, domain.EventClick)
	click.RecLogID, click.Time = s.RecLogID, t0.Add(time.Minute)
	elsewhere := event(u, "not-in-list", domain.EventClick)
	elsewhere.RecLogID, elsewhere.Time = s.RecLogID, t0.Add(2*time.Minute)
	bogus := event(u, "m1", domain.EventClick)
	bogus.RecLogID = "no-such-list"
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{click, elsewhere, bogus}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "feedback recorded", func() bool { _, n := f.analytics.Counts(); return n == 2 })
	fbs := f.analytics.Feedback()
	if fbs[0].Position != 3 || fbs[0].Tier != domain.TierPopular || fbs[1].Position != 0 {
		t.Fatalf("feedback = %+v", fbs)
	}
}

func TestRecommendFailsOnlyWhenEveryTierFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{}, func(d *Deps) { d.Popular = failingPopular{} })
	_, err := f.sys.Recommend(testCtx(t), "user_x", 5)
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// switchCache fails every call while down is set, like a Redis outage.
type switchCache struct {
	ports.RecommendationCache
	down atomic.Bool
}

func (s *switchCache) Get(ctx context.Context, u domain.UserID) (domain.RecList, uint64, error) {
	if s.down.Load() {
		return domain.RecList{}, 0, errDown
	}
	return s.RecommendationCache.Get(ctx, u)
}

func (s *switchCache) Put(ctx context.Context, u domain.UserID, g uint64, l domain.RecList, ttl time.Duration) error {
	if s.down.Load() {
		return errDown
	}
	return s.RecommendationCache.Put(ctx, u, g, l, ttl)
}

func (s *switchCache) Invalidate(ctx context.Context, u domain.UserID) error {
	if s.down.Load() {
		return errDown
	}
	return s.RecommendationCache.Invalidate(ctx, u)
}

// TestCacheOutageNeverStopsEventsNorServesStaleLists: while the cache is
// down events are still applied and lists still served; when it returns,
// the list cached before the outage (whose invalidation was lost) is never
// served.
func TestCacheOutageNeverStopsEventsNorServesStaleLists(t *testing.T) {
	t.Parallel()
	var sc *switchCache
	f := newFixture(t, Config{}, func(d *Deps) {
		sc = &switchCache{RecommendationCache: d.Cache}
		d.Cache = sc
	})
	f.publishModel(t, "v1")
	u := domain.UserID("user_outage")
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, "a0", domain.EventLike)}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.sys.Recommend(testCtx(t), u, 3)
	if again, _ := f.sys.Recommend(testCtx(t), u, 3); again.ServedBy != domain.TierCache {
		t.Fatalf("not cached before the outage: %s", again.ServedBy)
	}

	sc.down.Store(true)
	watched := before.List.Items[0].MovieID
	if err := f.sys.Apply(testCtx(t), []domain.Interaction{event(u, watched, domain.EventWatchComplete)}); err != nil {
		t.Fatalf("an event failed because the cache is down: %v", err)
	}
	during, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || during.ServedBy != domain.TierVector || slices.Contains(movieIDs(during.List), watched) {
		t.Fatalf("during the outage: %s %v %v", during.ServedBy, movieIDs(during.List), err)
	}

	sc.down.Store(false)
	after, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || after.ServedBy == domain.TierCache || slices.Contains(movieIDs(after.List), watched) {
		t.Fatalf("after the outage the stale list came back: %s %v %v", after.ServedBy, movieIDs(after.List), err)
	}
}

// TestArchivedHistoryIsNotForgotten archives a user's events while their
// actor is passivated: the reloaded actor still excludes those movies and
// folds in the same vector.
func TestArchivedHistoryIsNotForgotten(t *testing.T) {
	t.Parallel()
	var log *memory.InteractionLog
	f := newFixture(t, Config{PassivateAfter: 30 * time.Millisecond}, func(d *Deps) {
		log = d.Log.(*memory.InteractionLog)
		d.Ledger = log
	})
	f.publishModel(t, "v1")
	u := domain.UserID("user_archived")
	evs := []domain.Interaction{event(u, "a0", domain.EventLike), event(u, "a1", domain.EventWatchComplete), event(u, "b0", domain.EventDislike)}
	if err := f.sys.Apply(testCtx(t), evs); err != nil {
		t.Fatal(err)
	}
	before, err := f.deps.Profiles.Get(testCtx(t), u)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "user actor passivated", func() bool { return testutil.ToFloat64(f.deps.Metrics.UserActors) == 0 })
	day := evs[0].Time.UTC().Truncate(24 * time.Hour)
	ids := []string{evs[0].EventID, evs[1].EventID, evs[2].EventID}
	if err := log.Commit(testCtx(t), ports.ArchiveFile{Key: "k1", Day: day, Rows: 3, MinTime: evs[0].Time, MaxTime: evs[2].Time, CreatedAt: t0}, ids); err != nil {
		t.Fatal(err)
	}
	if h, _ := log.UserHistory(testCtx(t), u); len(h) != 0 {
		t.Fatalf("hot history after archiving: %v", h)
	}
	s, err := f.sys.Recommend(testCtx(t), u, 17)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range movieIDs(s.List) {
		if id == "a0" || id == "a1" || id == "b0" {
			t.Fatalf("archived movie %s recommended", id)
		}
	}
	after, _ := f.deps.Profiles.Get(testCtx(t), u)
	if after.InteractionCount != 3 || !slices.Equal(after.Vector, before.Vector) {
		t.Fatalf("profile after reload: count %d, vector %v (was %v)", after.InteractionCount, after.Vector, before.Vector)
	}
}

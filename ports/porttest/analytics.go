package porttest

import (
	"errors"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// AnalyticsSink is the contract of ports.AnalyticsSink. count, if not nil,
// returns how much feedback the sink holds for a rec_log_id, so the suite
// can check that repeated events are ignored.
func AnalyticsSink(t *testing.T, newSink func(t *testing.T) ports.AnalyticsSink, count func(t *testing.T, s ports.AnalyticsSink, recLogID string) int) {
	t.Run("served list round trip", func(t *testing.T) {
		s, id := newSink(t), uniq(t, "rl")
		if _, err := s.ServedList(ctx(t), id); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		served := domain.Served{RecLogID: id, UserID: "u1", List: list(domain.TierVector, "a", "b"), ServedBy: domain.TierCache,
			Latency: 1500 * time.Microsecond, ServedAt: baseTime, Requested: 2}
		must(t, s.LogServed(ctx(t), served))
		got, err := s.ServedList(ctx(t), id)
		must(t, err)
		if got.UserID != "u1" || got.ServedBy != domain.TierCache || got.Latency != served.Latency ||
			!got.ServedAt.Equal(baseTime) || got.Requested != 2 {
			t.Fatalf("got %+v", got)
		}
		assertList(t, got.List, served.List)
	})
	t.Run("titles, scores and an empty list round trip", func(t *testing.T) {
		s := newSink(t)
		odd := domain.RecList{Tier: domain.TierPopular, GeneratedAt: baseTime, Items: []domain.ScoredMovie{
			{MovieID: "q", Title: `a "quoted" \ title`, Score: 1e300}, {MovieID: "n", Title: "line\nbreak\ttab \u2028 é 🎬", Score: -1e-9},
			{MovieID: "u", Score: 0.1 + 0.2}}}
		for _, l := range []domain.RecList{odd, {Tier: domain.TierPopular, GeneratedAt: baseTime}} {
			id := uniq(t, "rl")
			must(t, s.LogServed(ctx(t), domain.Served{RecLogID: id, UserID: "u1", List: l, ServedBy: domain.TierPopular, ServedAt: baseTime}))
			got, err := s.ServedList(ctx(t), id)
			must(t, err)
			assertList(t, got.List, l)
		}
	})
	t.Run("a list logged again replaces the earlier one", func(t *testing.T) {
		s, id, other := newSink(t), uniq(t, "rl"), uniq(t, "rl")
		first := domain.Served{RecLogID: id, UserID: "u1", List: list(domain.TierVector, "a", "b"), ServedBy: domain.TierVector, ServedAt: baseTime}
		must(t, s.LogServed(ctx(t), first))
		again := domain.Served{RecLogID: id, UserID: "u2", List: list(domain.TierBatch, "c"), ServedBy: domain.TierCache, ServedAt: baseTime.Add(time.Second)}
		// With a new list in the same call, which must be logged too.
		must(t, s.LogServed(ctx(t), again, domain.Served{RecLogID: other, UserID: "u3", List: list(domain.TierPopular, "d"), ServedBy: domain.TierPopular, ServedAt: baseTime}))
		got, err := s.ServedList(ctx(t), id)
		must(t, err)
		if got.UserID != "u2" || got.ServedBy != domain.TierCache || !got.ServedAt.Equal(again.ServedAt) {
			t.Fatalf("got %+v, want the second list", got)
		}
		assertList(t, got.List, again.List)
		if _, err := s.ServedList(ctx(t), other); err != nil {
			t.Fatalf("the new list of the same call: %v", err)
		}
	})
	t.Run("feedback is recorded once per event", func(t *testing.T) {
		s, id := newSink(t), uniq(t, "rl")
		must(t, s.LogServed(ctx(t), domain.Served{RecLogID: id, UserID: "u1", List: list(domain.TierBatch, "a"), ServedBy: domain.TierBatch, ServedAt: baseTime}))
		fb := domain.Feedback{RecLogID: id, EventID: id + "-e1", UserID: "u1", MovieID: "a", Type: domain.EventClick, Time: baseTime, Tier: domain.TierBatch, Position: 1}
		must(t, s.RecordFeedback(ctx(t), fb))
		must(t, s.RecordFeedback(ctx(t), fb))
		if count != nil {
			if n := count(t, s, id); n != 1 {
				t.Fatalf("feedback rows for %s = %d, want 1", id, n)
			}
		}
	})
	analyticsErasure(t, newSink, count)
}

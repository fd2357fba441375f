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

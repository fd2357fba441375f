package porttest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Analytics is what AnalyticsQuery needs from an implementation: the sink
// that fills it and the query over it (one store).
type Analytics interface {
	ports.AnalyticsSink
	ports.AnalyticsQuery
}

// AnalyticsQuery is the contract of ports.AnalyticsQuery, on a small log
// whose figures are worked out by hand below. newStore must return an
// empty store.
func AnalyticsQuery(t *testing.T, newStore func(t *testing.T) Analytics) {
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	at := func(d, h, m int) time.Time {
		return day.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	served := func(id string, by, src domain.Tier, model string, ms int, when time.Time, movies ...domain.MovieID) domain.Served {
		l := list(src, movies...)
		l.ModelVersion = model
		return domain.Served{RecLogID: id, UserID: "u1", List: l, ServedBy: by, Latency: time.Duration(ms) * time.Millisecond, ServedAt: when, Requested: 10}
	}
	fb := func(event, rl string, movie domain.MovieID, pos int, when time.Time) domain.Feedback {
		return domain.Feedback{RecLogID: rl, EventID: event, UserID: "u1", MovieID: movie, Type: domain.EventClick, Time: when, Position: pos}
	}
	seed := func(t *testing.T) Analytics {
		s := newStore(t)
		must(t, s.LogServed(ctx(t),
			served("l1", domain.TierCache, domain.TierVector, "v1", 1, at(0, 10, 0), "a", "b", "c"),
			served("l2", domain.TierVector, domain.TierVector, "v1", 3, at(0, 10, 30), "a", "d"),
			served("l3", domain.TierBatch, domain.TierBatch, "v1", 5, at(0, 11, 10), "e"),
			served("l4", domain.TierPopular, domain.TierPopular, "", 2, at(1, 9, 0), "a", "f"),
			served("l5", domain.TierVector, domain.TierVector, "v2", 4, at(-1, 12, 0), "x"), // before the window
		))
		must(t, s.RecordFeedback(ctx(t),
			fb("e1", "l1", "b", 2, at(0, 10, 1)),  // clicked
			fb("e2", "l2", "z", 0, at(0, 10, 31)), // not in the list: not a click
			fb("e3", "l4", "f", 2, at(1, 9, 1)),   // two clicks on l4 count once
			fb("e4", "l4", "a", 1, at(1, 9, 2)),
			fb("e5", "l5", "x", 1, at(-1, 12, 1)),
		))
		var fresh []domain.FreshnessSample
		for i, ms := range []int{30, 10, 40, 20} {
			fresh = append(fresh, domain.FreshnessSample{At: at(0, 10, i), EventID: fmt.Sprint("f", i), Delay: time.Duration(ms) * time.Millisecond})
		}
		fresh = append(fresh, domain.FreshnessSample{At: at(-1, 10, 0), EventID: "old", Delay: time.Second})
		must(t, s.RecordFreshness(ctx(t), fresh...))
		return s
	}
	window := domain.SummaryQuery{From: day, To: day.Add(48 * time.Hour), Granularity: domain.Daily}

	t.Run("daily summary", func(t *testing.T) {
		s := seed(t)
		sum, err := s.Summary(ctx(t), window)
		must(t, err)
		if c := sum.Totals.CTR; c.Impressions != 4 || c.Clicks != 2 || c.CTR != 0.5 || sum.Totals.DistinctRecommended != 6 {
			t.Fatalf("totals = %+v", sum.Totals)
		}
		wantTiers := []struct {
			tier        domain.Tier
			imp, clicks int
			p50         float64
		}{{domain.TierCache, 1, 1, 1}, {domain.TierVector, 1, 0, 3}, {domain.TierBatch, 1, 0, 5}, {domain.TierPopular, 1, 1, 2}}
		if len(sum.ByTier) != len(wantTiers) {
			t.Fatalf("by tier = %+v", sum.ByTier)
		}
		for i, w := range wantTiers {
			g := sum.ByTier[i]
			if g.Tier != w.tier || g.Impressions != w.imp || g.Clicks != w.clicks || g.Share != 0.25 || !near(g.Latency.P50, w.p50) || g.Latency.Count != 1 {
				t.Fatalf("tier %d = %+v, want %+v", i, g, w)
			}
		}
		if len(sum.ByModel) != 2 || sum.ByModel[0].ModelVersion != "" || sum.ByModel[0].Clicks != 1 ||
			sum.ByModel[1].ModelVersion != "v1" || sum.ByModel[1].Impressions != 3 || sum.ByModel[1].Clicks != 1 {
			t.Fatalf("by model = %+v", sum.ByModel)
		}
		if len(sum.Series) != 2 || !sum.Series[0].Period.Equal(day) || sum.Series[0].Impressions != 3 || sum.Series[0].Clicks != 1 ||
			sum.Series[0].ByTier[domain.TierCache].Clicks != 1 || sum.Series[0].ByTier[domain.TierBatch].Impressions != 1 ||
			!sum.Series[1].Period.Equal(day.Add(24*time.Hour)) || sum.Series[1].ByTier[domain.TierPopular].CTR != 1 {
			t.Fatalf("series = %+v", sum.Series)
		}
		if f := sum.Freshness; f.Count != 4 || !near(f.P50, 20) || !near(f.P95, 40) || !near(f.P99, 40) {
			t.Fatalf("freshness = %+v", f)
		}
	})
	t.Run("hourly series", func(t *testing.T) {
		s := seed(t)
		q := window
		q.Granularity = domain.Hourly
		sum, err := s.Summary(ctx(t), q)
		must(t, err)
		var got []string
		for _, p := range sum.Series {
			got = append(got, fmt.Sprintf("%s:%d/%d", p.Period.Format("02T15"), p.Clicks, p.Impressions))
		}
		if want := []string{"14T10:1/2", "14T11:0/1", "15T09:1/1"}; !slices.Equal(got, want) {
			t.Fatalf("hourly series = %v, want %v", got, want)
		}
	})
	t.Run("recent lists", func(t *testing.T) {
		s := seed(t)
		lists, err := s.RecentLists(ctx(t), window.From, window.To, 2)
		must(t, err)
		if len(lists) != 2 || !slices.Equal(lists[0], []domain.MovieID{"a", "f"}) || !slices.Equal(lists[1], []domain.MovieID{"e"}) {
			t.Fatalf("recent lists = %v", lists)
		}
	})
	t.Run("empty window", func(t *testing.T) {
		s := seed(t)
		sum, err := s.Summary(ctx(t), domain.SummaryQuery{From: day.Add(-30 * 24 * time.Hour), To: day.Add(-29 * 24 * time.Hour), Granularity: domain.Daily})
		must(t, err)
		if sum.Totals.Impressions != 0 || len(sum.ByTier) != 0 || len(sum.Series) != 0 || sum.Freshness.Count != 0 {
			t.Fatalf("empty window = %+v", sum)
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

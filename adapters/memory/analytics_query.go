package memory

import (
	"context"
	"slices"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// RecordFreshness implements ports.AnalyticsSink.
func (a *Analytics) RecordFreshness(ctx context.Context, samples ...domain.FreshnessSample) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.freshness = append(a.freshness, samples...)
	if over := len(a.freshness) - maxFreshness; over > 0 {
		a.freshness = append(a.freshness[:0], a.freshness[over:]...)
	}
	return nil
}

// Summary implements ports.AnalyticsQuery by scanning what it holds.
func (a *Analytics) Summary(ctx context.Context, q domain.SummaryQuery) (domain.Summary, error) {
	if err := ctx.Err(); err != nil {
		return domain.Summary{}, err
	}
	if err := q.Validate(); err != nil {
		return domain.Summary{}, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	clicked := map[string]bool{}
	for _, fb := range a.feedback {
		if fb.Position > 0 {
			clicked[fb.RecLogID] = true
		}
	}
	sum := domain.Summary{From: q.From, To: q.To, Granularity: q.Granularity}
	tiers := map[domain.Tier]*domain.TierStats{}
	latencies := map[domain.Tier][]float64{}
	models := map[string]*domain.ModelStats{}
	periods := map[time.Time]*domain.PeriodStats{}
	distinct := map[domain.MovieID]struct{}{}
	for id, s := range a.served {
		if s.ServedAt.Before(q.From) || !s.ServedAt.Before(q.To) {
			continue
		}
		c := clicked[id]
		sum.Totals.Add(c)
		ts := tiers[s.ServedBy]
		if ts == nil {
			ts = &domain.TierStats{Tier: s.ServedBy}
			tiers[s.ServedBy] = ts
		}
		ts.Add(c)
		latencies[s.ServedBy] = append(latencies[s.ServedBy], float64(s.Latency)/float64(time.Millisecond))
		ms := models[s.List.ModelVersion]
		if ms == nil {
			ms = &domain.ModelStats{ModelVersion: s.List.ModelVersion}
			models[s.List.ModelVersion] = ms
		}
		ms.Add(c)
		p := q.Granularity.Truncate(s.ServedAt)
		ps := periods[p]
		if ps == nil {
			ps = &domain.PeriodStats{Period: p, ByTier: map[domain.Tier]domain.CTR{}}
			periods[p] = ps
		}
		ps.Add(c)
		cell := ps.ByTier[s.ServedBy]
		cell.Add(c)
		ps.ByTier[s.ServedBy] = cell
		for _, it := range s.List.Items {
			distinct[it.MovieID] = struct{}{}
		}
	}
	sum.Totals.DistinctRecommended = len(distinct)
	for t, ts := range tiers {
		ts.Share = float64(ts.Impressions) / float64(sum.Totals.Impressions)
		ts.Latency = domain.LatencyOf(latencies[t])
		sum.ByTier = append(sum.ByTier, *ts)
	}
	slices.SortFunc(sum.ByTier, func(x, y domain.TierStats) int { return tierOrder(x.Tier) - tierOrder(y.Tier) })
	for _, ms := range models {
		sum.ByModel = append(sum.ByModel, *ms)
	}
	slices.SortFunc(sum.ByModel, func(x, y domain.ModelStats) int {
		if x.ModelVersion < y.ModelVersion {
			return -1
		}
		if x.ModelVersion > y.ModelVersion {
			return 1
		}
		return 0
	})
	for _, ps := range periods {
		sum.Series = append(sum.Series, *ps)
	}
	slices.SortFunc(sum.Series, func(x, y domain.PeriodStats) int { return x.Period.Compare(y.Period) })
	var fresh []float64
	for _, f := range a.freshness {
		if !f.At.Before(q.From) && f.At.Before(q.To) {
			fresh = append(fresh, float64(f.Delay)/float64(time.Millisecond))
		}
	}
	sum.Freshness = domain.LatencyOf(fresh)
	return sum, nil
}

// tierOrder sorts tiers in walk order.
func tierOrder(t domain.Tier) int {
	if i := slices.Index(domain.Tiers, t); i >= 0 {
		return i
	}
	return len(domain.Tiers)
}

// RecentLists implements ports.AnalyticsQuery.
func (a *Analytics) RecentLists(ctx context.Context, from, to time.Time, limit int) ([][]domain.MovieID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.RLock()
	var in []domain.Served
	for _, s := range a.served {
		if !s.ServedAt.Before(from) && s.ServedAt.Before(to) {
			in = append(in, s)
		}
	}
	a.mu.RUnlock()
	slices.SortFunc(in, func(x, y domain.Served) int { return y.ServedAt.Compare(x.ServedAt) })
	out := make([][]domain.MovieID, 0, min(limit, len(in)))
	for _, s := range in[:min(limit, len(in))] {
		ids := make([]domain.MovieID, len(s.List.Items))
		for i, it := range s.List.Items {
			ids[i] = it.MovieID
		}
		out = append(out, ids)
	}
	return out, nil
}

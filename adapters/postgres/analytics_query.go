package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.AnalyticsQuery = (*Analytics)(nil)

// RecordFreshness implements ports.AnalyticsSink in one statement.
func (a *Analytics) RecordFreshness(ctx context.Context, samples ...domain.FreshnessSample) error {
	if len(samples) == 0 {
		return nil
	}
	at, ids, ms := make([]time.Time, len(samples)), make([]string, len(samples)), make([]float64, len(samples))
	users := make([]*string, len(samples))
	for i, s := range samples {
		at[i], ids[i], ms[i] = s.At, s.EventID, float64(s.Delay)/float64(time.Millisecond)
		if s.UserID != "" {
			u := string(s.UserID)
			users[i] = &u
		}
	}
	_, err := a.pool.Exec(ctx, `
		INSERT INTO freshness_samples (at, event_id, delay_ms, user_id)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::double precision[], $4::text[])`, at, ids, ms, users)
	return wrap("record freshness", err)
}

// window is the CTE every summary query starts from: the lists served in
// the window, each marked clicked when some attributed feedback names a
// movie it showed (position > 0).
const window = `
	WITH l AS (
		SELECT r.rec_log_id, r.served_by, r.model_version, r.served_at, r.movie_ids,
		       extract(epoch FROM r.latency) * 1000 AS ms,
		       EXISTS (SELECT 1 FROM recommendation_feedback f WHERE f.rec_log_id = r.rec_log_id AND f.position > 0) AS clicked
		FROM recommendation_logs r
		WHERE r.served_at >= $1 AND r.served_at < $2
	)`

// Summary implements ports.AnalyticsQuery with a few aggregate queries in
// one read-only transaction, so the figures are of one snapshot.
func (a *Analytics) Summary(ctx context.Context, q domain.SummaryQuery) (domain.Summary, error) {
	if err := q.Validate(); err != nil {
		return domain.Summary{}, err
	}
	sum := domain.Summary{From: q.From, To: q.To, Granularity: q.Granularity}
	err := pgx.BeginTxFunc(ctx, a.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := a.byTier(ctx, tx, q, &sum); err != nil {
			return err
		}
		if err := a.byModel(ctx, tx, q, &sum); err != nil {
			return err
		}
		if err := a.series(ctx, tx, q, &sum); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, window+`
			SELECT count(DISTINCT m) FROM l, unnest(l.movie_ids) AS m`,
			q.From, q.To).Scan(&sum.Totals.DistinctRecommended); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			SELECT count(*),
			       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY delay_ms), 0),
			       coalesce(percentile_disc(0.95) WITHIN GROUP (ORDER BY delay_ms), 0),
			       coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY delay_ms), 0)
			FROM freshness_samples WHERE at >= $1 AND at < $2`, q.From, q.To).
			Scan(&sum.Freshness.Count, &sum.Freshness.P50, &sum.Freshness.P95, &sum.Freshness.P99)
	})
	if err != nil {
		return domain.Summary{}, wrap("analytics summary", err)
	}
	return sum, nil
}

func (a *Analytics) byTier(ctx context.Context, tx pgx.Tx, q domain.SummaryQuery, sum *domain.Summary) error {
	rows, err := tx.Query(ctx, window+`
		SELECT served_by, count(*), count(*) FILTER (WHERE clicked),
		       percentile_disc(0.5) WITHIN GROUP (ORDER BY ms),
		       percentile_disc(0.95) WITHIN GROUP (ORDER BY ms),
		       percentile_disc(0.99) WITHIN GROUP (ORDER BY ms)
		FROM l GROUP BY served_by`, q.From, q.To)
	if err != nil {
		return err
	}
	sum.ByTier, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.TierStats, error) {
		var t domain.TierStats
		err := r.Scan(&t.Tier, &t.Impressions, &t.Clicks, &t.Latency.P50, &t.Latency.P95, &t.Latency.P99)
		t.Latency.Count = t.Impressions
		return t, err
	})
	if err != nil {
		return err
	}
	for i := range sum.ByTier {
		t := &sum.ByTier[i]
		t.CTR.CTR = ratio(t.Clicks, t.Impressions)
		sum.Totals.Impressions += t.Impressions
		sum.Totals.Clicks += t.Clicks
	}
	for i := range sum.ByTier {
		sum.ByTier[i].Share = ratio(sum.ByTier[i].Impressions, sum.Totals.Impressions)
	}
	sum.Totals.CTR.CTR = ratio(sum.Totals.Clicks, sum.Totals.Impressions)
	slices.SortFunc(sum.ByTier, func(x, y domain.TierStats) int { return tierRank(x.Tier) - tierRank(y.Tier) })
	return nil
}

func (a *Analytics) byModel(ctx context.Context, tx pgx.Tx, q domain.SummaryQuery, sum *domain.Summary) error {
	rows, err := tx.Query(ctx, window+`
		SELECT model_version, count(*), count(*) FILTER (WHERE clicked)
		FROM l GROUP BY model_version ORDER BY model_version`, q.From, q.To)
	if err != nil {
		return err
	}
	sum.ByModel, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.ModelStats, error) {
		var m domain.ModelStats
		err := r.Scan(&m.ModelVersion, &m.Impressions, &m.Clicks)
		m.CTR.CTR = ratio(m.Clicks, m.Impressions)
		return m, err
	})
	return err
}

func (a *Analytics) series(ctx context.Context, tx pgx.Tx, q domain.SummaryQuery, sum *domain.Summary) error {
	rows, err := tx.Query(ctx, window+`
		SELECT date_trunc($3, served_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period,
		       served_by, count(*), count(*) FILTER (WHERE clicked)
		FROM l GROUP BY period, served_by ORDER BY period`, q.From, q.To, string(q.Granularity))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			period      time.Time
			tier        domain.Tier
			imp, clicks int
		)
		if err := rows.Scan(&period, &tier, &imp, &clicks); err != nil {
			return err
		}
		period = period.UTC()
		if n := len(sum.Series); n == 0 || !sum.Series[n-1].Period.Equal(period) {
			sum.Series = append(sum.Series, domain.PeriodStats{Period: period, ByTier: map[domain.Tier]domain.CTR{}})
		}
		p := &sum.Series[len(sum.Series)-1]
		p.Impressions += imp
		p.Clicks += clicks
		p.CTR.CTR = ratio(p.Clicks, p.Impressions)
		p.ByTier[tier] = domain.CTR{Impressions: imp, Clicks: clicks, CTR: ratio(clicks, imp)}
	}
	return rows.Err()
}

// RecentLists implements ports.AnalyticsQuery.
func (a *Analytics) RecentLists(ctx context.Context, from, to time.Time, limit int) ([][]domain.MovieID, error) {
	rows, err := a.pool.Query(ctx, `
		SELECT movie_ids FROM recommendation_logs
		WHERE served_at >= $1 AND served_at < $2
		ORDER BY served_at DESC, rec_log_id LIMIT $3`, from, to, limit)
	if err != nil {
		return nil, wrap("recent lists", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]domain.MovieID, error) {
		var ids []domain.MovieID
		err := r.Scan(&ids)
		return ids, err
	})
	return out, wrap("recent lists", err)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// tierRank orders tiers as the walk tries them.
func tierRank(t domain.Tier) int {
	if i := slices.Index(domain.Tiers, t); i >= 0 {
		return i
	}
	return len(domain.Tiers)
}

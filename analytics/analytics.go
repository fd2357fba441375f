// Package analytics assembles the report operators read every morning: the
// aggregates of the analytics store (impressions, clicks, CTR per tier,
// model version and period, latency, freshness), completed with what needs
// the catalog and popularity (coverage, intra-list diversity, novelty), and
// the offline metrics of every trained model.
package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ModelReport is the offline evaluation of one trained model.
type ModelReport struct {
	Version      string             `json:"version"`
	CreatedAt    time.Time          `json:"created_at"`
	Status       domain.ModelStatus `json:"status"`
	TrainSeconds float64            `json:"train_seconds"`
	Metrics      map[string]float64 `json:"metrics"`
}

// Report is the analytics summary of a window plus the model history.
type Report struct {
	domain.Summary
	Models []ModelReport `json:"models" doc:"Every trained model, oldest first, with its holdout metrics beside the popularity baseline."`
}

// Service builds reports.
type Service struct {
	Query   ports.AnalyticsQuery
	Catalog ports.Catalog
	Popular ports.PopularStore
	Models  ports.ModelStore
	// SampleLists caps the lists diversity and novelty are measured on
	// (the most recent of the window); 5,000 when zero.
	SampleLists int
	Now         func() time.Time
}

// Summary returns the report of q's window.
func (s *Service) Summary(ctx context.Context, q domain.SummaryQuery) (Report, error) {
	sum, err := s.Query.Summary(ctx, q)
	if err != nil {
		return Report{}, fmt.Errorf("analytics summary: %w", err)
	}
	if sum.Totals.CatalogSize, err = s.Catalog.Count(ctx); err != nil {
		return Report{}, fmt.Errorf("catalog size: %w", err)
	}
	if sum.Totals.CatalogSize > 0 {
		sum.Totals.Coverage = float64(sum.Totals.DistinctRecommended) / float64(sum.Totals.CatalogSize)
	}
	if err := s.quality(ctx, q, &sum.Totals); err != nil {
		return Report{}, err
	}
	rep := Report{Summary: sum, Models: []ModelReport{}}
	models, err := s.Models.List(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("model registry: %w", err)
	}
	for i := len(models) - 1; i >= 0; i-- {
		m := models[i]
		rep.Models = append(rep.Models, ModelReport{Version: m.Version, CreatedAt: m.CreatedAt, Status: m.Status,
			TrainSeconds: m.TrainSeconds, Metrics: m.Metrics})
	}
	if rep.ByTier == nil {
		rep.ByTier = []domain.TierStats{}
	}
	if rep.ByModel == nil {
		rep.ByModel = []domain.ModelStats{}
	}
	if rep.Series == nil {
		rep.Series = []domain.PeriodStats{}
	}
	return rep, nil
}

// quality measures diversity and novelty on the most recent lists.
func (s *Service) quality(ctx context.Context, q domain.SummaryQuery, t *domain.SummaryTotals) error {
	limit := s.SampleLists
	if limit <= 0 {
		limit = 5000
	}
	lists, err := s.Query.RecentLists(ctx, q.From, q.To, limit)
	if err != nil || len(lists) == 0 {
		return err
	}
	ids := map[domain.MovieID]struct{}{}
	for _, l := range lists {
		for _, m := range l {
			ids[m] = struct{}{}
		}
	}
	keys := make([]domain.MovieID, 0, len(ids))
	for m := range ids {
		keys = append(keys, m)
	}
	movies, err := s.Catalog.GetMany(ctx, keys)
	if err != nil {
		return fmt.Errorf("genres: %w", err)
	}
	genres := func(m domain.MovieID) []string { return movies[m].Genres }
	ranks, err := s.popularityRanks(ctx, t.CatalogSize)
	if err != nil {
		return err
	}
	var div, nov float64
	ranked := 0
	for _, l := range lists {
		div += domain.GenreDiversity(l, genres)
		for _, m := range l {
			r, ok := ranks[m]
			if !ok {
				r = len(ranks) + 1 // never popular: ranks after every movie with interest
			}
			nov += float64(r)
			ranked++
		}
	}
	t.Diversity, t.ListsSampled = div/float64(len(lists)), len(lists)
	if ranked > 0 {
		t.Novelty = nov / float64(ranked)
	}
	return nil
}

func (s *Service) popularityRanks(ctx context.Context, n int) (map[domain.MovieID]int, error) {
	top, err := s.Popular.Top(ctx, max(n, 1), nil, s.Now())
	if err != nil {
		return nil, fmt.Errorf("popularity ranks: %w", err)
	}
	ranks := make(map[domain.MovieID]int, len(top))
	for i, m := range top {
		ranks[m.MovieID] = i + 1
	}
	return ranks, nil
}

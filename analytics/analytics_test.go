package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
)

// TestSummaryAddsCatalogFigures checks coverage, diversity and novelty on
// two lists worked out by hand, and the model history order.
func TestSummaryAddsCatalogFigures(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	cat, pop, sink, models := memory.NewCatalog(), memory.NewPopularStore(domain.DefaultPopularity()), memory.NewAnalytics(), memory.NewModelStore()
	for _, m := range []domain.Movie{
		{ID: "a", Title: "A", Genres: []string{"Drama"}}, {ID: "b", Title: "B", Genres: []string{"Drama"}},
		{ID: "c", Title: "C", Genres: []string{"Horror"}}, {ID: "d", Title: "D", Genres: []string{"Drama", "Horror"}},
	} {
		if err := cat.Put(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []domain.MovieID{"a", "b", "c"} { // popularity ranks: a 1, b 2, c 3; d has none (rank 4)
		if err := pop.Record(ctx, id, float64(10-i), now); err != nil {
			t.Fatal(err)
		}
	}
	list := func(ids ...domain.MovieID) domain.RecList {
		l := domain.RecList{Tier: domain.TierVector}
		for _, id := range ids {
			l.Items = append(l.Items, domain.ScoredMovie{MovieID: id})
		}
		return l
	}
	if err := sink.LogServed(ctx,
		domain.Served{RecLogID: "l1", UserID: "u", List: list("a", "b"), ServedBy: domain.TierVector, ServedAt: now.Add(-time.Hour)},
		domain.Served{RecLogID: "l2", UserID: "u", List: list("a", "c", "d"), ServedBy: domain.TierVector, ServedAt: now.Add(-time.Minute)},
	); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		m := &domain.Model{Version: v, Factors: 1, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1}, Metrics: map[string]float64{"ndcg@10": 0.2}}
		if err := models.Save(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	s := &Service{Query: sink, Catalog: cat, Popular: pop, Models: models, Now: func() time.Time { return now }}
	rep, err := s.Summary(ctx, domain.SummaryQuery{From: now.Add(-24 * time.Hour), To: now, Granularity: domain.Hourly})
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	// Coverage: a, b, c, d of 4 movies. Diversity: l1 {Drama}{Drama} → 0;
	// l2 pairs a–c 1, a–d 1/2, c–d 1/2 → 2/3; mean 1/3. Novelty: ranks
	// 1, 2, 1, 3, 4 → 11/5.
	if tot.CatalogSize != 4 || tot.Coverage != 1 || !near(tot.Diversity, 1.0/3) || !near(tot.Novelty, 2.2) || tot.ListsSampled != 2 {
		t.Fatalf("totals = %+v", tot)
	}
	if len(rep.Models) != 2 || rep.Models[0].Version != "v1" || rep.Models[1].Version != "v2" {
		t.Fatalf("model history = %+v", rep.Models)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

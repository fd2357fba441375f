package porttest

import (
	"errors"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ModelStore is the contract of ports.ModelStore.
func ModelStore(t *testing.T, newStore func(t *testing.T) ports.ModelStore) {
	t.Run("save, promote, list", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "v")
		if _, err := s.Current(ctx(t)); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("empty store: err = %v, want ErrNotFound", err)
		}
		m1 := randomModel(p+"-1", 20, 4, 1)
		m1.CreatedAt, m1.Alpha, m1.Lambda, m1.Iterations, m1.Solver = baseTime, 10, 0.1, 15, "cg"
		m1.Users, m1.Interactions, m1.TrainSeconds = 7, 99, 1.5
		m1.Metrics = map[string]float64{"ndcg@10": 0.25, "popularity_ndcg@10": 0.1}
		m1.Validation = map[string]float64{"ndcg@10": 0.24}
		m2 := randomModel(p+"-2", 30, 4, 2)
		m2.CreatedAt = baseTime.Add(1)
		must(t, s.Save(ctx(t), m1))
		if _, err := s.Current(ctx(t)); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a saved candidate is served: err = %v", err)
		}
		must(t, s.Promote(ctx(t), m1.Version))
		must(t, s.Save(ctx(t), m2))
		cur, err := s.Current(ctx(t))
		must(t, err)
		if cur.Version != m1.Version || cur.Status != domain.ModelServing || !slices.Equal(cur.ItemFactors, m1.ItemFactors) || !slices.Equal(cur.Movies, m1.Movies) {
			t.Fatalf("current = %s (%s) with %d factors", cur.Version, cur.Status, len(cur.ItemFactors))
		}
		must(t, s.Promote(ctx(t), m2.Version))
		cur, err = s.Current(ctx(t))
		must(t, err)
		if cur.Version != m2.Version || !slices.Equal(cur.ItemFactors, m2.ItemFactors) {
			t.Fatalf("after promoting m2, current = %s", cur.Version)
		}
		all, err := s.List(ctx(t))
		must(t, err)
		var mine []domain.Model
		for _, m := range all {
			if m.Version == m1.Version || m.Version == m2.Version {
				mine = append(mine, m)
			}
		}
		if len(mine) != 2 || mine[0].Version != m2.Version || mine[1].Version != m1.Version {
			t.Fatalf("list order wrong: %v", mine)
		}
		got := mine[1]
		if got.Status != domain.ModelRetired || mine[0].Status != domain.ModelServing {
			t.Fatalf("statuses: m1 %s, m2 %s", got.Status, mine[0].Status)
		}
		if got.Metrics["ndcg@10"] != 0.25 || got.Validation["ndcg@10"] != 0.24 || got.Alpha != 10 || got.Iterations != 15 ||
			got.Solver != "cg" || got.Users != 7 || got.Interactions != 99 || got.TrainSeconds != 1.5 ||
			!got.CreatedAt.Equal(baseTime) || got.Factors != 4 || len(got.ItemFactors) != 0 || len(got.Movies) != 0 {
			t.Fatalf("listed m1 = %+v", got)
		}
	})
	t.Run("promote unknown version", func(t *testing.T) {
		s := newStore(t)
		if err := s.Promote(ctx(t), uniq(t, "nope")); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("invalid model rejected", func(t *testing.T) {
		s := newStore(t)
		bad := &domain.Model{Version: uniq(t, "bad"), Factors: 2, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1}}
		if err := s.Save(ctx(t), bad); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}

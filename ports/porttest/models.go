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
	t.Run("publish makes current, list is newest first", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "v")
		if _, err := s.Current(ctx(t)); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("empty store: err = %v, want ErrNotFound", err)
		}
		m1 := randomModel(p+"-1", 20, 4, 1)
		m1.CreatedAt, m1.Alpha, m1.Lambda = baseTime, 10, 0.1
		m1.Metrics = map[string]float64{"ndcg@10": 0.25}
		m2 := randomModel(p+"-2", 30, 4, 2)
		m2.CreatedAt = baseTime.Add(1)
		must(t, s.Publish(ctx(t), m1))
		must(t, s.Publish(ctx(t), m2))
		cur, err := s.Current(ctx(t))
		must(t, err)
		if cur.Version != m2.Version || !slices.Equal(cur.ItemFactors, m2.ItemFactors) || !slices.Equal(cur.Movies, m2.Movies) {
			t.Fatalf("current = %s with %d factors", cur.Version, len(cur.ItemFactors))
		}
		all, err := s.List(ctx(t))
		must(t, err)
		if len(all) < 2 || all[0].Version != m2.Version || all[1].Version != m1.Version {
			t.Fatalf("list order wrong: %v", all)
		}
		if all[1].Metrics["ndcg@10"] != 0.25 || all[1].Alpha != 10 || len(all[1].ItemFactors) != 0 {
			t.Fatalf("listed m1 = %+v", all[1])
		}
	})
	t.Run("invalid model rejected", func(t *testing.T) {
		s := newStore(t)
		bad := &domain.Model{Version: uniq(t, "bad"), Factors: 2, Movies: []domain.MovieID{"a"}, ItemFactors: []float32{1}}
		if err := s.Publish(ctx(t), bad); !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}

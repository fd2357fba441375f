package porttest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// PopularStore is the contract of ports.PopularStore. The store must use
// domain.DefaultPopularity (a one-week half-life).
func PopularStore(t *testing.T, newStore func(t *testing.T) ports.PopularStore) {
	now := baseTime
	t.Run("ranks by decayed weight and excludes", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "m")
		a, b, c := domain.MovieID(p+"a"), domain.MovieID(p+"b"), domain.MovieID(p+"c")
		week := 7 * 24 * time.Hour
		// a: 8 two weeks ago (= 2 now); b: 3 now; c: 1 now, plus a dislike.
		must(t, s.Record(ctx(t), a, 8, now.Add(-2*week)))
		must(t, s.Record(ctx(t), b, 3, now))
		must(t, s.Record(ctx(t), c, 1, now))
		must(t, s.Record(ctx(t), c, -4, now))
		got, err := s.Top(ctx(t), 1000, nil, now)
		must(t, err)
		got = onlyPrefix(got, p)
		if want := []domain.MovieID{b, a, c}; !slices.Equal(ids(got), want) {
			t.Fatalf("order = %v, want %v", ids(got), want)
		}
		if d := got[1].Score - 2; d > 1e-9 || d < -1e-9 {
			t.Fatalf("score of a = %v, want 2 (8 halved twice)", got[1].Score)
		}
		got, err = s.Top(ctx(t), 1000, domain.MovieSet{b: {}}, now)
		must(t, err)
		if want := []domain.MovieID{a, c}; !slices.Equal(ids(onlyPrefix(got, p)), want) {
			t.Fatalf("excluding b: %v, want %v", ids(got), want)
		}
	})
	t.Run("a late event counts with its own time", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "m")
		a, b := domain.MovieID(p+"a"), domain.MovieID(p+"b")
		must(t, s.Record(ctx(t), a, 1, now))
		must(t, s.Record(ctx(t), b, 1.5, now))
		must(t, s.Record(ctx(t), a, 1, now.Add(-7*24*time.Hour))) // worth 0.5 now
		got, err := s.Top(ctx(t), 1000, nil, now)
		must(t, err)
		got = onlyPrefix(got, p)
		if len(got) != 2 || got[0].Score-got[1].Score > 1e-9 || got[1].Score-got[0].Score > 1e-9 {
			t.Fatalf("a and b should tie at 1.5: %+v", got)
		}
	})
	t.Run("concurrent records are all counted", func(t *testing.T) {
		s, p := newStore(t), uniq(t, "m")
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					_ = s.Record(ctx(t), domain.MovieID(p+"x"), 1, now)
				}
			}()
		}
		wg.Wait()
		got, err := s.Top(ctx(t), 1000, nil, now)
		must(t, err)
		got = onlyPrefix(got, p)
		if len(got) != 1 || got[0].Score < 399.999 || got[0].Score > 400.001 {
			t.Fatalf("400 records of weight 1: %+v", got)
		}
	})
}

// onlyPrefix keeps this test's movies, so suites can share a real store.
func onlyPrefix(ms []domain.ScoredMovie, p string) []domain.ScoredMovie {
	var out []domain.ScoredMovie
	for _, m := range ms {
		if len(m.MovieID) > len(p) && string(m.MovieID[:len(p)]) == p {
			out = append(out, m)
		}
	}
	return out
}

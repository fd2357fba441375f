package tune

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/domain/eval"
)

// clustered returns implicit feedback with latent structure: users and
// items in four clusters, users mostly interacting within their own.
func clustered(t testing.TB, users, items int, seed uint64) *als.Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var b als.Builder
	for u := 0; u < users; u++ {
		for range 10 + rng.IntN(20) {
			i := rng.IntN(items)
			if rng.Float64() < 0.8 {
				i = i - i%4 + u%4 // the same rank in the user's cluster
				if i >= items {
					i -= 4
				}
			}
			b.Add(u, i, float64(1+rng.IntN(5)))
		}
	}
	m, err := b.Build(users, items)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func smallConfig() Config {
	base := als.DefaultParams()
	base.Factors, base.Iterations, base.Workers = 8, 4, 2
	return Config{
		Trials: 6,
		Seed:   3,
		Base:   base,
		Space:  Space{Factors: []int{4, 8}, Alpha: [2]float64{0.1, 10}, Lambda: [2]float64{0.1, 100}},
		Split:  eval.DefaultSplit(),
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	m := clustered(t, 300, 120, 1)
	before := slices.Clone(m.Data)
	cfg := smallConfig()
	var seen []Trial
	res, err := Search(t.Context(), m, cfg, func(tr Trial) { seen = append(seen, tr) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Data, before) {
		t.Error("Search modified the matrix")
	}
	if len(res.Trials) != cfg.Trials || res.Stopped != "trials" || len(seen) != cfg.Trials {
		t.Fatalf("%d trials (%d reported), stopped by %q", len(res.Trials), len(seen), res.Stopped)
	}
	if first := res.Trials[0].Params; first != cfg.Base {
		t.Errorf("first trial %+v, want Base %+v", first, cfg.Base)
	}
	best := res.Trials[res.BestTrial]
	for i, tr := range res.Trials {
		if tr.Number != i+1 || tr.Validation.Users != res.ValidationUsers || tr.Validation.K != 10 {
			t.Errorf("trial %d: %+v", i, tr)
		}
		if tr.Validation.NDCG > best.Validation.NDCG {
			t.Errorf("trial %d scores %g, above the best %g", tr.Number, tr.Validation.NDCG, best.Validation.NDCG)
		}
		p := tr.Params
		if i > 0 && (!slices.Contains(cfg.Space.Factors, p.Factors) || p.Alpha < 0.1 || p.Alpha > 10 || p.Lambda < 0.1 || p.Lambda > 100) {
			t.Errorf("trial %d outside the space: %+v", tr.Number, p)
		}
		if p.Iterations != cfg.Base.Iterations || p.Seed != cfg.Base.Seed {
			t.Errorf("trial %d did not keep Base's iterations and seed: %+v", tr.Number, p)
		}
	}
	if res.Best != best.Params || res.Sorted()[0].Validation.NDCG != best.Validation.NDCG {
		t.Errorf("Best %+v, best trial %+v", res.Best, best.Params)
	}
	if !(best.Validation.NDCG > res.Popularity.NDCG) {
		t.Errorf("best NDCG %g does not beat popularity %g on clustered data", best.Validation.NDCG, res.Popularity.NDCG)
	}

	// Same seed, same table; another seed, other candidates.
	again, err := Search(t.Context(), m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Trials {
		a, b := res.Trials[i], again.Trials[i]
		if a.Params != b.Params || a.Validation != b.Validation {
			t.Errorf("trial %d differs between runs: %+v vs %+v", i+1, a, b)
		}
	}
	cfg.Seed++
	other, err := Search(t.Context(), m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if other.Trials[1].Params == res.Trials[1].Params {
		t.Error("another seed drew the same second candidate")
	}
}

func TestSearchBudget(t *testing.T) {
	t.Parallel()
	m := clustered(t, 300, 120, 2)
	cfg := smallConfig()
	cfg.Trials = 1000
	cfg.Budget = 300 * time.Millisecond
	start := time.Now()
	res, err := Search(t.Context(), m, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if res.Stopped != "budget" || len(res.Trials) == 0 || len(res.Trials) >= cfg.Trials {
		t.Errorf("%d trials, stopped by %q", len(res.Trials), res.Stopped)
	}
	// The budget is checked between blocks of rows, so it overshoots by
	// at most a block; allow generously for a loaded machine.
	if took > 10*cfg.Budget {
		t.Errorf("a %v budget took %v", cfg.Budget, took)
	}
}

func TestSearchCancelled(t *testing.T) {
	t.Parallel()
	m := clustered(t, 200, 80, 3)
	ctx, cancel := context.WithCancel(t.Context())
	cfg := smallConfig()
	n := 0
	_, err := Search(ctx, m, cfg, func(Trial) {
		if n++; n == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Search after cancel = %v", err)
	}
}

func TestSearchRejects(t *testing.T) {
	t.Parallel()
	m := clustered(t, 50, 40, 4)
	tests := []struct {
		name string
		edit func(*Config)
		want error
	}{
		{"bad base", func(c *Config) { c.Base.Lambda = 0 }, domain.ErrInvalid},
		{"empty factors", func(c *Config) { c.Space.Factors = []int{} }, domain.ErrInvalid},
		{"inverted alpha", func(c *Config) { c.Space.Alpha = [2]float64{5, 1} }, domain.ErrInvalid},
		{"zero lambda bound", func(c *Config) { c.Space.Lambda = [2]float64{0, 1} }, domain.ErrInvalid},
		{"negative budget", func(c *Config) { c.Budget = -1 }, domain.ErrInvalid},
		{"bad split", func(c *Config) { c.Split.Fraction = 2 }, domain.ErrInvalid},
		{"nobody eligible", func(c *Config) { c.Split.MinPositives = 1000 }, ErrNoValidation},
	}
	for _, tt := range tests {
		cfg := smallConfig()
		tt.edit(&cfg)
		if _, err := Search(t.Context(), m, cfg, nil); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestDefaultSpace(t *testing.T) {
	t.Parallel()
	grid := func(users, items, perUser int) *als.Matrix {
		var b als.Builder
		for u := 0; u < users; u++ {
			for j := 0; j < perUser; j++ {
				b.Add(u, (u+j)%items, 1)
			}
		}
		m, err := b.Build(users, items)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	sparse := grid(1000, 1000, 5) // s = 5,000/2,000 = 2.5
	dense := grid(100, 10, 10)    // s = 1,000/110 ≈ 9.1
	s, d := DefaultSpace(sparse), DefaultSpace(dense)
	for _, sp := range []Space{s, d, DefaultSpace(nil)} {
		if err := sp.Validate(); err != nil {
			t.Errorf("DefaultSpace invalid: %v", err)
		}
	}
	if !(d.Lambda[0] > s.Lambda[0]) || math.Abs(d.Lambda[1]/d.Lambda[0]-900) > 1e-9 {
		t.Errorf("λ range %v for dense data, %v for sparse: should move up with density, over ~three decades", d.Lambda, s.Lambda)
	}
}

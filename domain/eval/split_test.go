package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// randomData returns a users × items matrix with a random number of
// entries per user (0 to 40), a fifth of them dislikes, and a random time
// per entry.
func randomData(t testing.TB, users, items int, seed uint64) (*als.Matrix, []int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b als.Builder
	for u := 0; u < users; u++ {
		for range rng.IntN(41) {
			w := float64(1 + rng.IntN(5))
			if rng.Float64() < 0.2 {
				w = -w
			}
			b.Add(u, rng.IntN(items), w)
		}
	}
	m, err := b.Build(users, items)
	if err != nil {
		t.Fatal(err)
	}
	times := make([]int64, m.NNZ())
	for e := range times {
		times[e] = int64(rng.IntN(50)) // few distinct values: many ties
	}
	return m, times
}

func positives(m *als.Matrix, u int) int {
	_, vals := m.Row(u)
	n := 0
	for _, v := range vals {
		if v > 0 {
			n++
		}
	}
	return n
}

// TestSplitProtocol checks every rule of the package doc on random data,
// with and without times.
func TestSplitProtocol(t *testing.T) {
	t.Parallel()
	m, times := randomData(t, 300, 200, 1)
	for _, withTimes := range []bool{false, true} {
		ts := times
		if !withTimes {
			ts = nil
		}
		cfg := DefaultSplit()
		h, err := Split(m, ts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Train.Validate(); err != nil {
			t.Fatal(err)
		}
		if withTimes != (h.Times != nil) || withTimes && len(h.Times) != h.Train.NNZ() {
			t.Fatalf("times: %d for %d entries", len(h.Times), h.Train.NNZ())
		}
		users, held := 0, 0
		for u := 0; u < m.Rows; u++ {
			cols, vals := m.Row(u)
			tcols, tvals := h.Train.Row(u)
			n := positives(m, u)
			items := h.Items[u]
			if n < cfg.MinPositives {
				if items != nil || !slices.Equal(cols, tcols) {
					t.Errorf("user %d with %d positives: held out %v", u, n, items)
				}
				continue
			}
			users++
			held += len(items)
			if want := min(max(int(math.Round(0.2*float64(n))), 1), n-1); len(items) != want {
				t.Errorf("user %d: %d of %d positives held out, want %d", u, len(items), n, want)
			}
			if !slices.IsSorted(items) {
				t.Errorf("user %d: held-out items %v not sorted", u, items)
			}
			// No leak: every held-out item is gone from training, and
			// training is the original row minus exactly those items.
			for _, i := range items {
				if _, found := slices.BinarySearch(tcols, i); found {
					t.Errorf("user %d: held-out item %d still in training", u, i)
				}
				j, found := slices.BinarySearch(cols, i)
				if !found || vals[j] <= 0 {
					t.Errorf("user %d: held-out item %d was not a positive entry", u, i)
				}
			}
			if len(tcols)+len(items) != len(cols) {
				t.Errorf("user %d: %d training + %d held out ≠ %d entries", u, len(tcols), len(items), len(cols))
			}
			for j, c := range tcols {
				k, _ := slices.BinarySearch(cols, c)
				if vals[k] != tvals[j] {
					t.Errorf("user %d item %d: weight changed", u, c)
				}
				if withTimes && h.Times[h.Train.Indptr[u]+j] != times[m.Indptr[u]+k] {
					t.Errorf("user %d item %d: time not carried over", u, c)
				}
			}
			if withTimes {
				// The held-out entries are the latest positive ones.
				oldestHeld := int64(math.MaxInt64)
				for _, i := range items {
					k, _ := slices.BinarySearch(cols, i)
					oldestHeld = min(oldestHeld, times[m.Indptr[u]+k])
				}
				for j, c := range tcols {
					if tvals[j] > 0 && h.Times[h.Train.Indptr[u]+j] > oldestHeld {
						t.Errorf("user %d: kept item %d is newer than a held-out one", u, c)
					}
				}
			}
		}
		if users == 0 || h.Users != users || h.Held != held {
			t.Errorf("Holdout says %d users and %d held, counted %d and %d", h.Users, h.Held, users, held)
		}
	}
}

func TestSplitDeterministicAndSampled(t *testing.T) {
	t.Parallel()
	m, times := randomData(t, 400, 150, 2)
	cfg := DefaultSplit()
	cfg.MaxUsers = 50
	a, err := Split(m, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Split(m, nil, cfg)
	if a.Users != 50 || !slices.EqualFunc(a.Items, b.Items, slices.Equal) || !slices.Equal(a.Train.Indices, b.Train.Indices) {
		t.Errorf("same config: %d users, equal %v", a.Users, slices.EqualFunc(a.Items, b.Items, slices.Equal))
	}
	cfg.Seed++
	c, _ := Split(m, nil, cfg)
	if slices.EqualFunc(a.Items, c.Items, slices.Equal) {
		t.Error("another seed held out the same items")
	}
	// With times only the ties and the sample depend on the seed.
	cfg.MaxUsers = 0
	d, _ := Split(m, times, cfg)
	cfg.Seed++
	e, _ := Split(m, times, cfg)
	same := 0
	for u := range d.Items {
		if slices.Equal(d.Items[u], e.Items[u]) {
			same++
		}
	}
	if same == 0 || same == m.Rows {
		t.Errorf("with times, %d of %d users' holdouts unchanged by the seed", same, m.Rows)
	}
}

func TestSplitRejects(t *testing.T) {
	t.Parallel()
	m, _ := randomData(t, 10, 10, 3)
	tests := []struct {
		name  string
		m     *als.Matrix
		times []int64
		cfg   SplitConfig
	}{
		{"nil matrix", nil, nil, DefaultSplit()},
		{"times of another length", m, make([]int64, m.NNZ()+1), DefaultSplit()},
		{"fraction 1", m, nil, SplitConfig{Fraction: 1}},
		{"negative fraction", m, nil, SplitConfig{Fraction: -0.1}},
		{"negative min", m, nil, SplitConfig{MinPositives: -1}},
		{"negative cap", m, nil, SplitConfig{MaxUsers: -1}},
	}
	for _, tt := range tests {
		if _, err := Split(tt.m, tt.times, tt.cfg); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%s: %v, want domain.ErrInvalid", tt.name, err)
		}
	}
}

// TestSplitMinimal: a user with exactly two positives and MinPositives 1
// keeps one.
func TestSplitMinimal(t *testing.T) {
	t.Parallel()
	m := mustMatrix(t, 2, 4, []als.Triplet{tr(0, 1, 1), tr(0, 2, 1), tr(0, 3, -2), tr(1, 0, 1)})
	h, err := Split(m, nil, SplitConfig{MinPositives: 1, Fraction: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if h.Users != 1 || len(h.Items[0]) != 1 || h.Items[1] != nil || positives(h.Train, 0) != 1 {
		t.Errorf("holdout %v, train row 0 positives %d", h.Items, positives(h.Train, 0))
	}
}

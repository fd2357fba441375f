package eval

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
)

// SplitConfig says how Split carves the holdout (see the package doc for
// the protocol).
type SplitConfig struct {
	// MinPositives is the fewest positive entries a user needs to be
	// evaluated; 0 means 5.
	MinPositives int `json:"min_positives"`
	// Fraction of an evaluated user's positive entries held out, in (0, 1);
	// 0 means 0.2.
	Fraction float64 `json:"fraction"`
	// MaxUsers caps the number of evaluated users, drawn at random among
	// the eligible ones; 0 means no cap.
	MaxUsers int `json:"max_users"`
	// Seed drives the user sample, the random choice of entries without
	// times and the order of entries with equal times.
	Seed uint64 `json:"seed"`
}

// DefaultSplit is the split training and the tests use: a fifth of the
// positive entries of every user with at least five, the latest ones when
// times are known.
func DefaultSplit() SplitConfig {
	return SplitConfig{MinPositives: 5, Fraction: 0.2, Seed: 1}
}

func (c SplitConfig) withDefaults() SplitConfig {
	if c.MinPositives == 0 {
		c.MinPositives = 5
	}
	if c.Fraction == 0 {
		c.Fraction = 0.2
	}
	return c
}

// Validate reports every invalid field at once, as domain.FieldErrors.
func (c SplitConfig) Validate() error {
	var errs domain.FieldErrors
	if c.MinPositives < 0 {
		errs = append(errs, &domain.FieldError{Field: "min_positives", Message: "must be ≥ 0 (0 means 5)", Value: c.MinPositives})
	}
	if math.IsNaN(c.Fraction) || c.Fraction < 0 || c.Fraction >= 1 {
		errs = append(errs, &domain.FieldError{Field: "fraction", Message: "must be in [0, 1) (0 means 0.2)", Value: c.Fraction})
	}
	if c.MaxUsers < 0 {
		errs = append(errs, &domain.FieldError{Field: "max_users", Message: "must be ≥ 0 (0 means no cap)", Value: c.MaxUsers})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Holdout is the result of Split.
type Holdout struct {
	// Train is the matrix without the held-out entries.
	Train *als.Matrix
	// Times are the entry times of Train (aligned with Train.Indices), or
	// nil when Split had no times: a further split of Train (a validation
	// split for tuning) can then use them too.
	Times []int64
	// Items[u] are the held-out items of user u in increasing order, nil
	// for a user who is not evaluated. len(Items) == Train.Rows.
	Items [][]int32
	// Users is the number of evaluated users (non-empty Items).
	Users int
	// Held is the number of held-out entries.
	Held int
}

// Split carves a holdout out of m following the package's protocol. times,
// if not nil, gives for every entry of m (aligned with m.Indices) the time
// of the latest event on it, in any unit in which later is larger (unix
// seconds, say); the most recent positive entries are then held out
// instead of random ones. m is not modified.
func Split(m *als.Matrix, times []int64, cfg SplitConfig) (*Holdout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if m == nil {
		return nil, fmt.Errorf("eval: nil matrix: %w", domain.ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if times != nil && len(times) != m.NNZ() {
		return nil, fmt.Errorf("eval: %d times for %d entries: %w", len(times), m.NNZ(), domain.ErrInvalid)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x686f6c646f7574)) // "holdout"
	var eligible []int
	for u := 0; u < m.Rows; u++ {
		_, vals := m.Row(u)
		n := 0
		for _, v := range vals {
			if v > 0 {
				n++
			}
		}
		if n >= cfg.MinPositives && n >= 2 {
			eligible = append(eligible, u)
		}
	}
	if cfg.MaxUsers > 0 && len(eligible) > cfg.MaxUsers {
		// A partial Fisher–Yates shuffle draws MaxUsers of them uniformly.
		for i := 0; i < cfg.MaxUsers; i++ {
			j := i + rng.IntN(len(eligible)-i)
			eligible[i], eligible[j] = eligible[j], eligible[i]
		}
		eligible = eligible[:cfg.MaxUsers]
		slices.Sort(eligible)
	}
	h := &Holdout{Items: make([][]int32, m.Rows), Users: len(eligible)}
	// held marks the held-out entries by their position in m.
	held := make([]bool, m.NNZ())
	var cand []candidate
	for _, u := range eligible {
		lo, hi := m.Indptr[u], m.Indptr[u+1]
		cand = cand[:0]
		for e := lo; e < hi; e++ {
			if m.Data[e] > 0 {
				c := candidate{entry: e, tie: mix(cfg.Seed, uint64(u), uint64(m.Indices[e]))}
				if times != nil {
					c.time = times[e]
				}
				cand = append(cand, c)
			}
		}
		n := len(cand)
		k := min(max(int(math.Round(cfg.Fraction*float64(n))), 1), n-1)
		if times != nil {
			// Latest first; equal times in seeded-hash order.
			slices.SortFunc(cand, func(a, b candidate) int {
				return cmp.Or(cmp.Compare(b.time, a.time), cmp.Compare(a.tie, b.tie))
			})
		} else {
			for i := 0; i < k; i++ {
				j := i + rng.IntN(n-i)
				cand[i], cand[j] = cand[j], cand[i]
			}
		}
		items := make([]int32, k)
		for i, c := range cand[:k] {
			held[c.entry] = true
			items[i] = m.Indices[c.entry]
		}
		slices.Sort(items)
		h.Items[u] = items
		h.Held += k
	}
	h.Train, h.Times = without(m, times, held)
	return h, nil
}

// candidate is a positive entry that may be held out.
type candidate struct {
	entry int
	time  int64
	tie   uint64
}

// mix hashes a seed, a user and an item into an order for equal times
// (SplitMix64's finaliser over the combined words).
func mix(seed, u, i uint64) uint64 {
	x := seed ^ u*0x9e3779b97f4a7c15 ^ i*0xc2b2ae3d27d4eb4f
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// without returns m and times without the entries marked in drop.
func without(m *als.Matrix, times []int64, drop []bool) (*als.Matrix, []int64) {
	n := 0
	for _, d := range drop {
		if !d {
			n++
		}
	}
	out := &als.Matrix{Rows: m.Rows, Cols: m.Cols, Indptr: make([]int, m.Rows+1),
		Indices: make([]int32, 0, n), Data: make([]float32, 0, n)}
	var outTimes []int64
	if times != nil {
		outTimes = make([]int64, 0, n)
	}
	for u := 0; u < m.Rows; u++ {
		for e := m.Indptr[u]; e < m.Indptr[u+1]; e++ {
			if drop[e] {
				continue
			}
			out.Indices = append(out.Indices, m.Indices[e])
			out.Data = append(out.Data, m.Data[e])
			if times != nil {
				outTimes = append(outTimes, times[e])
			}
		}
		out.Indptr[u+1] = len(out.Indices)
	}
	return out, outTimes
}

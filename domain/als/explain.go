package als

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
)

// Contribution is one history movie's share of a recommended movie's
// score: Item is its factor row in the model.
type Contribution struct {
	Item  int32
	Share float64
}

// Explanation decomposes one target's score over the history.
type Explanation struct {
	// Score is the target's score, y_iᵀ x_u, computed from the shares.
	Score float64
	// Top are the largest shares, largest first (at most the top asked).
	Top []Contribution
}

// Explain decomposes the score of each target movie (factor rows) over the
// user's history, exactly (Hu, Koren and Volinsky 2008, §5): with
// W = (YᵀC_uY + λI)⁻¹ the user's regularised inverse, the fold-in is
// x_u = W·Σ_j c_uj·p_uj·y_j, so
//
//	ŷ_ui = y_iᵀ x_u = Σ_j s_ij · c_uj,   s_ij = y_iᵀ W y_j
//
// over the positive entries j (p_uj = 1, c_uj = 1 + α·r_uj): s_ij is the
// similarity of i and j in the user's own metric, and c_uj·s_ij is what
// history movie j brought to the score. Negative entries (dislikes) have
// p = 0 and no share, though their confidence shapes W. With L the
// Cholesky factor of W⁻¹ (the one the fold-in computes), s_ij =
// (L⁻¹y_i)ᵀ(L⁻¹y_j): one forward substitution per history movie and per
// target, then a dot product per pair, O((n+m)·K² + n·m·K) for n history
// movies and m targets.
//
// The shares of a target sum to its score up to float rounding (the
// served score comes from the float32 vector, so it differs from Score in
// the last digits). top bounds the contributions kept per target.
func (r *FoldRow) Explain(targets []int32, top int) ([]Explanation, error) {
	if r.positive == 0 {
		return nil, ErrNoPreference
	}
	f := r.f
	k := f.K()
	for _, t := range targets {
		if uint(t) >= uint(f.items.N) {
			return nil, fmt.Errorf("als: target %d outside %d factor rows: %w", t, f.items.N, domain.ErrInvalid)
		}
	}
	s := f.pool.Get().(*solver)
	defer f.pool.Put(s)
	x := make([]float32, k)
	// The solve leaves the Cholesky factor of YᵀC_uY + λI in s.a and s.d.
	if err := s.solve(x, r.idx, r.val, f.items, f.gram, f.params.Alpha, f.params.Lambda); err != nil {
		return nil, fmt.Errorf("als: model %s: %w", f.Model.Version, err)
	}
	// z_j = L⁻¹ y_j, scaled by c_uj, for every positive history entry.
	var hist []int32
	zs := make([]float64, 0, r.positive*k)
	for j, c := range r.idx {
		v := float64(r.val[j])
		if v <= 0 {
			continue
		}
		hist = append(hist, c)
		z := s.forward(zs[len(zs):len(zs)+k], f.items.Row(int(c)))
		conf := 1 + f.params.Alpha*math.Abs(v)
		for q := range z {
			z[q] *= conf
		}
		zs = zs[:len(zs)+k]
	}
	out := make([]Explanation, len(targets))
	zi := make([]float64, k)
	shares := make([]Contribution, len(hist))
	for t, item := range targets {
		s.forward(zi, f.items.Row(int(item)))
		var score float64
		for j := range hist {
			sh := dot(zi, zs[j*k:(j+1)*k])
			shares[j] = Contribution{Item: hist[j], Share: sh}
			score += sh
		}
		slices.SortFunc(shares, func(a, b Contribution) int {
			if c := cmp.Compare(b.Share, a.Share); c != 0 {
				return c
			}
			return cmp.Compare(a.Item, b.Item)
		})
		out[t] = Explanation{Score: score, Top: slices.Clone(shares[:min(top, len(shares))])}
	}
	return out, nil
}

// forward writes L⁻¹y into dst (length K) with the Cholesky factor the last
// solve left in s.a and s.d, and returns dst.
func (s *solver) forward(dst []float64, y []float32) []float64 {
	k := s.k
	for i := 0; i < k; i++ {
		dst[i] = (float64(y[i]) - dot(s.a[i*k:i*k+i], dst[:i])) * s.d[i]
	}
	return dst
}

package als

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/marquee-recsys/marquee/domain"
)

// FoldRow is one user's history translated to a model's factor rows and
// kept in row order, so that a fold-in after each event needs neither a
// walk over the history's movie ids nor a sort: an event updates one entry
// (one map lookup and a binary search), and FoldIn solves the row as it is.
// FoldIn gives bit-for-bit what FoldInMovies gives for the same weights.
//
// A FoldRow belongs to one goroutine (a user actor); it shares the
// ModelFolder, which is safe for concurrent use.
type FoldRow struct {
	f        *ModelFolder
	idx      []int32   // factor rows, ascending
	val      []float32 // summed weight per row
	positive int       // entries with a positive weight
}

// NewRow translates summed weights per movie (domain.Preferences.Weights)
// to a FoldRow. Movies the model does not know are left out.
func (f *ModelFolder) NewRow(weights map[domain.MovieID]float64) (*FoldRow, error) {
	r := &FoldRow{f: f, idx: make([]int32, 0, len(weights)), val: make([]float32, 0, len(weights))}
	pairs := make([]foldPair, 0, len(weights))
	for id, w := range weights {
		i, ok := f.Index[id]
		if !ok {
			continue
		}
		v, err := weight32(id, w)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, foldPair{i, v})
	}
	slices.SortFunc(pairs, func(a, b foldPair) int { return cmp.Compare(a.item, b.item) })
	for _, p := range pairs {
		r.idx, r.val = append(r.idx, p.item), append(r.val, p.weight)
		if p.weight > 0 {
			r.positive++
		}
	}
	return r, nil
}

// Folder returns the model folder the row was translated for.
func (r *FoldRow) Folder() *ModelFolder { return r.f }

// Set makes w the summed weight of movie. A movie the model does not know
// changes nothing.
func (r *FoldRow) Set(movie domain.MovieID, w float64) error {
	i, ok := r.f.Index[movie]
	if !ok {
		return nil
	}
	v, err := weight32(movie, w)
	if err != nil {
		return err
	}
	at, found := slices.BinarySearch(r.idx, i)
	if found {
		if r.val[at] > 0 {
			r.positive--
		}
		r.val[at] = v
	} else {
		r.idx, r.val = slices.Insert(r.idx, at, i), slices.Insert(r.val, at, v)
	}
	if v > 0 {
		r.positive++
	}
	return nil
}

// FoldIn returns the user vector for the row, or ErrNoPreference when no
// known movie has a positive weight.
func (r *FoldRow) FoldIn() ([]float32, error) {
	if r.positive == 0 {
		return nil, ErrNoPreference
	}
	s := r.f.pool.Get().(*solver)
	defer r.f.pool.Put(s)
	dst := make([]float32, r.f.K())
	if err := s.solve(dst, r.idx, r.val, r.f.items, r.f.gram, r.f.params.Alpha, r.f.params.Lambda); err != nil {
		return nil, fmt.Errorf("als: model %s: %w", r.f.Model.Version, err)
	}
	return dst, nil
}

// weight32 is w as the float32 the solver uses, refusing what is not a
// finite float32.
func weight32(id domain.MovieID, w float64) (float32, error) {
	if math.IsNaN(w) || math.IsInf(w, 0) || math.Abs(w) > math.MaxFloat32 {
		return 0, fmt.Errorf("als: movie %q: weight %g is not a finite float32: %w", id, w, domain.ErrInvalid)
	}
	return float32(w), nil
}

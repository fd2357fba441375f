package als

import (
	"errors"
	"fmt"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
)

// Folder computes user vectors against fixed item factors: the exact ALS
// user solve, the same one Train's last half-step performs, so a folded-in
// vector equals the trained one for the same history. It caches YᵀY, which
// is what makes one fold-in cost O(n·K² + K³) for n interactions instead of
// O(items·K²).
//
// BenchmarkFoldIn (20,000 items, K=64, the 2-vCPU VM of kernel.go, medians
// of three runs): p50 / p99 per call 43 / 110 µs at 10 interactions,
// 104 / 200 µs at 100 and 870 / 1,530 µs at 1,000 — the rank-1 updates,
// n·K²/2 multiply-adds, dominate from about 50 interactions on.
//
// A Folder is immutable after construction and safe for concurrent use;
// solver scratch comes from a pool, so steady-state fold-ins allocate only
// the vector they return (FoldInto: nothing).
type Folder struct {
	items  *Factors
	gram   []float64
	params Params
	pool   sync.Pool
}

// NewFolder returns a Folder for the item factors. Of p only Factors (which
// must equal items.K), Alpha and Lambda matter, and they must be the ones
// the factors were trained with. The Folder keeps items without copying:
// the caller must not modify them afterwards.
func NewFolder(items *Factors, p Params) (*Folder, error) {
	if err := items.validate("item"); err != nil {
		return nil, err
	}
	p = Params{Factors: p.Factors, Alpha: p.Alpha, Lambda: p.Lambda, Iterations: 1}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Factors != items.K {
		return nil, fmt.Errorf("als: params say %d factors, item factors have %d: %w", p.Factors, items.K, domain.ErrInvalid)
	}
	f := &Folder{items: items, gram: Gram(items), params: p}
	f.pool.New = func() any { return newSolver(items.K) }
	return f, nil
}

// K returns the length of the vectors the Folder produces.
func (f *Folder) K() int { return f.items.K }

// Items returns the item factors the Folder solves against (shared; do not
// modify).
func (f *Folder) Items() *Factors { return f.items }

// FoldIn returns the user vector for summed weights on item indices. Items
// must be distinct (a repeated item would count as two interactions, which
// is not the same as one with the summed weight). A history without a
// positive weight yields the zero vector, as in training.
func (f *Folder) FoldIn(items []int32, weights []float32) ([]float32, error) {
	dst := make([]float32, f.K())
	if err := f.FoldInto(dst, items, weights); err != nil {
		return nil, err
	}
	return dst, nil
}

// FoldInto is FoldIn writing into dst (length K), for callers that reuse a
// buffer. It does not allocate.
func (f *Folder) FoldInto(dst []float32, items []int32, weights []float32) error {
	if len(dst) != f.K() || len(items) != len(weights) {
		return fmt.Errorf("als: fold-in of %d items with %d weights into %d values (K=%d): %w",
			len(items), len(weights), len(dst), f.K(), domain.ErrInvalid)
	}
	s := f.pool.Get().(*solver)
	defer f.pool.Put(s)
	return s.solve(dst, items, weights, f.items, f.gram, f.params.Alpha, f.params.Lambda)
}

// ErrNoPreference is returned by FoldInMovies when the history has no
// positive weight on a movie the model knows. The exact fold-in would then
// be the zero vector, which ranks every movie the same, so there is no
// vector: serving should fall through to the batch or popular tier.
var ErrNoPreference = errors.New("als: no positive interaction with a movie known to the model")

// ModelFolder folds users in against a published domain.Model, translating
// movie ids to factor rows.
type ModelFolder struct {
	*Folder
	Model *domain.Model
	// Index maps each movie of the model to its factor row.
	Index map[domain.MovieID]int32
}

// FolderFromModel returns a ModelFolder for m, sharing its ItemFactors
// (which must not be modified afterwards).
func FolderFromModel(m *domain.Model) (*ModelFolder, error) {
	if m == nil {
		return nil, fmt.Errorf("als: nil model: %w", domain.ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	items := &Factors{N: len(m.Movies), K: m.Factors, Data: m.ItemFactors}
	f, err := NewFolder(items, Params{Factors: m.Factors, Alpha: m.Alpha, Lambda: m.Lambda})
	if err != nil {
		return nil, fmt.Errorf("als: model %s: %w", m.Version, err)
	}
	index := make(map[domain.MovieID]int32, len(m.Movies))
	for i, id := range m.Movies {
		if _, dup := index[id]; dup {
			return nil, fmt.Errorf("als: model %s lists movie %q twice: %w", m.Version, id, domain.ErrInvalid)
		}
		index[id] = int32(i)
	}
	return &ModelFolder{Folder: f, Model: m, Index: index}, nil
}

// FoldInMovies returns the user vector for a history of summed weights per
// movie (domain.Preferences.Weights). Movies the model does not know (added
// to the catalogue since training) are skipped. It returns ErrNoPreference
// when no known movie has a positive weight.
//
// Movies are solved in factor-row order, the order of a training matrix
// row, so the result is bit-reproducible and bit-identical to the trained
// vector of the same history.
func (f *ModelFolder) FoldInMovies(weights map[domain.MovieID]float64) ([]float32, error) {
	r, err := f.NewRow(weights)
	if err != nil {
		return nil, err
	}
	return r.FoldIn()
}

// foldPair is one known movie of a history being folded in.
type foldPair struct {
	item   int32
	weight float32
}

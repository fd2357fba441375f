package memory

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.VectorIndex = (*VectorIndex)(nil)

// VectorIndex answers inner-product and cosine searches exactly, by
// scanning every item of the model version. With catalogs of tens of
// thousands of movies and 64 factors that is a few hundred microseconds,
// which is why the embedded mode needs no approximate index. A genre
// filter asks the catalog given to UseCatalog for the movies' genres.
type VectorIndex struct {
	mu       sync.RWMutex
	versions map[string]*vectorSet
	catalog  ports.Catalog
}

type vectorSet struct {
	k      int
	movies []domain.MovieID
	index  map[domain.MovieID]int
	data   []float32
	// unit holds the rows scaled to length 1 (zero rows stay zero), for
	// cosine similarity; built on the first Similar.
	unitOnce sync.Once
	unit     []float32
}

// NewVectorIndex returns an empty index. It filters by genre only once
// UseCatalog gave it a catalog.
func NewVectorIndex() *VectorIndex {
	return &VectorIndex{versions: map[string]*vectorSet{}}
}

// UseCatalog makes genre filters read the movies' genres from c, and
// returns x.
func (x *VectorIndex) UseCatalog(c ports.Catalog) *VectorIndex {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.catalog = c
	return x
}

// PutItemVectors implements ports.VectorIndex.
func (x *VectorIndex) PutItemVectors(ctx context.Context, m *domain.Model) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	set := &vectorSet{k: m.Factors, movies: slices.Clone(m.Movies), data: slices.Clone(m.ItemFactors),
		index: make(map[domain.MovieID]int, len(m.Movies))}
	for i, id := range m.Movies {
		set.index[id] = i
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.versions[m.Version] = set
	return nil
}

// DropVersion implements ports.VectorIndex.
func (x *VectorIndex) DropVersion(ctx context.Context, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.versions, version)
	return nil
}

// Nearest implements ports.VectorIndex.
func (x *VectorIndex) Nearest(ctx context.Context, version string, vec []float32, k int, exclude domain.MovieSet) ([]domain.ScoredMovie, error) {
	return x.Search(ctx, version, vec, k, domain.Filter{Exclude: exclude})
}

// Search implements ports.VectorIndex.
func (x *VectorIndex) Search(ctx context.Context, version string, vec []float32, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	set, err := x.set(ctx, version)
	if err != nil {
		return nil, err
	}
	if len(vec) != set.k {
		return nil, fmt.Errorf("vector index: vector of %d dims for model %q with %d: %w", len(vec), version, set.k, domain.ErrInvalid)
	}
	skip, err := x.skipper(ctx, set, f, -1)
	if err != nil {
		return nil, err
	}
	items := &als.Factors{N: len(set.movies), K: set.k, Data: set.data}
	return set.scored(als.TopK(items, vec, k, skip)), nil
}

// Similar implements ports.VectorIndex: the exact cosine, as the inner
// product of the unit rows.
func (x *VectorIndex) Similar(ctx context.Context, version string, movie domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	set, err := x.set(ctx, version)
	if err != nil {
		return nil, err
	}
	row, ok := set.index[movie]
	if !ok {
		return nil, fmt.Errorf("vector index: no vector for movie %s in model %q: %w", movie, version, ports.ErrNotFound)
	}
	set.unitOnce.Do(func() { set.unit = unitRows(set.data, set.k) })
	skip, err := x.skipper(ctx, set, f, row)
	if err != nil {
		return nil, err
	}
	items := &als.Factors{N: len(set.movies), K: set.k, Data: set.unit}
	q := items.Row(row)
	return set.scored(als.TopK(items, q, k, skip)), nil
}

func (x *VectorIndex) set(ctx context.Context, version string) (*vectorSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	set := x.versions[version]
	x.mu.RUnlock()
	if set == nil {
		return nil, fmt.Errorf("vector index: model %q: %w", version, ports.ErrNotFound)
	}
	return set, nil
}

// skipper returns the rows f leaves out (and self, unless negative) as a
// predicate for the scan: exclusions are translated to row numbers once,
// and a genre filter to the set of rows that pass it, so the scan itself
// does no lookups by id.
func (x *VectorIndex) skipper(ctx context.Context, set *vectorSet, f domain.Filter, self int) (func(int) bool, error) {
	skip := make(map[int]struct{}, len(f.Exclude)+1)
	if self >= 0 {
		skip[self] = struct{}{}
	}
	for id := range f.Exclude {
		if i, ok := set.index[id]; ok {
			skip[i] = struct{}{}
		}
	}
	var pass []bool
	if f.ByGenre() {
		x.mu.RLock()
		cat := x.catalog
		x.mu.RUnlock()
		if cat == nil {
			return nil, fmt.Errorf("vector index: a genre filter needs a catalog (UseCatalog): %w", domain.ErrInvalid)
		}
		movies, err := cat.GetMany(ctx, set.movies)
		if err != nil {
			return nil, fmt.Errorf("vector index: genres: %w", err)
		}
		pass = make([]bool, len(set.movies))
		for i, id := range set.movies {
			m, ok := movies[id]
			pass[i] = ok && f.GenreOf(m.Genres)
		}
	}
	if len(skip) == 0 && pass == nil {
		return nil, nil
	}
	return func(i int) bool {
		if pass != nil && !pass[i] {
			return true
		}
		_, ok := skip[i]
		return ok
	}, nil
}

func (s *vectorSet) scored(top []als.Scored) []domain.ScoredMovie {
	out := make([]domain.ScoredMovie, len(top))
	for n, sc := range top {
		out[n] = domain.ScoredMovie{MovieID: s.movies[sc.Index], Score: float64(sc.Score)}
	}
	return out
}

// unitRows returns the k-wide rows of data scaled to length 1.
func unitRows(data []float32, k int) []float32 {
	out := make([]float32, len(data))
	for start := 0; start+k <= len(data); start += k {
		var n float64
		for _, v := range data[start : start+k] {
			n += float64(v) * float64(v)
		}
		if n == 0 {
			continue
		}
		inv := 1 / math.Sqrt(n)
		for j, v := range data[start : start+k] {
			out[start+j] = float32(float64(v) * inv)
		}
	}
	return out
}

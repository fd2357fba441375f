package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.VectorIndex = (*VectorIndex)(nil)

// VectorIndex answers inner-product searches exactly, by scanning every
// item of the model version. With catalogs of tens of thousands of movies
// and 64 factors that is a few hundred microseconds, which is why the
// embedded mode needs no approximate index.
type VectorIndex struct {
	mu       sync.RWMutex
	versions map[string]*vectorSet
}

type vectorSet struct {
	k      int
	movies []domain.MovieID
	index  map[domain.MovieID]int
	data   []float32
}

// NewVectorIndex returns an empty index.
func NewVectorIndex() *VectorIndex {
	return &VectorIndex{versions: map[string]*vectorSet{}}
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	set := x.versions[version]
	x.mu.RUnlock()
	if set == nil {
		return nil, fmt.Errorf("vector index: model %q: %w", version, ports.ErrNotFound)
	}
	if len(vec) != set.k {
		return nil, fmt.Errorf("vector index: vector of %d dims for model %q with %d: %w", len(vec), version, set.k, domain.ErrInvalid)
	}
	// Translate exclusions to row numbers once, so the scan itself does
	// no map lookups.
	skip := make(map[int]struct{}, len(exclude))
	for id := range exclude {
		if i, ok := set.index[id]; ok {
			skip[i] = struct{}{}
		}
	}
	items := &als.Factors{N: len(set.movies), K: set.k, Data: set.data}
	top := als.TopK(items, vec, k, func(i int) bool {
		if len(skip) == 0 {
			return false
		}
		_, ok := skip[i]
		return ok
	})
	out := make([]domain.ScoredMovie, len(top))
	for n, sc := range top {
		out[n] = domain.ScoredMovie{MovieID: set.movies[sc.Index], Score: float64(sc.Score)}
	}
	return out, nil
}

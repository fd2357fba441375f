package memory

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
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
	set := &vectorSet{k: m.Factors, movies: slices.Clone(m.Movies), data: slices.Clone(m.ItemFactors)}
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
	h := make(scoreHeap, 0, k+1)
	for i, id := range set.movies {
		if exclude.Has(id) {
			continue
		}
		row := set.data[i*set.k : (i+1)*set.k]
		var s float32
		for j, v := range vec {
			s += v * row[j]
		}
		if len(h) < k {
			heap.Push(&h, scored{i: i, s: s})
		} else if k > 0 && s > h[0].s {
			h[0] = scored{i: i, s: s}
			heap.Fix(&h, 0)
		}
	}
	out := make([]domain.ScoredMovie, len(h))
	for n := len(h) - 1; n >= 0; n-- {
		e := heap.Pop(&h).(scored)
		out[n] = domain.ScoredMovie{MovieID: set.movies[e.i], Score: float64(e.s)}
	}
	return out, nil
}

type scored struct {
	i int
	s float32
}

// scoreHeap is a min-heap on score, ties broken so lower indices rank first.
type scoreHeap []scored

func (h scoreHeap) Len() int { return len(h) }
func (h scoreHeap) Less(a, b int) bool {
	if h[a].s != h[b].s {
		return h[a].s < h[b].s
	}
	return h[a].i > h[b].i
}
func (h scoreHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *scoreHeap) Push(v any)   { *h = append(*h, v.(scored)) }
func (h *scoreHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Catalog = (*Catalog)(nil)

// Catalog is an in-memory movie catalog. Similar breaks ties by the
// popularity of the store given to UsePopularity (none: all equal).
type Catalog struct {
	mu     sync.RWMutex
	movies map[domain.MovieID]domain.Movie
	order  []domain.MovieID // sorted ids, rebuilt lazily for List
	dirty  bool
	// added orders movies by when the catalog first had them (Latest);
	// deleted are the movies removed, unservable until put again.
	added   map[domain.MovieID]uint64
	seq     uint64
	deleted domain.MovieSet
	pop     *PopularStore
	// watchers are told of every change to what is unservable.
	watchers []func()
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{movies: map[domain.MovieID]domain.Movie{}, added: map[domain.MovieID]uint64{}, deleted: domain.MovieSet{}}
}

// UsePopularity makes Similar break ties by p's popularity, and returns c.
func (c *Catalog) UsePopularity(p *PopularStore) *Catalog {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pop = p
	return c
}

// Put implements ports.Catalog.
func (c *Catalog) Put(ctx context.Context, movies ...domain.Movie) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	changed := false
	for _, m := range movies {
		old, exists := c.movies[m.ID]
		if !exists {
			c.dirty = true
			c.seq++
			c.added[m.ID] = c.seq
		}
		if c.deleted.Has(m.ID) {
			delete(c.deleted, m.ID)
			changed = true
		}
		m.Genres = slices.Clone(m.Genres)
		m.Hidden = exists && old.Hidden
		c.movies[m.ID] = m
	}
	c.mu.Unlock()
	if changed {
		c.notify()
	}
	return nil
}

// Get implements ports.Catalog.
func (c *Catalog) Get(ctx context.Context, id domain.MovieID) (domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return domain.Movie{}, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.movies[id]
	if !ok {
		return domain.Movie{}, ports.ErrNotFound
	}
	m.Genres = slices.Clone(m.Genres)
	return m, nil
}

// GetMany implements ports.Catalog.
func (c *Catalog) GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[domain.MovieID]domain.Movie, len(ids))
	for _, id := range ids {
		if m, ok := c.movies[id]; ok {
			m.Genres = slices.Clone(m.Genres)
			out[id] = m
		}
	}
	return out, nil
}

// List implements ports.Catalog.
func (c *Catalog) List(ctx context.Context, after domain.MovieID, limit int) ([]domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty {
		c.order = c.order[:0]
		for id := range c.movies {
			c.order = append(c.order, id)
		}
		slices.Sort(c.order)
		c.dirty = false
	}
	start := sort.Search(len(c.order), func(i int) bool { return c.order[i] > after })
	out := make([]domain.Movie, 0, min(limit, len(c.order)-start))
	for _, id := range c.order[start:] {
		if len(out) == limit {
			break
		}
		m := c.movies[id]
		m.Genres = slices.Clone(m.Genres)
		out = append(out, m)
	}
	return out, nil
}

// Count implements ports.Catalog.
func (c *Catalog) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.movies), nil
}

// SetHidden implements ports.Catalog.
func (c *Catalog) SetHidden(ctx context.Context, id domain.MovieID, hidden bool) (domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return domain.Movie{}, err
	}
	c.mu.Lock()
	m, ok := c.movies[id]
	if !ok {
		c.mu.Unlock()
		return domain.Movie{}, fmt.Errorf("movie %s: %w", id, ports.ErrNotFound)
	}
	m.Hidden = hidden
	c.movies[id] = m
	c.mu.Unlock()
	c.notify() // always, as PostgreSQL does

	m.Genres = slices.Clone(m.Genres)
	return m, nil
}

// Delete implements ports.Catalog.
func (c *Catalog) Delete(ctx context.Context, id domain.MovieID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	_, had := c.movies[id]
	changed := !c.deleted.Has(id)
	delete(c.movies, id)
	delete(c.added, id)
	c.deleted[id] = struct{}{}
	c.dirty = c.dirty || had
	c.mu.Unlock()
	if changed {
		c.notify()
	}
	return nil
}

// Unservable implements ports.Catalog.
func (c *Catalog) Unservable(ctx context.Context) (domain.MovieSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := domain.Union(c.deleted)
	for id, m := range c.movies {
		if m.Hidden {
			out[id] = struct{}{}
		}
	}
	return out, nil
}

// Latest implements ports.Catalog: a scan of the catalog, which the
// embedded mode keeps small.
func (c *Catalog) Latest(ctx context.Context, n int, f domain.Filter) ([]domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	var out []domain.Movie
	for _, m := range c.movies {
		if !m.Hidden && f.Keeps(m) {
			m.Genres = slices.Clone(m.Genres)
			out = append(out, m)
		}
	}
	added := c.added
	slices.SortFunc(out, func(a, b domain.Movie) int {
		return cmp.Or(cmp.Compare(b.Year, a.Year), cmp.Compare(added[b.ID], added[a.ID]), strings.Compare(string(a.ID), string(b.ID)))
	})
	c.mu.RUnlock()
	if out == nil {
		out = []domain.Movie{}
	}
	return out[:min(n, len(out))], nil
}

// Similar implements ports.Catalog.
func (c *Catalog) Similar(ctx context.Context, id domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	target, ok := c.movies[id]
	if !ok {
		c.mu.RUnlock()
		return nil, fmt.Errorf("movie %s: %w", id, ports.ErrNotFound)
	}
	var cs []domain.SimilarCandidate
	for _, m := range c.movies {
		if m.ID == id || m.Hidden || !f.Keeps(m) {
			continue
		}
		pop := domain.EmptyPopularityKey
		if c.pop != nil {
			pop = c.pop.key(m.ID)
		}
		cs = append(cs, domain.NewSimilarCandidate(target, m, pop))
	}
	c.mu.RUnlock()
	return domain.RankBySimilarity(cs, k), nil
}

// watch registers fn to be told of changes to what is unservable.
func (c *Catalog) watch(fn func()) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchers = append(c.watchers, fn)
	i := len(c.watchers) - 1
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.watchers[i] = nil
	}
}

func (c *Catalog) notify() {
	c.mu.RLock()
	ws := slices.Clone(c.watchers)
	c.mu.RUnlock()
	for _, w := range ws {
		if w != nil {
			w()
		}
	}
}

var _ ports.CatalogWatcher = (*Catalog)(nil)

// WatchUnservable implements ports.CatalogWatcher: fn is called at once,
// in the goroutine that made the change.
func (c *Catalog) WatchUnservable(ctx context.Context, fn func()) error {
	stop := c.watch(fn)
	defer stop()
	<-ctx.Done()
	return nil
}

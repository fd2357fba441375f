package memory

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Catalog = (*Catalog)(nil)

// Catalog is an in-memory movie catalog.
type Catalog struct {
	mu     sync.RWMutex
	movies map[domain.MovieID]domain.Movie
	order  []domain.MovieID // sorted ids, rebuilt lazily for List
	dirty  bool
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{movies: map[domain.MovieID]domain.Movie{}}
}

// Put implements ports.Catalog.
func (c *Catalog) Put(ctx context.Context, movies ...domain.Movie) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range movies {
		if _, exists := c.movies[m.ID]; !exists {
			c.dirty = true
		}
		m.Genres = slices.Clone(m.Genres)
		c.movies[m.ID] = m
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

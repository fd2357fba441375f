// Package catalogcache keeps movies read from a catalog in process for a
// short time, so that the titles added to every list served do not cost a
// database round trip per request.
//
// It decorates any ports.Catalog. Writes go through to the catalog and
// drop the copies here; a movie changed through another node is seen
// here once its copy expires (the TTL, a minute by default). List and
// Count always ask the catalog.
package catalogcache

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Catalog = (*Catalog)(nil)

// DefaultTTL is how long a movie read from the catalog is kept.
const DefaultTTL = time.Minute

// Catalog is a read-through cache in front of a catalog.
type Catalog struct {
	inner ports.Catalog
	ttl   time.Duration
	now   func() time.Time

	mu     sync.RWMutex
	movies map[domain.MovieID]entry
}

type entry struct {
	movie domain.Movie
	until time.Time
}

// New returns a cache in front of inner keeping movies for ttl
// (DefaultTTL when ttl ≤ 0).
func New(inner ports.Catalog, ttl time.Duration) *Catalog {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Catalog{inner: inner, ttl: ttl, now: time.Now, movies: map[domain.MovieID]entry{}}
}

// Put implements ports.Catalog: it writes through and forgets the copies
// of the movies, so the next read returns them as the catalog stored them.
func (c *Catalog) Put(ctx context.Context, movies ...domain.Movie) error {
	err := c.inner.Put(ctx, movies...)
	c.mu.Lock()
	for _, m := range movies {
		delete(c.movies, m.ID)
	}
	c.mu.Unlock()
	return err
}

// Get implements ports.Catalog.
func (c *Catalog) Get(ctx context.Context, id domain.MovieID) (domain.Movie, error) {
	got, err := c.GetMany(ctx, []domain.MovieID{id})
	if err != nil {
		return domain.Movie{}, err
	}
	m, ok := got[id]
	if !ok {
		return c.inner.Get(ctx, id) // the catalog's own not-found error
	}
	return m, nil
}

// GetMany implements ports.Catalog: movies kept and fresh come from here,
// the others from the catalog in one call.
func (c *Catalog) GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[domain.MovieID]domain.Movie, len(ids))
	var missing []domain.MovieID
	now := c.now()
	c.mu.RLock()
	for _, id := range ids {
		if e, ok := c.movies[id]; ok && now.Before(e.until) {
			out[id] = cloneMovie(e.movie)
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	fetched, err := c.inner.GetMany(ctx, missing)
	if err != nil {
		return nil, err
	}
	movies := make([]domain.Movie, 0, len(fetched))
	for id, m := range fetched {
		out[id] = m
		movies = append(movies, m)
	}
	c.keep(movies)
	return out, nil
}

// List implements ports.Catalog (not cached).
func (c *Catalog) List(ctx context.Context, after domain.MovieID, limit int) ([]domain.Movie, error) {
	return c.inner.List(ctx, after, limit)
}

// Count implements ports.Catalog (not cached).
func (c *Catalog) Count(ctx context.Context) (int, error) { return c.inner.Count(ctx) }

func (c *Catalog) keep(movies []domain.Movie) {
	until := c.now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range movies {
		c.movies[m.ID] = entry{movie: cloneMovie(m), until: until}
	}
	if len(c.movies) > 4*maxKept {
		c.sweep()
	}
}

// maxKept is the size past which keep sweeps out expired movies (the
// catalog itself is small: tens of thousands of movies).
const maxKept = 1 << 16

// sweep drops expired movies; the caller holds mu.
func (c *Catalog) sweep() {
	now := c.now()
	for id, e := range c.movies {
		if !now.Before(e.until) {
			delete(c.movies, id)
		}
	}
}

func cloneMovie(m domain.Movie) domain.Movie {
	m.Genres = slices.Clone(m.Genres)
	return m
}

// SetHidden implements ports.Catalog: it writes through and forgets the
// copy of the movie.
func (c *Catalog) SetHidden(ctx context.Context, id domain.MovieID, hidden bool) (domain.Movie, error) {
	m, err := c.inner.SetHidden(ctx, id, hidden)
	c.forget(id)
	return m, err
}

// Delete implements ports.Catalog: it writes through and forgets the copy
// of the movie.
func (c *Catalog) Delete(ctx context.Context, id domain.MovieID) error {
	err := c.inner.Delete(ctx, id)
	c.forget(id)
	return err
}

// Unservable implements ports.Catalog (not cached: the node keeps its own
// copy, kept up to date by the catalog's announcements).
func (c *Catalog) Unservable(ctx context.Context) (domain.MovieSet, error) {
	return c.inner.Unservable(ctx)
}

// Latest implements ports.Catalog (not cached).
func (c *Catalog) Latest(ctx context.Context, n int, f domain.Filter) ([]domain.Movie, error) {
	return c.inner.Latest(ctx, n, f)
}

// Similar implements ports.Catalog (not cached).
func (c *Catalog) Similar(ctx context.Context, id domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	return c.inner.Similar(ctx, id, k, f)
}

// WatchUnservable implements ports.CatalogWatcher when the catalog it
// wraps does; otherwise it waits for ctx (nothing to tell).
func (c *Catalog) WatchUnservable(ctx context.Context, fn func()) error {
	if w, ok := c.inner.(ports.CatalogWatcher); ok {
		return w.WatchUnservable(ctx, fn)
	}
	<-ctx.Done()
	return nil
}

var _ ports.CatalogWatcher = (*Catalog)(nil)

func (c *Catalog) forget(id domain.MovieID) {
	c.mu.Lock()
	delete(c.movies, id)
	c.mu.Unlock()
}

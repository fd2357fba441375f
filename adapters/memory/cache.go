package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.RecommendationCache = (*Cache)(nil)

// Cache is an in-memory RecommendationCache with per-user generations.
// Lists returned by Get share the cached items: callers must not modify
// them in place (the walk never does; it filters into new slices).
type Cache struct {
	mu    sync.Mutex
	users map[domain.UserID]*cacheEntry
	now   func() time.Time
	// forgotten is the largest generation a forgotten user had: a new
	// entry starts past it, so no earlier generation comes back.
	forgotten uint64
}

type cacheEntry struct {
	gen     uint64
	list    *domain.RecList // nil when nothing is cached for gen
	expires time.Time
}

// NewCache returns an empty cache that reads time from now (time.Now if nil).
func NewCache(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{users: map[domain.UserID]*cacheEntry{}, now: now}
}

// Get implements ports.RecommendationCache.
func (c *Cache) Get(ctx context.Context, user domain.UserID) (domain.RecList, uint64, error) {
	if err := ctx.Err(); err != nil {
		return domain.RecList{}, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(user)
	if e.list == nil || !c.now().Before(e.expires) {
		e.list = nil
		return domain.RecList{}, e.gen, ports.ErrNotFound
	}
	// The stored list is never modified (Put stores a copy), so a hit shares
	// its items instead of copying them: a cached list is deeper than most
	// requests, and copying it on every hit was the largest allocation of
	// the serving path. The slice is clipped, so appending to it copies.
	l := *e.list
	l.Items = slices.Clip(l.Items)
	return l, e.gen, nil
}

// Put implements ports.RecommendationCache.
func (c *Cache) Put(ctx context.Context, user domain.UserID, gen uint64, list domain.RecList, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(user)
	if e.gen != gen {
		return nil // invalidated since the caller read gen: the list is stale
	}
	l := copyList(list)
	e.list, e.expires = &l, c.now().Add(ttl)
	return nil
}

// Invalidate implements ports.RecommendationCache.
func (c *Cache) Invalidate(ctx context.Context, user domain.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(user)
	e.gen++
	e.list = nil
	return nil
}

// entry returns the user's entry, creating it; c.mu must be held.
func (c *Cache) entry(user domain.UserID) *cacheEntry {
	e := c.users[user]
	if e == nil {
		e = &cacheEntry{gen: c.forgotten + 1}
		c.users[user] = e
	}
	return e
}

func copyList(l domain.RecList) domain.RecList {
	l.Items = append([]domain.ScoredMovie(nil), l.Items...)
	return l
}

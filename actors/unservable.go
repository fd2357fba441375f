package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Unservable is this node's copy of the movies the catalog says must
// never be served (hidden or deleted). Every tier of the walk, the HTTP
// fast path and every list the HTTP edge serves leave them out when they
// answer, so a list cached before a movie was hidden (in Redis, or as a
// near copy) is served without it from the moment the node knows: no list
// has to be rewritten.
//
// The node follows the catalog as it follows the model registry (Watch):
// the catalog announces each change (PostgreSQL NOTIFY, at the commit of
// the change) and the node also reads the set on a short poll, which
// bounds how late a lost announcement can make it.
type Unservable struct {
	catalog ports.Catalog
	cur     atomic.Pointer[domain.MovieSet]
	// mu serializes refreshes, so that an older read never replaces a
	// newer one.
	mu sync.Mutex
}

// NewUnservable returns a set that reads from catalog; it is empty until
// the first Refresh.
func NewUnservable(catalog ports.Catalog) *Unservable {
	u := &Unservable{catalog: catalog}
	empty := domain.MovieSet{}
	u.cur.Store(&empty)
	return u
}

// Set returns the current set; callers must not modify it. A nil
// Unservable is empty.
func (u *Unservable) Set() domain.MovieSet {
	if u == nil {
		return nil
	}
	return *u.cur.Load()
}

// Refresh reads the set from the catalog.
func (u *Unservable) Refresh(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	set, err := u.catalog.Unservable(ctx)
	if err != nil {
		return fmt.Errorf("unservable movies: %w", err)
	}
	u.cur.Store(&set)
	return nil
}

// Watch keeps the set up to date until ctx ends: on every change the
// catalog announces (when it is a ports.CatalogWatcher) and every poll.
func (u *Unservable) Watch(ctx context.Context, poll time.Duration, logger *slog.Logger) {
	kick := make(chan struct{}, 1)
	nudge := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if w, ok := u.catalog.(ports.CatalogWatcher); ok {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := w.WatchUnservable(ctx, nudge); err != nil && ctx.Err() == nil {
					logger.Warn("watching hidden and deleted movies failed; polling until the watch is back", "err", err, "dependency", "database")
					sleep(ctx, poll)
				}
			}
		})
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := u.Refresh(rctx); err != nil && ctx.Err() == nil {
			logger.Warn("reading hidden and deleted movies failed; this node keeps its copy until the next try", "err", err, "dependency", "database")
		}
		cancel()
	}
}

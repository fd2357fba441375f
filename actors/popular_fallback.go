package actors

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// FallbackPopular keeps the last popular list it read in memory and serves
// from it when the store cannot answer, so that with the database down a
// node still recommends something ("popular in memory at worst"). The
// snapshot is the top SnapshotSize unfiltered, refreshed at most every
// Refresh, on a request's coat-tails.
type FallbackPopular struct {
	ports.PopularStore
	SnapshotSize int
	Refresh      time.Duration
	Logger       *slog.Logger

	mu       sync.Mutex
	snapshot []domain.ScoredMovie
	taken    time.Time
	inFlight bool
}

var _ ports.PopularStore = (*FallbackPopular)(nil)

// NewFallbackPopular wraps store with a 500-movie snapshot refreshed every 30 s.
func NewFallbackPopular(store ports.PopularStore, logger *slog.Logger) *FallbackPopular {
	return &FallbackPopular{PopularStore: store, SnapshotSize: 500, Refresh: 30 * time.Second, Logger: logger}
}

// Top implements ports.PopularStore.
func (f *FallbackPopular) Top(ctx context.Context, n int, exclude domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error) {
	top, err := f.PopularStore.Top(ctx, n, exclude, now)
	if err == nil {
		f.maybeRefresh(now)
		return top, nil
	}
	f.mu.Lock()
	snap := f.snapshot
	f.mu.Unlock()
	if len(snap) == 0 {
		return nil, err
	}
	f.Logger.Warn("popular store unavailable; serving the in-memory snapshot", "err", err)
	out := make([]domain.ScoredMovie, 0, n)
	for _, m := range snap {
		if len(out) == n {
			break
		}
		if !exclude.Has(m.MovieID) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Prime takes the first snapshot (at start, when the store is up).
func (f *FallbackPopular) Prime(ctx context.Context, now time.Time) error {
	top, err := f.PopularStore.Top(ctx, f.SnapshotSize, nil, now)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.snapshot, f.taken = top, now
	f.mu.Unlock()
	return nil
}

func (f *FallbackPopular) maybeRefresh(now time.Time) {
	f.mu.Lock()
	if f.inFlight || now.Sub(f.taken) < f.Refresh {
		f.mu.Unlock()
		return
	}
	f.inFlight = true
	f.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		top, err := f.PopularStore.Top(ctx, f.SnapshotSize, nil, now)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.inFlight = false
		if err == nil {
			f.snapshot, f.taken = top, now
		}
	}()
}

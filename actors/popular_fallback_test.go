package actors

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
)

type switchPopular struct {
	*memory.PopularStore
	down atomic.Bool
}

func (s *switchPopular) Top(ctx context.Context, n int, ex domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.PopularStore.Top(ctx, n, ex, now)
}

func TestFallbackPopularServesTheSnapshotWhenTheStoreIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &switchPopular{PopularStore: memory.NewPopularStore(domain.DefaultPopularity())}
	for i, id := range []domain.MovieID{"a", "b", "c", "d"} {
		if err := store.Record(ctx, id, float64(10-i), t0); err != nil {
			t.Fatal(err)
		}
	}
	f := NewFallbackPopular(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Down from the start: no snapshot to fall back on. (A successful read
	// would take one in the background, on its coat-tails.)
	store.down.Store(true)
	if _, err := f.Top(ctx, 2, nil, t0); err == nil {
		t.Fatal("served with no snapshot taken yet")
	}
	store.down.Store(false)
	if err := f.Prime(ctx, t0); err != nil {
		t.Fatal(err)
	}
	store.down.Store(true)
	got, err := f.Top(ctx, 2, domain.MovieSet{"a": {}}, t0)
	if err != nil || len(got) != 2 || got[0].MovieID != "b" || got[1].MovieID != "c" {
		t.Fatalf("fallback = %v, %v; want b, c", got, err)
	}
}

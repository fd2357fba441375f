package catalogcache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/ports/porttest"
)

func TestCatalogContract(t *testing.T) {
	porttest.Catalog(t, func(*testing.T) ports.Catalog { return New(memory.NewCatalog(), 0) })
	porttest.CatalogServing(t, func(*testing.T) (ports.Catalog, ports.PopularStore) {
		pop := memory.NewPopularStore(domain.DefaultPopularity())
		return New(memory.NewCatalog().UsePopularity(pop), 0), pop
	})
}

// countingCatalog counts the reads that reach the catalog.
type countingCatalog struct {
	ports.Catalog
	reads atomic.Int64
}

func (c *countingCatalog) GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error) {
	c.reads.Add(1)
	return c.Catalog.GetMany(ctx, ids)
}

// TestMoviesAreKeptForTheTTL: repeated reads stay in process; a change
// made behind the cache's back (another node) shows once the TTL passed,
// and a write through the cache shows at once.
func TestMoviesAreKeptForTheTTL(t *testing.T) {
	ctx := context.Background()
	inner := &countingCatalog{Catalog: memory.NewCatalog()}
	c := New(inner, time.Minute)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	if err := inner.Put(ctx, domain.Movie{ID: "m1", Title: "One"}, domain.Movie{ID: "m2", Title: "Two"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := c.GetMany(ctx, []domain.MovieID{"m1", "m2", "absent"})
		if err != nil || len(got) != 2 || got["m1"].Title != "One" {
			t.Fatalf("GetMany = %v, %v", got, err)
		}
	}
	if n := inner.reads.Load(); n != 3 {
		// The absent movie is asked for each time; the two others once.
		t.Fatalf("%d reads reached the catalog, want 3", n)
	}

	if err := inner.Put(ctx, domain.Movie{ID: "m1", Title: "One, renamed elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.Get(ctx, "m1"); m.Title != "One" {
		t.Fatalf("within the TTL: %q", m.Title)
	}
	now = now.Add(time.Minute)
	if m, _ := c.Get(ctx, "m1"); m.Title != "One, renamed elsewhere" {
		t.Fatalf("after the TTL: %q", m.Title)
	}

	if err := c.Put(ctx, domain.Movie{ID: "m2", Title: "Two, renamed here"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := c.Get(ctx, "m2"); m.Title != "Two, renamed here" {
		t.Fatalf("after a write through the cache: %q", m.Title)
	}
}

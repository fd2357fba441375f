package porttest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Cache is the contract of ports.RecommendationCache.
func Cache(t *testing.T, newCache func(t *testing.T) ports.RecommendationCache) {
	t.Run("miss then hit", func(t *testing.T) {
		c, user := newCache(t), domain.UserID(uniq(t, "u"))
		_, gen, err := c.Get(ctx(t), user)
		if !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("Get on empty cache: err = %v, want ErrNotFound", err)
		}
		want := list(domain.TierVector, "a", "b", "c")
		if err := c.Put(ctx(t), user, gen, want, time.Minute); err != nil {
			t.Fatal(err)
		}
		got, _, err := c.Get(ctx(t), user)
		if err != nil {
			t.Fatal(err)
		}
		assertList(t, got, want)
	})
	t.Run("invalidate drops the list", func(t *testing.T) {
		c, user := newCache(t), domain.UserID(uniq(t, "u"))
		_, gen, _ := c.Get(ctx(t), user)
		must(t, c.Put(ctx(t), user, gen, list(domain.TierBatch, "a"), time.Minute))
		must(t, c.Invalidate(ctx(t), user))
		if _, _, err := c.Get(ctx(t), user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("Get after Invalidate: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("stale put after invalidate is never served", func(t *testing.T) {
		c, user := newCache(t), domain.UserID(uniq(t, "u"))
		_, gen, _ := c.Get(ctx(t), user)
		must(t, c.Invalidate(ctx(t), user)) // an event arrives while the list is computed
		must(t, c.Put(ctx(t), user, gen, list(domain.TierVector, "stale"), time.Minute))
		if got, _, err := c.Get(ctx(t), user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("stale list served: %v, err = %v", got.Items, err)
		}
	})
	t.Run("users are independent", func(t *testing.T) {
		c := newCache(t)
		u1, u2 := domain.UserID(uniq(t, "u1")), domain.UserID(uniq(t, "u2"))
		_, g1, _ := c.Get(ctx(t), u1)
		_, g2, _ := c.Get(ctx(t), u2)
		must(t, c.Put(ctx(t), u1, g1, list(domain.TierBatch, "x"), time.Minute))
		must(t, c.Put(ctx(t), u2, g2, list(domain.TierBatch, "y"), time.Minute))
		must(t, c.Invalidate(ctx(t), u1))
		got, _, err := c.Get(ctx(t), u2)
		if err != nil || len(got.Items) != 1 || got.Items[0].MovieID != "y" {
			t.Fatalf("u2 after invalidating u1: %v, %v", got.Items, err)
		}
	})
	t.Run("entries expire", func(t *testing.T) {
		c, user := newCache(t), domain.UserID(uniq(t, "u"))
		_, gen, _ := c.Get(ctx(t), user)
		must(t, c.Put(ctx(t), user, gen, list(domain.TierBatch, "a"), 50*time.Millisecond))
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, _, err := c.Get(ctx(t), user)
			if errors.Is(err, ports.ErrNotFound) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("entry with 50ms TTL still served after 5s (err = %v)", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("concurrent invalidations never lose to a stale put", func(t *testing.T) {
		c, user := newCache(t), domain.UserID(uniq(t, "u"))
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					_, gen, _ := c.Get(ctx(t), user)
					_ = c.Put(ctx(t), user, gen, list(domain.TierVector, "a"), time.Minute)
				}
			}()
		}
		wg.Wait()
		must(t, c.Invalidate(ctx(t), user))
		if _, _, err := c.Get(ctx(t), user); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("Get after final Invalidate: err = %v, want ErrNotFound", err)
		}
	})
	cacheErasure(t, newCache)
}

func assertList(t *testing.T, got, want domain.RecList) {
	t.Helper()
	if got.Tier != want.Tier || got.ModelVersion != want.ModelVersion || !got.GeneratedAt.Equal(want.GeneratedAt) {
		t.Fatalf("list header = %+v, want %+v", got, want)
	}
	if len(got.Items) != len(want.Items) {
		t.Fatalf("items = %v, want %v", got.Items, want.Items)
	}
	for i := range got.Items {
		if g, w := got.Items[i], want.Items[i]; g.MovieID != w.MovieID || g.Score != w.Score || g.Title != w.Title {
			t.Fatalf("item %d = %+v, want %+v", i, got.Items[i], want.Items[i])
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

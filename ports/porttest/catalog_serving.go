package porttest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// CatalogServing is the contract of what ports.Catalog decides about
// serving: hiding, deleting, the newest movies and metadata similarity.
// newCatalog returns a catalog and the popular store its Similar breaks
// ties with.
func CatalogServing(t *testing.T, newCatalog func(t *testing.T) (ports.Catalog, ports.PopularStore)) {
	t.Run("hide and show", func(t *testing.T) {
		c, _ := newCatalog(t)
		id := domain.MovieID(uniq(t, "h"))
		if _, err := c.SetHidden(ctx(t), id, true); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("hiding a movie the catalog does not have: %v, want ErrNotFound", err)
		}
		must(t, c.Put(ctx(t), domain.Movie{ID: id, Title: "Hidden", Genres: []string{"Drama"}}))
		m, err := c.SetHidden(ctx(t), id, true)
		must(t, err)
		if !m.Hidden || m.Title != "Hidden" || !slices.Equal(m.Genres, []string{"Drama"}) {
			t.Fatalf("SetHidden answered %+v", m)
		}
		assertUnservable(t, c, id, true)
		// A write of the other fields keeps it hidden.
		must(t, c.Put(ctx(t), domain.Movie{ID: id, Title: "Hidden, renamed"}))
		got, err := c.Get(ctx(t), id)
		must(t, err)
		if !got.Hidden || got.Title != "Hidden, renamed" {
			t.Fatalf("after a put: %+v, want it still hidden", got)
		}
		many, err := c.GetMany(ctx(t), []domain.MovieID{id})
		must(t, err)
		if !many[id].Hidden {
			t.Fatalf("GetMany: %+v", many[id])
		}
		_, err = c.SetHidden(ctx(t), id, false)
		must(t, err)
		assertUnservable(t, c, id, false)
	})
	t.Run("delete", func(t *testing.T) {
		c, _ := newCatalog(t)
		id, never := domain.MovieID(uniq(t, "d")), domain.MovieID(uniq(t, "never"))
		must(t, c.Put(ctx(t), domain.Movie{ID: id, Title: "Doomed"}))
		must(t, c.Delete(ctx(t), id))
		if _, err := c.Get(ctx(t), id); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a deleted movie: %v, want ErrNotFound", err)
		}
		assertUnservable(t, c, id, true)
		must(t, c.Delete(ctx(t), id)) // again: nothing to do
		must(t, c.Delete(ctx(t), never))
		assertUnservable(t, c, never, true)
		// Created again, it is served again, and not hidden.
		must(t, c.Put(ctx(t), domain.Movie{ID: id, Title: "Back"}))
		got, err := c.Get(ctx(t), id)
		must(t, err)
		if got.Title != "Back" || got.Hidden {
			t.Fatalf("put again: %+v", got)
		}
		assertUnservable(t, c, id, false)
	})
	t.Run("latest", func(t *testing.T) {
		c, _ := newCatalog(t)
		g, p := uniq(t, "Genre"), uniq(t, "l")
		id := func(s string) domain.MovieID { return domain.MovieID(p + "-" + s) }
		must(t, c.Put(ctx(t),
			domain.Movie{ID: id("b-2020"), Title: "b", Year: 2020, Genres: []string{g}},
			domain.Movie{ID: id("a-2020"), Title: "a", Year: 2020, Genres: []string{g, "Other"}},
			domain.Movie{ID: id("old"), Title: "old", Year: 1950, Genres: []string{g}},
			domain.Movie{ID: id("no-year"), Title: "no year", Genres: []string{g}},
			domain.Movie{ID: id("other-genre"), Title: "other", Year: 2030, Genres: []string{"Other"}}))
		time.Sleep(2 * time.Millisecond) // first seen later than the others
		must(t, c.Put(ctx(t), domain.Movie{ID: id("z-2020-later"), Title: "z", Year: 2020, Genres: []string{g}},
			domain.Movie{ID: id("hidden"), Title: "h", Year: 2040, Genres: []string{g}}))
		_, err := c.SetHidden(ctx(t), id("hidden"), true)
		must(t, err)
		// Renaming an old movie does not make it newer.
		must(t, c.Put(ctx(t), domain.Movie{ID: id("b-2020"), Title: "b renamed", Year: 2020, Genres: []string{g}}))
		got, err := c.Latest(ctx(t), 10, domain.Filter{Genres: []string{g}})
		must(t, err)
		want := []domain.MovieID{id("z-2020-later"), id("a-2020"), id("b-2020"), id("old"), id("no-year")}
		if !slices.Equal(movieIDs(got), want) {
			t.Fatalf("latest = %v, want %v", movieIDs(got), want)
		}
		got, err = c.Latest(ctx(t), 2, domain.Filter{Genres: []string{g}, Exclude: domain.MovieSet{id("z-2020-later"): {}}})
		must(t, err)
		if want := want[1:3]; !slices.Equal(movieIDs(got), want) {
			t.Fatalf("latest 2 excluding one = %v, want %v", movieIDs(got), want)
		}
	})
	t.Run("similar by metadata", func(t *testing.T) {
		c, pop := newCatalog(t)
		p := uniq(t, "s")
		g1, g2, g3 := p+"-Action", p+"-SciFi", p+"-Drama"
		id := func(s string) domain.MovieID { return domain.MovieID(p + "-" + s) }
		must(t, c.Put(ctx(t),
			domain.Movie{ID: id("target"), Title: "t", Year: 2000, Genres: []string{g1, g2}},
			domain.Movie{ID: id("same-far"), Title: "same far", Year: 1960, Genres: []string{g2, g1}},
			domain.Movie{ID: id("same-near"), Title: "same near", Year: 2002, Genres: []string{g1, g2}},
			domain.Movie{ID: id("half-popular"), Title: "half popular", Year: 2000, Genres: []string{g1, g3}},
			domain.Movie{ID: id("half-quiet"), Title: "half quiet", Year: 2000, Genres: []string{g1, g3}},
			domain.Movie{ID: id("half-hidden"), Title: "half hidden", Year: 2000, Genres: []string{g1, g3}},
			domain.Movie{ID: id("third"), Title: "third", Year: 2000, Genres: []string{g1, g3, p + "-X"}}))
		_, err := c.SetHidden(ctx(t), id("half-hidden"), true)
		must(t, err)
		must(t, pop.Record(ctx(t), id("half-popular"), 5, baseTime))
		must(t, pop.Record(ctx(t), id("half-quiet"), 1, baseTime))
		got, err := c.Similar(ctx(t), id("target"), 5, domain.Filter{})
		must(t, err)
		want := []domain.MovieID{id("same-near"), id("same-far"), id("half-popular"), id("half-quiet"), id("third")}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("similar = %v, want %v", ids(got), want)
		}
		if got[0].Score != 1 || got[2].Score != 1.0/3 || got[4].Score != 0.25 || got[0].Title != "same near" {
			t.Fatalf("scores and titles %+v", got)
		}
		got, err = c.Similar(ctx(t), id("target"), 5, domain.Filter{Genres: []string{g3}, Exclude: domain.MovieSet{id("half-popular"): {}}})
		must(t, err)
		if want := []domain.MovieID{id("half-quiet"), id("third")}; !slices.Equal(ids(got), want) {
			t.Fatalf("similar in %s = %v, want %v", g3, ids(got), want)
		}
		if _, err := c.Similar(ctx(t), id("nope"), 5, domain.Filter{}); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("an unknown movie: %v, want ErrNotFound", err)
		}
	})
	t.Run("changes are announced", func(t *testing.T) {
		c, _ := newCatalog(t)
		w, ok := c.(ports.CatalogWatcher)
		if !ok {
			t.Skip("not a CatalogWatcher")
		}
		told := make(chan struct{}, 16)
		wctx, cancel := contextWithCancel(t)
		done := make(chan error, 1)
		go func() { done <- w.WatchUnservable(wctx, func() { told <- struct{}{} }) }()
		id := domain.MovieID(uniq(t, "w"))
		must(t, c.Put(ctx(t), domain.Movie{ID: id, Title: "Watched"}))
		// The watch may not be listening yet: hide until it tells.
		deadline := time.Now().Add(10 * time.Second)
		for heard := false; !heard; {
			_, err := c.SetHidden(ctx(t), id, true)
			must(t, err)
			select {
			case <-told:
				heard = true
			case <-time.After(200 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatal("hiding a movie was never announced")
				}
			}
		}
		must(t, c.Delete(ctx(t), id))
		select {
		case <-told:
		case <-time.After(5 * time.Second):
			t.Fatal("deleting a movie was not announced")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("the watch ended with %v", err)
		}
	})
}

func assertUnservable(t *testing.T, c ports.Catalog, id domain.MovieID, want bool) {
	t.Helper()
	set, err := c.Unservable(ctx(t))
	must(t, err)
	if set.Has(id) != want {
		t.Fatalf("Unservable has %s: %v, want %v", id, set.Has(id), want)
	}
}

func movieIDs(ms []domain.Movie) []domain.MovieID {
	out := make([]domain.MovieID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

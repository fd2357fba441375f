package porttest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Catalog is the contract of ports.Catalog.
func Catalog(t *testing.T, newCatalog func(t *testing.T) ports.Catalog) {
	t.Run("put get replace", func(t *testing.T) {
		c, id := newCatalog(t), domain.MovieID(uniq(t, "m"))
		if _, err := c.Get(ctx(t), id); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		m := domain.Movie{ID: id, Title: "Interstellar", Year: 2014, Genres: []string{"Sci-Fi", "Drama"}}
		must(t, c.Put(ctx(t), m))
		got, err := c.Get(ctx(t), id)
		must(t, err)
		if got.Title != m.Title || got.Year != 2014 || !slices.Equal(got.Genres, m.Genres) {
			t.Fatalf("got %+v", got)
		}
		m.Title, m.Genres = "Interstellar (IMAX)", nil
		must(t, c.Put(ctx(t), m))
		got, err = c.Get(ctx(t), id)
		must(t, err)
		if got.Title != "Interstellar (IMAX)" || len(got.Genres) != 0 {
			t.Fatalf("after replace: %+v", got)
		}
	})
	t.Run("get many list count", func(t *testing.T) {
		c, p := newCatalog(t), uniq(t, "m")
		before, err := c.Count(ctx(t))
		must(t, err)
		var ms []domain.Movie
		for i := 0; i < 25; i++ {
			ms = append(ms, domain.Movie{ID: domain.MovieID(fmt.Sprintf("%s-%02d", p, i)), Title: fmt.Sprint("Movie ", i)})
		}
		must(t, c.Put(ctx(t), ms...))
		n, err := c.Count(ctx(t))
		must(t, err)
		if n-before != 25 {
			t.Fatalf("count grew by %d, want 25", n-before)
		}
		got, err := c.GetMany(ctx(t), []domain.MovieID{ms[3].ID, "missing-" + domain.MovieID(p), ms[7].ID})
		must(t, err)
		if len(got) != 2 || got[ms[3].ID].Title != "Movie 3" || got[ms[7].ID].Title != "Movie 7" {
			t.Fatalf("GetMany = %v", got)
		}
		page, err := c.List(ctx(t), ms[9].ID, 5)
		must(t, err)
		var pageIDs []domain.MovieID
		for _, m := range page {
			pageIDs = append(pageIDs, m.ID)
		}
		want := []domain.MovieID{ms[10].ID, ms[11].ID, ms[12].ID, ms[13].ID, ms[14].ID}
		if !slices.Equal(pageIDs, want) {
			t.Fatalf("List after %s = %v, want %v", ms[9].ID, pageIDs, want)
		}
	})
}

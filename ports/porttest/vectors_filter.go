package porttest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// VectorSearch is the contract of ports.VectorIndex's Search and Similar:
// the filters that narrow a search (exclusions, genres read from the
// catalog the index was given) and the cosine neighbours of a movie.
// newIndex returns an index and the catalog its genre filters read.
// minRecall is as in VectorIndex; Similar is exact in every adapter.
func VectorSearch(t *testing.T, newIndex func(t *testing.T) (ports.VectorIndex, ports.Catalog), minRecall float64) {
	t.Run("a genre filter is not starved", func(t *testing.T) {
		x, cat := newIndex(t)
		v, p := uniq(t, "v"), uniq(t, "g")
		m := prefixed(randomModel(v, 2000, 16, 5), p)
		// Every movie is "Common" but 16 are also "Rare"; one movie is
		// Rare in the model only, not in the catalog, so it never passes.
		rare := domain.MovieSet{}
		var movies []domain.Movie
		for i, id := range m.Movies[:len(m.Movies)-1] {
			genres := []string{"Common"}
			if i%131 == 7 {
				genres = append(genres, "Rare")
				rare[id] = struct{}{}
			}
			movies = append(movies, domain.Movie{ID: id, Title: string(id), Genres: genres})
		}
		must(t, cat.Put(ctx(t), movies...))
		must(t, x.PutItemVectors(ctx(t), m))
		if len(rare) != 16 {
			t.Fatalf("fixture: %d rare movies", len(rare))
		}
		q := randomVec(16, 9)
		got, err := x.Search(ctx(t), v, q, 10, domain.Filter{Genres: []string{"rare"}})
		must(t, err)
		if len(got) != 10 {
			t.Fatalf("got %d of the 16 rare movies, want 10", len(got))
		}
		for _, s := range got {
			if !rare.Has(s.MovieID) {
				t.Fatalf("%s is not Rare", s.MovieID)
			}
		}
		assertRecall(t, ids(got), exactTopOf(m, q, 10, func(id domain.MovieID) bool { return rare.Has(id) }), minRecall)

		// All of them when k is larger, minus the excluded ones.
		var first domain.MovieID
		for id := range rare {
			first = id
			break
		}
		got, err = x.Search(ctx(t), v, q, 50, domain.Filter{Genres: []string{"Rare", "Nobody"}, Exclude: domain.MovieSet{first: {}}})
		must(t, err)
		if len(got) != 15 || slices.Contains(ids(got), first) {
			t.Fatalf("got %d rare movies (%v), want the 15 not excluded", len(got), ids(got))
		}
		got, err = x.Search(ctx(t), v, q, 10, domain.Filter{Genres: []string{"Nobody"}})
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("a genre no movie has: %v", ids(got))
		}
		// Without genres, Search is Nearest.
		plain, err := x.Search(ctx(t), v, q, 10, domain.Filter{})
		must(t, err)
		assertRecall(t, ids(plain), exactTop(m, q, 10, nil), minRecall)
	})
	t.Run("similar by cosine", func(t *testing.T) {
		x, cat := newIndex(t)
		v, p := uniq(t, "v"), uniq(t, "s")
		id := func(s string) domain.MovieID { return domain.MovieID(p + "-" + s) }
		// a (1,0); b points almost the same way, longer; e at 45°; c at
		// 90°; d opposite. Inner product would put b and e first too,
		// but their scores here are cosines.
		m := &domain.Model{Version: v, Factors: 2,
			Movies:      []domain.MovieID{id("a"), id("b"), id("c"), id("d"), id("e")},
			ItemFactors: []float32{1, 0, 20, 1, 0, 3, -1, 0, 1, 1}}
		must(t, x.PutItemVectors(ctx(t), m))
		must(t, cat.Put(ctx(t), domain.Movie{ID: id("b"), Title: "b", Genres: []string{"X"}},
			domain.Movie{ID: id("c"), Title: "c", Genres: []string{"Y"}}, domain.Movie{ID: id("e"), Title: "e", Genres: []string{"y"}}))
		got, err := x.Similar(ctx(t), v, id("a"), 10, domain.Filter{})
		must(t, err)
		if want := []domain.MovieID{id("b"), id("e"), id("c"), id("d")}; !slices.Equal(ids(got), want) {
			t.Fatalf("similar to a = %v, want %v", ids(got), want)
		}
		wantScores := []float64{20 / math.Sqrt(401), 1 / math.Sqrt2, 0, -1}
		for i, s := range got {
			if math.Abs(s.Score-wantScores[i]) > 1e-4 {
				t.Fatalf("cosine of %s = %v, want %v", s.MovieID, s.Score, wantScores[i])
			}
		}
		got, err = x.Similar(ctx(t), v, id("a"), 2, domain.Filter{Exclude: domain.MovieSet{id("b"): {}}})
		must(t, err)
		if want := []domain.MovieID{id("e"), id("c")}; !slices.Equal(ids(got), want) {
			t.Fatalf("excluding b: %v, want %v", ids(got), want)
		}
		got, err = x.Similar(ctx(t), v, id("a"), 10, domain.Filter{Genres: []string{"Y"}})
		must(t, err)
		if want := []domain.MovieID{id("e"), id("c")}; !slices.Equal(ids(got), want) {
			t.Fatalf("genre Y: %v, want %v", ids(got), want)
		}
		if _, err := x.Similar(ctx(t), v, id("cold"), 10, domain.Filter{}); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("a movie without a vector: err = %v, want ErrNotFound", err)
		}
		if _, err := x.Similar(ctx(t), uniq(t, "nope"), id("a"), 10, domain.Filter{}); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("an unknown version: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("similar is exact", func(t *testing.T) {
		x, _ := newIndex(t)
		v := uniq(t, "v")
		m := prefixed(randomModel(v, 1500, 16, 11), uniq(t, "e"))
		must(t, x.PutItemVectors(ctx(t), m))
		for _, q := range []int{0, 700, 1499} {
			exclude := domain.MovieSet{m.Movies[(q+1)%1500]: {}}
			got, err := x.Similar(ctx(t), v, m.Movies[q], 10, domain.Filter{Exclude: exclude})
			must(t, err)
			want := exactCosine(m, q, 10, exclude)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("similar to %s = %v, want %v", m.Movies[q], ids(got), want)
			}
		}
	})
}

// prefixed renames m's movies with prefix, so that suites sharing one
// catalog keep apart.
func prefixed(m *domain.Model, prefix string) *domain.Model {
	for i, id := range m.Movies {
		m.Movies[i] = domain.MovieID(fmt.Sprintf("%s-%s", prefix, id))
	}
	return m
}

// exactTopOf is exactTop over the movies keep accepts.
func exactTopOf(m *domain.Model, q []float32, k int, keep func(domain.MovieID) bool) []domain.MovieID {
	drop := domain.MovieSet{}
	for _, id := range m.Movies {
		if !keep(id) {
			drop[id] = struct{}{}
		}
	}
	return exactTop(m, q, k, drop)
}

// exactCosine is the exact answer to Similar for movie row q.
func exactCosine(m *domain.Model, q, k int, exclude domain.MovieSet) []domain.MovieID {
	norm := func(r []float32) float64 {
		var n float64
		for _, x := range r {
			n += float64(x) * float64(x)
		}
		return math.Sqrt(n)
	}
	type s struct {
		id domain.MovieID
		v  float64
	}
	qr, qn := m.Row(q), norm(m.Row(q))
	var all []s
	for i, id := range m.Movies {
		if i == q || exclude.Has(id) {
			continue
		}
		var dot float64
		for j, x := range m.Row(i) {
			dot += float64(x) * float64(qr[j])
		}
		all = append(all, s{id, dot / (qn * norm(m.Row(i)))})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].v > all[b].v })
	out := make([]domain.MovieID, 0, k)
	for _, e := range all[:min(k, len(all))] {
		out = append(out, e.id)
	}
	return out
}

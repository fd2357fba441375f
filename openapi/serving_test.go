package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
)

// servingWorld is an API over a catalog of six movies with genres and
// popularity, an item-vector model of five of them (the sixth is cold),
// and a recorder of the filters recommendations get.
type servingWorld struct {
	api     humatest.TestAPI
	cat     *memory.Catalog
	log     *memory.InteractionLog
	filters *filterRecorder
}

type filterRecorder struct {
	fixedRecommender
	mu  sync.Mutex
	got []domain.Filter
}

func (r *filterRecorder) RecommendFiltered(ctx context.Context, u domain.UserID, n int, f domain.Filter, explain bool) (domain.Served, error) {
	r.mu.Lock()
	r.got = append(r.got, f)
	r.mu.Unlock()
	return r.fixedRecommender.RecommendFiltered(ctx, u, n, f, explain)
}

func newServingWorld(t *testing.T) *servingWorld {
	t.Helper()
	ctx := context.Background()
	pop := memory.NewPopularStore(domain.DefaultPopularity())
	cat := memory.NewCatalog().UsePopularity(pop)
	movies := []domain.Movie{
		{ID: "alien", Title: "Alien", Year: 1979, Genres: []string{"Horror", "Sci-Fi"}},
		{ID: "aliens", Title: "Aliens", Year: 1986, Genres: []string{"Action", "Sci-Fi"}},
		{ID: "jaws", Title: "Jaws", Year: 1975, Genres: []string{"Horror", "Thriller"}},
		{ID: "heat", Title: "Heat", Year: 1995, Genres: []string{"Action", "Crime"}},
		{ID: "annie", Title: "Annie Hall", Year: 1977, Genres: []string{"Comedy"}},
		{ID: "prometheus", Title: "Prometheus", Year: 2012, Genres: []string{"Sci-Fi", "Horror"}},
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cat.Put(ctx, movies...))
	for i, m := range movies {
		must(pop.Record(ctx, m.ID, float64(10-i), now))
	}
	vectors := memory.NewVectorIndex().UseCatalog(cat)
	must(vectors.PutItemVectors(ctx, &domain.Model{Version: "v1", Factors: 2,
		Movies:      []domain.MovieID{"alien", "aliens", "jaws", "heat", "annie"},
		ItemFactors: []float32{1, 0, 0.9, 0.1, 0.7, 0.7, 0, 1, -1, 0}}))
	w := &servingWorld{cat: cat, log: memory.NewInteractionLog(), filters: &filterRecorder{}}
	w.api, _ = newAPI(t, func(d *Deps) {
		d.Catalog, d.Popular, d.Vectors, d.History = cat, pop, vectors, w.log
		d.Serving = func() string { return "v1" }
		d.Unservable = actors.NewUnservable(cat)
		d.Recommender = w.filters
	})
	return w
}

// get decodes the answer into out, which it zeroes first.
func get[T any](t *testing.T, w *servingWorld, path string, out *T) {
	t.Helper()
	*out = *new(T)
	resp := w.api.Get(path)
	if resp.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.Code, resp.Body.String())
	}
	if err := json.Unmarshal(resp.Body.Bytes(), out); err != nil {
		t.Fatal(err)
	}
}

func itemIDs(items []RecItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.MovieID)
	}
	return out
}

// TestFilterParametersAreCheckedAndPassedOn: every list operation refuses
// a bad genre or exclude with a 422 naming the field, and reads both forms
// (repeated, comma-separated) as one filter.
func TestFilterParametersAreCheckedAndPassedOn(t *testing.T) {
	t.Parallel()
	w := newServingWorld(t)
	for _, base := range []string{"/api/recommendations?user_id=u1&", "/api/popular?", "/api/latest?", "/api/movies/alien/similar?"} {
		for _, tc := range []struct{ query, location string }{
			{"genre=Horror,", "query.genre"},
			{"genre=" + string(make([]byte, 0)) + "%00x", "query.genre"},
			{"genre=" + fmt.Sprintf("%051d", 0), "query.genre"},
			{"exclude=a%20b", "query.exclude"},
			{"exclude=jaws,,heat", "query.exclude"},
		} {
			resp := w.api.Get(base + tc.query)
			p := decodeProblem(t, resp.Body.String())
			if resp.Code != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Location != tc.location {
				t.Errorf("%s%s: %d %s, want 422 naming %s", base, tc.query, resp.Code, resp.Body.String(), tc.location)
			}
		}
	}
	var r Recommendations
	get(t, w, "/api/recommendations?user_id=u1&genre=&exclude=", &r)
	if got := w.filters.got[len(w.filters.got)-1]; !got.Empty() {
		t.Fatalf("empty parameters are as if absent, got the filter %+v", got)
	}
	get(t, w, "/api/recommendations?user_id=u1&genre=Horror,comedy&genre=COMEDY&exclude=jaws&exclude=heat,alien", &r)
	got := w.filters.got[len(w.filters.got)-1]
	if !slices.Equal(got.Genres, []string{"Horror", "comedy"}) || len(got.Exclude) != 3 || !got.Exclude.Has("heat") {
		t.Fatalf("filter reaching the recommender: %+v", got)
	}
}

func TestPopularAndLatestFiltered(t *testing.T) {
	t.Parallel()
	w := newServingWorld(t)
	var pop PopularList
	get(t, w, "/api/popular?n=2&genre=horror&exclude=alien", &pop)
	if want := []string{"jaws", "prometheus"}; !slices.Equal(itemIDs(pop.Items), want) {
		t.Fatalf("popular horror = %v, want %v", itemIDs(pop.Items), want)
	}
	var latest LatestList
	get(t, w, "/api/latest?n=3&genre=Sci-Fi", &latest)
	var ids []string
	for _, m := range latest.Movies {
		ids = append(ids, m.ID)
	}
	if want := []string{"prometheus", "aliens", "alien"}; !slices.Equal(ids, want) {
		t.Fatalf("latest sci-fi = %v, want %v", ids, want)
	}
}

func TestSimilarMovies(t *testing.T) {
	t.Parallel()
	w := newServingWorld(t)
	if resp := w.api.Get("/api/movies/no-such-movie/similar"); resp.Code != http.StatusNotFound ||
		decodeProblem(t, resp.Body.String()).Detail != `movie "no-such-movie" is not in the catalog` {
		t.Fatalf("unknown movie: %d %s", resp.Code, resp.Body.String())
	}
	if resp := w.api.Get("/api/movies/alien/similar?user_id=a%20b"); resp.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad user_id: %d %s", resp.Code, resp.Body.String())
	}
	var s SimilarMovies
	get(t, w, "/api/movies/alien/similar?n=3", &s)
	if s.Method != SimilarByFactors || s.ModelVersion != "v1" || !slices.Equal(itemIDs(s.Items), []string{"aliens", "jaws", "heat"}) || s.Items[0].Title != "Aliens" {
		t.Fatalf("similar to alien: %+v", s)
	}
	// What the user saw is left out.
	if _, err := w.log.Append(context.Background(), domain.Interaction{EventID: "e1", UserID: "u1", MovieID: "aliens",
		Type: domain.EventClick, Weight: 2, Time: now}); err != nil {
		t.Fatal(err)
	}
	get(t, w, "/api/movies/alien/similar?n=2&user_id=u1", &s)
	if !slices.Equal(itemIDs(s.Items), []string{"jaws", "heat"}) {
		t.Fatalf("similar to alien for u1: %v", itemIDs(s.Items))
	}
	// A cold movie (no factors) is answered by metadata.
	get(t, w, "/api/movies/prometheus/similar?n=3", &s)
	if s.Method != SimilarByGenres || s.ModelVersion != "" || !slices.Equal(itemIDs(s.Items), []string{"alien", "aliens", "jaws"}) {
		t.Fatalf("similar to the cold prometheus: %+v", s)
	}
	// A filter the model cannot fill is topped up by metadata.
	get(t, w, "/api/movies/alien/similar?n=2&genre=Sci-Fi", &s)
	if s.Method != SimilarByFactors || !slices.Equal(itemIDs(s.Items), []string{"aliens", "prometheus"}) {
		t.Fatalf("sci-fi similar to alien: %+v", s)
	}
}

func TestHideShowAndDeleteMovies(t *testing.T) {
	t.Parallel()
	w := newServingWorld(t)
	if resp := w.api.Patch("/api/movies/no-such-movie", map[string]any{"hidden": true}); resp.Code != http.StatusNotFound {
		t.Fatalf("hiding an unknown movie: %d %s", resp.Code, resp.Body.String())
	}
	resp := w.api.Patch("/api/movies/alien", map[string]any{})
	if p := decodeProblem(t, resp.Body.String()); resp.Code != http.StatusUnprocessableEntity || len(p.Errors) == 0 ||
		p.Errors[0].Location != "body" || !strings.Contains(p.Errors[0].Message, "hidden") {
		t.Fatalf("no hidden: %d %s", resp.Code, resp.Body.String())
	}
	resp = w.api.Patch("/api/movies/alien", map[string]any{"hidden": true})
	var m Movie
	if resp.Code != http.StatusOK || json.Unmarshal(resp.Body.Bytes(), &m) != nil || !m.Hidden || m.Title != "Alien" {
		t.Fatalf("hide: %d %s", resp.Code, resp.Body.String())
	}
	// Hidden from every list here at once; still in the catalog.
	var pop PopularList
	get(t, w, "/api/popular?n=6", &pop)
	var s SimilarMovies
	get(t, w, "/api/movies/aliens/similar?n=5", &s)
	var latest LatestList
	get(t, w, "/api/latest?n=6", &latest)
	if slices.Contains(itemIDs(pop.Items), "alien") || slices.Contains(itemIDs(s.Items), "alien") || len(latest.Movies) != 5 {
		t.Fatalf("alien still served: popular %v, similar %v, latest %d", itemIDs(pop.Items), itemIDs(s.Items), len(latest.Movies))
	}
	if resp := w.api.Get("/api/movies/alien"); resp.Code != http.StatusOK || !json.Valid(resp.Body.Bytes()) {
		t.Fatalf("a hidden movie is still in the catalog: %d", resp.Code)
	}
	if resp := w.api.Patch("/api/movies/alien", map[string]any{"hidden": false}); resp.Code != http.StatusOK {
		t.Fatalf("show: %d", resp.Code)
	}
	get(t, w, "/api/popular?n=1", &pop)
	if !slices.Equal(itemIDs(pop.Items), []string{"alien"}) {
		t.Fatalf("alien shown again: %v", itemIDs(pop.Items))
	}

	for range 2 { // idempotent
		if resp := w.api.Delete("/api/movies/jaws"); resp.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", resp.Code, resp.Body.String())
		}
	}
	if resp := w.api.Delete("/api/movies/never-was"); resp.Code != http.StatusNoContent {
		t.Fatalf("delete of a movie never in the catalog: %d", resp.Code)
	}
	if resp := w.api.Get("/api/movies/jaws"); resp.Code != http.StatusNotFound {
		t.Fatalf("a deleted movie: %d", resp.Code)
	}
	get(t, w, "/api/popular?n=6", &pop)
	get(t, w, "/api/movies/alien/similar?n=5", &s)
	if slices.Contains(itemIDs(pop.Items), "jaws") || slices.Contains(itemIDs(s.Items), "jaws") {
		t.Fatalf("jaws still served: popular %v, similar %v", itemIDs(pop.Items), itemIDs(s.Items))
	}
	if resp := w.api.Delete("/api/movies/a%20b"); resp.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad id: %d", resp.Code)
	}
}

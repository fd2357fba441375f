package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// filterWorld is walkWorld with a catalog that knows every movie's
// genres: vec* and bat* movies alternate Drama and Comedy, pop* are
// Drama, and the index filters by genre through the catalog.
func filterWorld(t *testing.T) (*Walker, WalkRequest) {
	t.Helper()
	w, req := walkWorld(t)
	ctx := context.Background()
	cat := memory.NewCatalog()
	w.Catalog = cat
	w.Vectors = memory.NewVectorIndex().UseCatalog(cat)
	m := &domain.Model{Version: "v1", Factors: 1}
	var movies []domain.Movie
	var batch []domain.ScoredMovie
	for i := range 20 {
		genre := []string{"Drama", "Comedy"}[i%2]
		v, b := domain.MovieID(fmt.Sprintf("vec%02d", i)), domain.MovieID(fmt.Sprintf("bat%02d", i))
		m.Movies, m.ItemFactors = append(m.Movies, v), append(m.ItemFactors, float32(100-i))
		batch = append(batch, domain.ScoredMovie{MovieID: b, Score: float64(100 - i)})
		movies = append(movies, domain.Movie{ID: v, Title: string(v), Genres: []string{genre}}, domain.Movie{ID: b, Title: string(b), Genres: []string{genre}})
	}
	for i := range 30 {
		p := domain.MovieID(fmt.Sprintf("pop%02d", i))
		movies = append(movies, domain.Movie{ID: p, Title: string(p), Genres: []string{"Drama"}})
		if err := w.Popular.Record(ctx, p, float64(100-i), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	movies = append(movies, domain.Movie{ID: "horror1", Title: "The one horror film", Genres: []string{"Horror"}})
	if err := w.Popular.Record(ctx, "horror1", 0.5, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := cat.Put(ctx, movies...); err != nil {
		t.Fatal(err)
	}
	if err := w.Vectors.PutItemVectors(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := w.Batch.PutAll(ctx, "v1", []ports.BatchList{{UserID: req.User, List: domain.RecList{Items: batch}}}); err != nil {
		t.Fatal(err)
	}
	w.Unservable = NewUnservable(cat)
	req.N = 3
	return w, req
}

func genresOf(t *testing.T, w *Walker, l domain.RecList) []string {
	t.Helper()
	var out []string
	for _, it := range l.Items {
		m, err := w.Catalog.Get(context.Background(), it.MovieID)
		if err != nil {
			t.Fatalf("%s: %v", it.MovieID, err)
		}
		out = append(out, m.Genres...)
	}
	return out
}

// TestFilteredWalkNeverWritesTheCache: a filtered list comes from the
// vector tier narrowed by genre, and the cache still holds no list; an
// unfiltered walk then caches the whole list, which a later filtered walk
// reads only when enough of it passes.
func TestFilteredWalkNeverWritesTheCache(t *testing.T) {
	t.Parallel()
	w, req := filterWorld(t)
	ctx := context.Background()
	comedy := req
	comedy.Filter = domain.Filter{Genres: []string{"comedy"}}
	l, tier, err := w.Walk(ctx, comedy)
	if err != nil || tier != domain.TierVector || len(l.Items) != 3 {
		t.Fatalf("filtered walk: %s %v %v", tier, movieIDs(l), err)
	}
	if g := genresOf(t, w, l); slices.ContainsFunc(g, func(s string) bool { return s != "Comedy" }) {
		t.Fatalf("genres %v, want Comedy only", g)
	}
	if _, _, err := w.Cache.Get(ctx, req.User); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("a filtered walk cached its list: %v", err)
	}

	// The whole list (depth 100: the 20 vector movies) is cached now.
	if _, tier, _ := w.Walk(ctx, req); tier != domain.TierVector {
		t.Fatalf("unfiltered walk: %s", tier)
	}
	l, tier, _ = w.Walk(ctx, comedy)
	if tier != domain.TierCache || !slices.Equal(movieIDs(l), []domain.MovieID{"vec01", "vec03", "vec05"}) {
		t.Fatalf("filtered walk over the cached list: %s %v", tier, movieIDs(l))
	}
	// Excluding all but two comedies of the model: not enough pass the
	// cached list or the vector tier, so the batch list answers, and the
	// cache keeps the whole list.
	short := comedy
	short.Filter.Exclude = domain.MovieSet{}
	for i := 1; i < 17; i += 2 {
		short.Filter.Exclude[domain.MovieID(fmt.Sprintf("vec%02d", i))] = struct{}{}
	}
	l, tier, _ = w.Walk(ctx, short)
	if tier != domain.TierBatch || !slices.Equal(movieIDs(l), []domain.MovieID{"bat01", "bat03", "bat05"}) {
		t.Fatalf("two comedies left in the model: %s %v, want three from the batch list", tier, movieIDs(l))
	}
	if cached, _, err := w.Cache.Get(ctx, req.User); err != nil || len(cached.Items) != 20 {
		t.Fatalf("the cached list changed: %d items, %v", len(cached.Items), err)
	}
}

// TestFilteredTiersFallThroughWhenShort: the batch tier filters its longer
// list and gives way when too few pass; popular reads deeper until n pass.
func TestFilteredTiersFallThroughWhenShort(t *testing.T) {
	t.Parallel()
	w, req := filterWorld(t)
	ctx := context.Background()
	req.Vector, req.SkipCache = nil, true
	req.Filter = domain.Filter{Genres: []string{"Comedy"}}
	l, tier, err := w.Walk(ctx, req)
	if err != nil || tier != domain.TierBatch || !slices.Equal(movieIDs(l), []domain.MovieID{"bat01", "bat03", "bat05"}) {
		t.Fatalf("comedies from the batch list: %s %v %v", tier, movieIDs(l), err)
	}
	req.N = 11 // the batch list has 10 comedies
	l, tier, _ = w.Walk(ctx, req)
	if tier != domain.TierPopular {
		t.Fatalf("11 comedies: %s %v, want popular after the batch list came up short", tier, movieIDs(l))
	}
	// The one horror film is the least popular of 31: found by reading on.
	req.N, req.Filter = 1, domain.Filter{Genres: []string{"Horror"}}
	l, tier, _ = w.Walk(ctx, req)
	if tier != domain.TierPopular || !slices.Equal(movieIDs(l), []domain.MovieID{"horror1"}) {
		t.Fatalf("horror: %s %v", tier, movieIDs(l))
	}
}

// TestUnservableMoviesLeaveEveryTier: a hidden movie leaves the cached
// list, the vector and batch tiers and popular at once, and the near copy
// of the HTTP fast path.
func TestUnservableMoviesLeaveEveryTier(t *testing.T) {
	t.Parallel()
	w, req := filterWorld(t)
	ctx := context.Background()
	if _, tier, _ := w.Walk(ctx, req); tier != domain.TierVector {
		t.Fatalf("first walk: %s", tier)
	}
	hide := func(id domain.MovieID) {
		t.Helper()
		if _, err := w.Catalog.SetHidden(ctx, id, true); err != nil {
			t.Fatal(err)
		}
		if err := w.Unservable.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	hide("vec00")
	if err := w.Catalog.Delete(ctx, "vec02"); err != nil {
		t.Fatal(err)
	}
	hide("pop00")
	l, tier, _ := w.Walk(ctx, req)
	if tier != domain.TierCache || !slices.Equal(movieIDs(l), []domain.MovieID{"vec01", "vec03", "vec04"}) {
		t.Fatalf("cached list: %s %v", tier, movieIDs(l))
	}
	req.SkipCache = true
	if l, _, _ = w.Walk(ctx, req); !slices.Equal(movieIDs(l), []domain.MovieID{"vec01", "vec03", "vec04"}) {
		t.Fatalf("vector tier: %v", movieIDs(l))
	}
	hide("bat00")
	req.Vector = nil
	if l, _, _ = w.Walk(ctx, req); !slices.Equal(movieIDs(l), []domain.MovieID{"bat01", "bat02", "bat03"}) {
		t.Fatalf("batch tier: %v", movieIDs(l))
	}
	req.User = "nobody"
	if l, _, _ = w.Walk(ctx, req); slices.Contains(movieIDs(l), "pop00") {
		t.Fatalf("popular tier: %v", movieIDs(l))
	}
}

// TestHiddenMovieLeavesTheNearCopy: the fast path's near copy and cached
// list lose a movie the moment the node's set has it.
func TestHiddenMovieLeavesTheNearCopy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	u := domain.UserID("user_hide")
	first := f.likerServed(t, u, 3)
	top := first.List.Items[0].MovieID
	if err := f.deps.Catalog.Put(testCtx(t), domain.Movie{ID: top, Title: "To hide"}); err != nil {
		t.Fatal(err)
	}
	again, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || again.ServedBy != domain.TierCache || !slices.Contains(movieIDs(again.List), top) {
		t.Fatalf("before hiding: %s %v %v", again.ServedBy, movieIDs(again.List), err)
	}
	if _, err := f.deps.Catalog.SetHidden(testCtx(t), top, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the node to know", func() bool { return f.sys.Unservable().Set().Has(top) })
	s, err := f.sys.Recommend(testCtx(t), u, 3)
	if err != nil || slices.Contains(movieIDs(s.List), top) || len(s.List.Items) != 3 {
		t.Fatalf("after hiding %s: %s %v %v", top, s.ServedBy, movieIDs(s.List), err)
	}
	if s.ServedBy != domain.TierCache {
		t.Fatalf("served by %s: the cached list has more than enough without it", s.ServedBy)
	}
}

package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// maxPopularScan bounds how deep TopFiltered reads the popular ranking
// looking for movies of the genres asked.
const maxPopularScan = 20_000

// excluded is what no tier may serve for req: the user's seen movies, the
// unservable ones and the filter's exclusions (req.Seen itself when the
// other two are empty, which is the common case).
func (w *Walker) excluded(req WalkRequest) domain.MovieSet {
	hidden := w.Unservable.Set()
	if len(hidden) == 0 && len(req.Filter.Exclude) == 0 {
		return req.Seen
	}
	return domain.Union(req.Seen, hidden, req.Filter.Exclude)
}

// ofGenres returns, in order, up to n of items that are not in ex and
// that the catalog lists under one of f's genres.
func (w *Walker) ofGenres(ctx context.Context, items []domain.ScoredMovie, ex domain.MovieSet, f domain.Filter, n int) ([]domain.ScoredMovie, error) {
	return keepGenres(ctx, w.Catalog, items, ex, f, n)
}

func keepGenres(ctx context.Context, cat ports.Catalog, items []domain.ScoredMovie, ex domain.MovieSet, f domain.Filter, n int) ([]domain.ScoredMovie, error) {
	ids := make([]domain.MovieID, 0, len(items))
	for _, it := range items {
		if !ex.Has(it.MovieID) {
			ids = append(ids, it.MovieID)
		}
	}
	movies, err := cat.GetMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("genres of %d movies: %w", len(ids), err)
	}
	out := make([]domain.ScoredMovie, 0, min(n, len(ids)))
	for _, it := range items {
		if len(out) == n {
			break
		}
		if m, ok := movies[it.MovieID]; ok && !ex.Has(it.MovieID) && f.GenreOf(m.Genres) {
			out = append(out, it)
		}
	}
	return out, nil
}

// TopFiltered returns up to n popular movies, none in ex and, when f has
// genres, only movies of one of them: the popular ranking is read ever
// deeper (four times as deep each time, at most maxPopularScan) until n
// pass or it is exhausted. ex must already hold f's exclusions.
func TopFiltered(ctx context.Context, pop ports.PopularStore, cat ports.Catalog, n int, f domain.Filter, ex domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error) {
	if !f.ByGenre() {
		return pop.Top(ctx, n, ex, now)
	}
	for ask := max(4*n, 64); ; ask *= 4 {
		ask = min(ask, maxPopularScan)
		top, err := pop.Top(ctx, ask, ex, now)
		if err != nil {
			return nil, err
		}
		kept, err := keepGenres(ctx, cat, top, ex, f, n)
		if err != nil || len(kept) == n || len(top) < ask || ask == maxPopularScan {
			return kept, err
		}
	}
}

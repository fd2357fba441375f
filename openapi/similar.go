package openapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Methods of similar-movie lists.
const (
	SimilarByFactors = "factors"
	SimilarByGenres  = "genres"
)

// SimilarMovies is the answer of GET /api/movies/{id}/similar.
type SimilarMovies struct {
	MovieID      string    `json:"movie_id" example:"interstellar-2014"`
	Method       string    `json:"method" enum:"factors,genres" example:"factors" doc:"factors: nearest by cosine of the serving model's item factors (score: the cosine). genres: the movie has no factors in the serving model yet (a cold movie), or no model serves, so the list is by metadata: genre Jaccard index (the score), then release-year gap, then popularity. A factors list the model cannot fill (filters) is topped up by metadata, after its own items."`
	ModelVersion string    `json:"model_version,omitempty" example:"als-20261129-020000" doc:"The model whose factors ranked the list (method factors)."`
	Items        []RecItem `json:"items"`
	GeneratedAt  time.Time `json:"generated_at"`
}

type similarInput struct {
	ID     string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014" doc:"Movie id."`
	N      int    `query:"n" minimum:"1" maximum:"100" default:"10" example:"10" doc:"How many movies (1 to 100)."`
	UserID string `query:"user_id" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"user_123" doc:"Leave out every movie this user has interacted with."`
	Filtered
}

type similarOutput struct {
	Body SimilarMovies
}

func registerSimilar(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "get-similar-movies", Method: http.MethodGet, Path: "/api/movies/{id}/similar", Security: auth.Requirement(auth.ScopeRead),
		Summary: "Movies similar to a movie",
		Description: "The movies nearest to this one by cosine of the serving model's item factors (method factors), never the movie " +
			"itself, a hidden or deleted movie, or, with user_id, one the user has interacted with. A movie the serving model has no " +
			"factors for yet (added since the last training) gets movies similar by metadata instead (method genres). " +
			"genre and exclude filter as on every list. 404 when the catalog does not have the movie.",
		Tags:      []string{"recommendations"},
		Errors:    []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The similar movies, most similar first, and how they were found.", exampleSimilar()),
	}, func(ctx context.Context, in *similarInput) (*similarOutput, error) {
		id := domain.MovieID(in.ID)
		if _, err := d.Catalog.Get(ctx, id); errors.Is(err, ports.ErrNotFound) {
			return nil, huma.Error404NotFound(fmt.Sprintf("movie %q is not in the catalog", in.ID))
		} else if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		var seen domain.MovieSet
		if in.UserID != "" {
			var err error
			if seen, err = d.seenBy(ctx, domain.UserID(in.UserID)); err != nil {
				return nil, d.serverError(ctx, "history unavailable", err)
			}
		}
		f := domain.Filter{Genres: in.filter.Genres, Exclude: d.excludedBy(in.filter, seen)}
		out, err := d.similar(ctx, id, in.N, f)
		if err != nil {
			return nil, err
		}
		out.MovieID, out.GeneratedAt = in.ID, d.Now()
		return &similarOutput{Body: out}, nil
	})
	problemExamples(api, http.MethodGet, "/api/movies/{id}/similar",
		exampleProblem(http.StatusNotFound, `movie "no-such-movie" is not in the catalog`),
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.genre", Message: "at most 20 genres", Value: 21}))
}

// similar ranks by the serving model's factors when it has the movie's,
// and tops up (or replaces, for a cold movie) with metadata similarity.
func (d Deps) similar(ctx context.Context, id domain.MovieID, n int, f domain.Filter) (SimilarMovies, error) {
	out := SimilarMovies{Method: SimilarByGenres}
	var items []domain.ScoredMovie
	if version := d.servingVersion(); version != "" && d.Vectors != nil {
		got, err := d.Vectors.Similar(ctx, version, id, n, f)
		switch {
		case err == nil:
			items, out.Method, out.ModelVersion = got, SimilarByFactors, version
			if err := addTitles(ctx, d, items); err != nil {
				return out, d.serverError(ctx, "catalog unavailable", err)
			}
		case !errors.Is(err, ports.ErrNotFound):
			return out, d.serverError(ctx, "similar movies unavailable", err)
		}
	}
	if len(items) < n {
		more := f
		if len(items) > 0 {
			more.Exclude = domain.Union(f.Exclude)
			for _, it := range items {
				more.Exclude[it.MovieID] = struct{}{}
			}
		}
		got, err := d.Catalog.Similar(ctx, id, n-len(items), more)
		if err != nil {
			return out, d.serverError(ctx, "catalog unavailable", err)
		}
		items = append(items, got...)
	}
	out.Items = recItems(items)
	return out, nil
}

func (d Deps) servingVersion() string {
	if d.Serving == nil {
		return ""
	}
	return d.Serving()
}

// seenBy is every movie the user has interacted with: the hot table and
// the archived totals.
func (d Deps) seenBy(ctx context.Context, user domain.UserID) (domain.MovieSet, error) {
	seen := domain.MovieSet{}
	hist, err := d.History.UserHistory(ctx, user)
	if err != nil {
		return nil, err
	}
	for _, ev := range hist {
		seen[ev.MovieID] = struct{}{}
	}
	if d.Ledger != nil {
		totals, err := d.Ledger.ArchivedTotals(ctx, user)
		if err != nil {
			return nil, err
		}
		for _, t := range totals {
			seen[t.MovieID] = struct{}{}
		}
	}
	return seen, nil
}

func recItems(ms []domain.ScoredMovie) []RecItem {
	if ms == nil {
		return []RecItem{}
	}
	return items(ms)
}

func exampleSimilar() SimilarMovies {
	return SimilarMovies{MovieID: "interstellar-2014", Method: SimilarByFactors, ModelVersion: exampleVersion, GeneratedAt: exampleTime,
		Items: []RecItem{
			{Rank: 1, MovieID: "the-martian-2015", Title: "The Martian", Score: 0.91},
			{Rank: 2, MovieID: "gravity-2013", Title: "Gravity", Score: 0.88},
		}}
}

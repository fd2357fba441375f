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

// MoviePatch changes whether a movie is served.
type MoviePatch struct {
	Hidden *bool `json:"hidden" required:"true" example:"true" doc:"true hides the movie from every list, false serves it again."`
}

type patchMovieInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014" doc:"Movie id."`
	Body MoviePatch
}

type deleteMovieInput struct {
	ID string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014" doc:"Movie id."`
}

type latestInput struct {
	N int `query:"n" minimum:"1" maximum:"100" default:"10" example:"10" doc:"How many movies (1 to 100)."`
	Filtered
}

// LatestList is the newest movies.
type LatestList struct {
	Movies      []Movie   `json:"movies" doc:"Newest first: by release year, then by when the catalog first had the movie (later first), then by id; a movie without a year comes after every dated one."`
	GeneratedAt time.Time `json:"generated_at"`
}

type latestOutput struct {
	Body LatestList
}

func registerCatalogServing(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "patch-movie", Method: http.MethodPatch, Path: "/api/movies/{id}", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Hide or show a movie",
		Description: "{\"hidden\": true} keeps the movie in the catalog but takes it out of every list served, from every tier " +
			"(lists cached before included), on every node within a second; {\"hidden\": false} serves it again. " +
			"Setting what is already set changes nothing and succeeds. 404 when the catalog does not have the movie.",
		Tags:         []string{"catalog"},
		MaxBodyBytes: 4 << 10,
		Errors:       []int{http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		RequestBody:  jsonBody(MoviePatch{Hidden: new(true)}),
		Responses:    success(http.StatusOK, "The movie as stored.", Movie{ID: exampleMovie.ID, Title: exampleMovie.Title, Year: exampleMovie.Year, Genres: exampleMovie.Genres, Hidden: true}),
	}, func(ctx context.Context, in *patchMovieInput) (*movieOutput, error) {
		m, err := d.Catalog.SetHidden(ctx, domain.MovieID(in.ID), *in.Body.Hidden)
		if errors.Is(err, ports.ErrNotFound) {
			return nil, huma.Error404NotFound(fmt.Sprintf("movie %q is not in the catalog", in.ID))
		}
		if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		d.refreshUnservable(ctx)
		return &movieOutput{Body: fromMovie(m)}, nil
	})
	problemExamples(api, http.MethodPatch, "/api/movies/{id}",
		exampleProblem(http.StatusNotFound, `movie "no-such-movie" is not in the catalog`),
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "body", Message: "expected required property hidden to be present", Value: map[string]any{}}))

	huma.Register(api, huma.Operation{
		OperationID: "delete-movie", Method: http.MethodDelete, Path: "/api/movies/{id}", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Delete a movie",
		Description: "Removes the movie from the catalog (GET answers 404 from then on) and from every list served, from every tier " +
			"(lists cached before included), on every node within a second. Its events, item vectors and precomputed lists outlive " +
			"it, so the id stays unservable until a PUT creates the movie again. Idempotent: deleting a movie that is gone, " +
			"or that the catalog never had, answers 204 too (and keeps that id out of every list).",
		Tags:          []string{"catalog"},
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *deleteMovieInput) (*struct{}, error) {
		if err := d.Catalog.Delete(ctx, domain.MovieID(in.ID)); err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		d.refreshUnservable(ctx)
		return nil, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "get-latest", Method: http.MethodGet, Path: "/api/latest", Security: auth.Requirement(auth.ScopeRead),
		Summary: "Newest movies",
		Description: "The newest movies of the catalog: by release year, then by when the catalog first had the movie (the time of " +
			"its first PUT or import; a later write keeps it), latest first, then by id. Hidden and deleted movies never appear. " +
			"genre and exclude filter as on every list.",
		Tags:      []string{"recommendations"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The newest movies.", LatestList{Movies: []Movie{exampleMovie}, GeneratedAt: exampleTime}),
	}, func(ctx context.Context, in *latestInput) (*latestOutput, error) {
		ms, err := d.Catalog.Latest(ctx, in.N, in.filter)
		if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		out := &latestOutput{Body: LatestList{Movies: make([]Movie, 0, len(ms)), GeneratedAt: d.Now()}}
		hidden := d.unservable()
		for _, m := range ms {
			if !hidden.Has(m.ID) {
				out.Body.Movies = append(out.Body.Movies, fromMovie(m))
			}
		}
		return out, nil
	})
	problemExamples(api, http.MethodGet, "/api/latest",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.exclude", Message: "each movie id may contain only letters, digits and _ . : @ - (found ' ' at byte 4)", Value: "jaws 1975"}))
}

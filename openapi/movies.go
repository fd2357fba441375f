package openapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// MaxMovieBatch is the most movies one bulk request may carry.
const MaxMovieBatch = 1000

// Movie is a catalog entry.
type Movie struct {
	ID     string   `json:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014"`
	Title  string   `json:"title" minLength:"1" maxLength:"500" example:"Interstellar"`
	Year   int      `json:"year,omitempty" minimum:"1870" maximum:"2200" example:"2014"`
	Genres []string `json:"genres,omitempty" maxItems:"20" example:"[\"Sci-Fi\",\"Drama\"]"`
	Hidden bool     `json:"hidden,omitempty" readOnly:"true" doc:"Hidden from every list (PATCH /api/movies/{id}); writes of the other fields keep it."`
}

// MovieFields is a movie without its id (the id is in the path).
type MovieFields struct {
	Title  string   `json:"title" minLength:"1" maxLength:"500" example:"Interstellar"`
	Year   int      `json:"year,omitempty" minimum:"1870" maximum:"2200" example:"2014"`
	Genres []string `json:"genres,omitempty" maxItems:"20" example:"[\"Sci-Fi\",\"Drama\"]"`
}

type movieIDPath struct {
	ID string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014" doc:"Movie id."`
}

type putMovieInput struct {
	ID   string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"interstellar-2014" doc:"Movie id."`
	Body MovieFields
}

type movieOutput struct {
	Body Movie
}

type bulkMoviesInput struct {
	Body struct {
		Movies []Movie `json:"movies" minItems:"1" maxItems:"1000" doc:"Up to 1,000 movies, created or replaced by id."`
	}
}

type bulkMoviesOutput struct {
	Body struct {
		Upserted int `json:"upserted" example:"2"`
	}
}

type listMoviesInput struct {
	After string `query:"after" maxLength:"128" doc:"Return movies with ids after this one (the next_after of the previous page). UTF-8 without NUL."`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

// Resolve implements huma.Resolver: the cursor goes to the store.
func (in *listMoviesInput) Resolve(huma.Context) []error { return textParam("query.after", in.After) }

type listMoviesOutput struct {
	Body struct {
		Movies    []Movie `json:"movies"`
		NextAfter string  `json:"next_after,omitempty" doc:"Pass as after to get the next page; absent on the last page."`
	}
}

func registerMovies(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "put-movie", Method: http.MethodPut, Path: "/api/movies/{id}", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Create or replace a movie",
		Description: "Stores the movie under the id in the path, replacing every field of an existing one but hidden, which only PATCH changes; " +
			"a movie deleted before is in the catalog, and served, again. " +
			"The title and genres are UTF-8 text without NUL characters (422 naming the field otherwise). " +
			"Events may name a movie only once the catalog has it (unless MARQUEE_ACCEPT_UNKNOWN_MOVIES is set), " +
			"and titles in recommendation lists come from here.",
		Tags:         []string{"catalog"},
		MaxBodyBytes: 64 << 10, // one movie is well under 4 KiB
		Middlewares:  huma.Middlewares{utf8Body(api, 64<<10)},
		Errors:       []int{http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		RequestBody:  jsonBody(MovieFields{Title: exampleMovie.Title, Year: exampleMovie.Year, Genres: exampleMovie.Genres}),
		Responses:    success(http.StatusOK, "The movie as stored.", exampleMovie),
	}, func(ctx context.Context, in *putMovieInput) (*movieOutput, error) {
		m := domain.Movie{ID: domain.MovieID(in.ID), Title: in.Body.Title, Year: in.Body.Year, Genres: in.Body.Genres}
		if err := m.Validate(); err != nil {
			return nil, huma.Error422UnprocessableEntity("invalid movie", fieldDetails("body", err)...)
		}
		if err := d.Catalog.Put(ctx, m); err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		// As stored: a hidden movie stays hidden, and one deleted before
		// is servable again.
		stored, err := d.Catalog.Get(ctx, m.ID)
		if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		d.refreshUnservable(ctx)
		return &movieOutput{Body: fromMovie(stored)}, nil
	})
	problemExamples(api, http.MethodPut, "/api/movies/{id}",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "body.title", Message: "expected length >= 1", Value: ""}))

	huma.Register(api, huma.Operation{
		OperationID: "get-movie", Method: http.MethodGet, Path: "/api/movies/{id}", Security: auth.Requirement(auth.ScopeRead),
		Summary:     "Get a movie",
		Description: "The catalog entry of one movie; 404 when the catalog does not have it.",
		Tags:        []string{"catalog"},
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses:   success(http.StatusOK, "The movie.", exampleMovie),
	}, func(ctx context.Context, in *movieIDPath) (*movieOutput, error) {
		m, err := d.Catalog.Get(ctx, domain.MovieID(in.ID))
		if errors.Is(err, ports.ErrNotFound) {
			return nil, huma.Error404NotFound(fmt.Sprintf("movie %q is not in the catalog", in.ID))
		}
		if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		return &movieOutput{Body: fromMovie(m)}, nil
	})
	problemExamples(api, http.MethodGet, "/api/movies/{id}",
		exampleProblem(http.StatusNotFound, `movie "no-such-movie" is not in the catalog`))

	huma.Register(api, huma.Operation{
		OperationID: "post-movies", Method: http.MethodPost, Path: "/api/movies", Security: auth.Requirement(auth.ScopeAdmin),
		Summary:      "Create or replace movies in bulk",
		Description:  "All or nothing: if any movie is invalid (a title or genre that is not UTF-8 text without NUL characters among the reasons), none is stored and every problem is listed.",
		Tags:         []string{"catalog"},
		MaxBodyBytes: 1 << 20, // 1,000 movies of a typical size take about 150 KB
		Middlewares:  huma.Middlewares{utf8Body(api, 1<<20)},
		Errors:       []int{http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		RequestBody:  jsonBody(exampleBulkMovies()),
		Responses:    success(http.StatusOK, "How many movies were stored.", exampleUpserted()),
	}, func(ctx context.Context, in *bulkMoviesInput) (*bulkMoviesOutput, error) {
		movies := make([]domain.Movie, len(in.Body.Movies))
		var details []error
		for i, m := range in.Body.Movies {
			movies[i] = domain.Movie{ID: domain.MovieID(m.ID), Title: m.Title, Year: m.Year, Genres: m.Genres}
			if err := movies[i].Validate(); err != nil {
				details = append(details, fieldDetails(fmt.Sprintf("body.movies[%d]", i), err)...)
			}
		}
		if len(details) > 0 {
			return nil, huma.Error422UnprocessableEntity("invalid movies; none was stored", details...)
		}
		if err := d.Catalog.Put(ctx, movies...); err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		d.refreshUnservable(ctx)
		out := &bulkMoviesOutput{}
		out.Body.Upserted = len(movies)
		return out, nil
	})
	problemExamples(api, http.MethodPost, "/api/movies",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "body.movies[1].year", Message: "expected number >= 1870", Value: 1800}))

	huma.Register(api, huma.Operation{
		OperationID: "list-movies", Method: http.MethodGet, Path: "/api/movies", Security: auth.Requirement(auth.ScopeRead),
		Summary: "List the catalog",
		Description: "Movies ordered by id, a page at a time: pass the next_after of a page as after to get the next one; " +
			"the last page has no next_after.",
		Tags:      []string{"catalog"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "One page of the catalog.", exampleMovies()),
	}, func(ctx context.Context, in *listMoviesInput) (*listMoviesOutput, error) {
		page, err := d.Catalog.List(ctx, domain.MovieID(in.After), in.Limit)
		if err != nil {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		out := &listMoviesOutput{}
		out.Body.Movies = make([]Movie, len(page))
		for i, m := range page {
			out.Body.Movies[i] = fromMovie(m)
		}
		if len(page) == in.Limit {
			out.Body.NextAfter = string(page[len(page)-1].ID)
		}
		return out, nil
	})
	problemExamples(api, http.MethodGet, "/api/movies",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.limit", Message: "expected number <= 1000", Value: 5000}))
}

func fromMovie(m domain.Movie) Movie {
	return Movie{ID: string(m.ID), Title: m.Title, Year: m.Year, Genres: m.Genres, Hidden: m.Hidden}
}

package openapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
)

// RecItem is one recommended movie.
type RecItem struct {
	Rank    int     `json:"rank" example:"1" doc:"1-based position in the list."`
	MovieID string  `json:"movie_id" example:"interstellar-2014"`
	Title   string  `json:"title,omitempty" example:"Interstellar"`
	Score   float64 `json:"score" example:"0.87" doc:"Relevance within this list (inner product for vector and batch lists, decayed popularity for popular ones); not comparable across lists."`
	// Because is only there with explain=true.
	Because []Reason `json:"because,omitempty" doc:"With explain=true, on a list from the serving model: the movies of the user's history that contributed most to this one's score (up to 3, largest share first)."`
}

// Reason is a history movie behind a recommended one.
type Reason struct {
	MovieID string  `json:"movie_id" example:"alien-1979"`
	Title   string  `json:"title,omitempty" example:"Alien"`
	Share   float64 `json:"share" example:"0.41" doc:"What this history movie brought to the recommended movie's score: its confidence times the two movies' similarity in the user's own metric (Hu, Koren and Volinsky 2008, §5). The shares of every history movie sum to the score."`
}

// Recommendations is a served list.
type Recommendations struct {
	UserID       string    `json:"user_id" example:"user_123"`
	Items        []RecItem `json:"items"`
	Tier         string    `json:"tier" enum:"cache,vector,batch,popular" example:"vector" doc:"The tier that answered this request."`
	SourceTier   string    `json:"source_tier" enum:"vector,batch,popular" example:"vector" doc:"The tier that computed the list (differs from tier on a cache hit)."`
	ModelVersion string    `json:"model_version,omitempty" example:"als-20261129-020000" doc:"Model behind the list, for vector and batch lists."`
	RecLogID     string    `json:"rec_log_id" example:"01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f" doc:"Id of this impression; send it back as rec_log_id on the events it leads to."`
	GeneratedAt  time.Time `json:"generated_at" doc:"When the list was computed."`
	ServedAt     time.Time `json:"served_at" doc:"When it was served."`
}

type recommendationsInput struct {
	UserID string `query:"user_id" required:"true" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"user_123" doc:"The user to recommend for."`
	N      int    `query:"n" minimum:"1" maximum:"100" default:"10" example:"10" doc:"How many movies (1 to 100)."`
	Filtered
	Explain bool `query:"explain" doc:"Give each movie of a list computed from the serving model the history movies behind it (items[].because). The request then always goes to the user's actor, which holds the history."`
}

type recommendationsOutput struct {
	Body Recommendations
}

// PopularList is the popular-movies answer.
type PopularList struct {
	Items       []RecItem `json:"items"`
	GeneratedAt time.Time `json:"generated_at"`
}

type popularInput struct {
	N int `query:"n" minimum:"1" maximum:"100" default:"10" example:"10" doc:"How many movies (1 to 100)."`
	Filtered
}

type popularOutput struct {
	Body PopularList
}

func registerRecommendations(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "get-recommendations",
		Security:    auth.Requirement(auth.ScopeRead),
		Method:      http.MethodGet,
		Path:        "/api/recommendations",
		Summary:     "Recommend movies for a user",
		Description: "Walks four tiers and answers from the first that can: the cache, the user's real-time " +
			"preference vector (nearest movies by inner product), the list precomputed by the last training, " +
			"and time-decayed popular movies. Movies the user has interacted with are never recommended, nor are hidden or deleted ones. " +
			"A failing tier is skipped; 503 only when none can answer.\n\n" +
			"With genre or exclude the list holds n movies that pass whenever the tiers have them: each tier filters, and one that comes up " +
			"short gives way to the next (the vector search keeps walking its index until n pass). A filtered list is never cached; " +
			"it is served from the cache only when n items of the cached list pass.",
		Tags:      []string{"recommendations"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The list, the tier that served it, and its rec_log_id.", exampleRecommendations()),
	}, func(ctx context.Context, in *recommendationsInput) (*recommendationsOutput, error) {
		user, err := domain.ParseUserID(in.UserID)
		if err != nil {
			return nil, huma.Error422UnprocessableEntity("invalid user_id", fieldDetails("query", err)...)
		}
		s, err := d.Recommender.RecommendFiltered(ctx, user, in.N, in.filter, in.Explain)
		if err != nil {
			return nil, d.serverError(ctx, "no tier could answer", err)
		}
		return &recommendationsOutput{Body: Recommendations{
			UserID: string(s.UserID), Items: items(s.List.Items), Tier: string(s.ServedBy), SourceTier: string(s.List.Tier),
			ModelVersion: s.List.ModelVersion, RecLogID: s.RecLogID, GeneratedAt: s.List.GeneratedAt, ServedAt: s.ServedAt,
		}}, nil
	})
	problemExamples(api, http.MethodGet, "/api/recommendations",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.genre", Message: "each genre must be 1 to 50 bytes", Value: ""}),
		exampleServerProblem(http.StatusServiceUnavailable, "no tier could answer"))

	huma.Register(api, huma.Operation{
		OperationID: "get-popular",
		Security:    auth.Requirement(auth.ScopeRead),
		Method:      http.MethodGet,
		Path:        "/api/popular",
		Summary:     "Popular movies",
		Description: "Movies ranked by time-decayed interest (each event's weight halves every week by default), " +
			"for everyone: unlike a user's recommendations, nothing the user saw is excluded; hidden and deleted movies never appear. " +
			"With genre, the ranking is read deeper until n movies of those genres are found.",
		Tags:      []string{"recommendations"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "The most popular movies, best first.", PopularList{Items: exampleItems, GeneratedAt: exampleTime}),
	}, func(ctx context.Context, in *popularInput) (*popularOutput, error) {
		now := d.Now()
		top, err := d.popularFiltered(ctx, in.N, in.filter)
		if err != nil {
			return nil, d.serverError(ctx, "popular movies unavailable", err)
		}
		if err := addTitles(ctx, d, top); err != nil && !errors.Is(err, context.Canceled) {
			return nil, d.serverError(ctx, "catalog unavailable", err)
		}
		return &popularOutput{Body: PopularList{Items: items(top), GeneratedAt: now}}, nil
	})
	problemExamples(api, http.MethodGet, "/api/popular",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.n", Message: "expected number <= 100", Value: 500}))
}

func items(ms []domain.ScoredMovie) []RecItem {
	out := make([]RecItem, len(ms))
	for i, m := range ms {
		out[i] = RecItem{Rank: i + 1, MovieID: string(m.MovieID), Title: m.Title, Score: m.Score}
		for _, r := range m.Because {
			out[i].Because = append(out[i].Because, Reason{MovieID: string(r.MovieID), Title: r.Title, Share: r.Share})
		}
	}
	return out
}

func addTitles(ctx context.Context, d Deps, ms []domain.ScoredMovie) error {
	ids := make([]domain.MovieID, len(ms))
	for i, m := range ms {
		ids[i] = m.MovieID
	}
	movies, err := d.Catalog.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	for i := range ms {
		ms[i].Title = movies[ms[i].MovieID].Title
	}
	return nil
}

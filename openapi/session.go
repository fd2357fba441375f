package openapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
)

// SessionRecommender serves anonymous sessions (the actor system).
type SessionRecommender interface {
	RecommendSession(ctx context.Context, session domain.UserID, weights map[domain.MovieID]float64, n int) (domain.Served, error)
}

// MaxSessionItems bounds the interactions of one session request.
const MaxSessionItems = 100

// SessionItem is one interaction of an anonymous session.
type SessionItem struct {
	MovieID string   `json:"movie_id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"alien-1979"`
	Type    string   `json:"type" enum:"view,click,like,dislike,rating,watch_complete,add_to_list" example:"watch_complete"`
	Value   *float64 `json:"value,omitempty" example:"4.5" doc:"For a rating, the rating (0.5 to 5, required)."`
}

// SessionRequest is what an anonymous session did.
type SessionRequest struct {
	SessionID string        `json:"session_id,omitempty" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"sess-7f3a" doc:"Id the served list is logged under (generated when absent); send it as user_id with the events the list leads to, and as session_id again to keep one session's lists together."`
	Items     []SessionItem `json:"items" minItems:"1" maxItems:"100" doc:"The session's interactions, oldest first (up to 100); a movie may appear more than once, its weights add up."`
	N         int           `json:"n,omitempty" minimum:"1" maximum:"100" default:"10" example:"10" doc:"How many movies (1 to 100)."`
}

// SessionRecommendations is the answer for a session.
type SessionRecommendations struct {
	SessionID    string    `json:"session_id" example:"sess-7f3a"`
	Items        []RecItem `json:"items"`
	SourceTier   string    `json:"source_tier" enum:"vector,popular" example:"vector" doc:"vector: the fold-in of the session against the serving model; popular: no model yet, or no movie of the session in it."`
	ModelVersion string    `json:"model_version,omitempty" example:"als-20261129-020000"`
	RecLogID     string    `json:"rec_log_id" example:"01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f" doc:"Id of this impression (tier session in analytics)."`
}

type sessionInput struct {
	Body SessionRequest
}

type sessionOutput struct {
	Body SessionRecommendations
}

func registerSession(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "post-session-recommendations",
		Security:    auth.Requirement(auth.ScopeRead),
		Method:      http.MethodPost,
		Path:        "/api/recommendations/session",
		Summary:     "Recommend movies for an anonymous session",
		Description: "Recommends from what a visitor without a user id did in this session: the interactions are weighed " +
			"as events would be (MARQUEE_WEIGHTS), folded in against the serving model exactly as a user's history is, " +
			"and the nearest movies are returned, none of the session's. Without a model (or without a positive " +
			"interaction with a movie it knows) the answer is popular movies minus the session's. Nothing is stored " +
			"but the served list, logged with tier session and a rec_log_id like any other.",
		Tags:         []string{"recommendations"},
		MaxBodyBytes: 64 << 10,
		RequestBody: jsonBody(SessionRequest{SessionID: "sess-7f3a", N: 10, Items: []SessionItem{
			{MovieID: "alien-1979", Type: "watch_complete"}, {MovieID: "the-thing-1982", Type: "click"}}}),
		Errors:        []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		DefaultStatus: http.StatusOK,
		Responses:     success(http.StatusOK, "The list for the session.", exampleSession()),
	}, func(ctx context.Context, in *sessionInput) (*sessionOutput, error) {
		return sessionRecommendations(ctx, d, &in.Body)
	})
	problemExamples(api, http.MethodPost, "/api/recommendations/session",
		exampleProblem(http.StatusUnprocessableEntity, "invalid session",
			&huma.ErrorDetail{Location: "body.items[0].value", Message: "is required for a rating"}))
}

func sessionRecommendations(ctx context.Context, d Deps, req *SessionRequest) (*sessionOutput, error) {
	if d.Sessions == nil {
		return nil, d.fail(ctx, http.StatusServiceUnavailable, "sessions are not served by this node", fmt.Errorf("no session recommender"), false)
	}
	id := req.SessionID
	if id == "" {
		id = "session-" + uuid.Must(uuid.NewV7()).String()
	}
	session, err := domain.ParseUserID(id)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("invalid session", fieldDetails("body.session_id", err)...)
	}
	n := req.N
	if n == 0 {
		n = domain.DefaultListSize
	}
	now := d.Now()
	weights := make(map[domain.MovieID]float64, len(req.Items))
	var details []error
	for i, it := range req.Items {
		ev, err := domain.NewInteraction(domain.EventInput{EventID: "session", UserID: id, MovieID: it.MovieID, Type: it.Type, Value: it.Value}, d.Weights, now)
		if err != nil {
			details = append(details, fieldDetails(fmt.Sprintf("body.items[%d]", i), err)...)
			continue
		}
		weights[ev.MovieID] += ev.Weight
	}
	if len(details) > 0 {
		return nil, huma.Error422UnprocessableEntity("invalid session", details...)
	}
	s, err := d.Sessions.RecommendSession(ctx, session, weights, n)
	if err != nil {
		return nil, d.serverError(ctx, "no tier could answer", err)
	}
	return &sessionOutput{Body: SessionRecommendations{
		SessionID: id, Items: items(s.List.Items), SourceTier: string(s.List.Tier), ModelVersion: s.List.ModelVersion, RecLogID: s.RecLogID,
	}}, nil
}

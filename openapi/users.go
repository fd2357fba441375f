package openapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
)

// HistoryEvent is one stored interaction.
type HistoryEvent struct {
	EventID    string    `json:"event_id"`
	MovieID    string    `json:"movie_id"`
	Type       string    `json:"type"`
	Value      *float64  `json:"value,omitempty"`
	Weight     float64   `json:"weight" doc:"Implicit-feedback weight the event counts with."`
	Timestamp  time.Time `json:"timestamp"`
	RecLogID   string    `json:"rec_log_id,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
}

type historyInput struct {
	ID    string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"user_123" doc:"User id."`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"At most this many events, newest first."`
}

type historyOutput struct {
	Body struct {
		UserID string         `json:"user_id"`
		Events []HistoryEvent `json:"events"`
		Total  int            `json:"total" doc:"Events stored for the user in the hot table."`
	}
}

func registerUsers(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "get-user-history", Method: http.MethodGet, Path: "/api/users/{id}/history", Security: auth.Requirement(auth.ScopeRead),
		Summary:     "A user's recent interactions",
		Description: "Interactions stored for the user in the hot table, newest first. Events are applied within milliseconds of their 202.",
		Tags:        []string{"users"},
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses:   success(http.StatusOK, "The newest events and how many are stored.", exampleHistory()),
	}, func(ctx context.Context, in *historyInput) (*historyOutput, error) {
		h, err := d.History.UserHistory(ctx, domain.UserID(in.ID))
		if err != nil {
			return nil, d.serverError(ctx, "history unavailable", err)
		}
		out := &historyOutput{}
		out.Body.UserID, out.Body.Total = in.ID, len(h)
		out.Body.Events = make([]HistoryEvent, 0, min(in.Limit, len(h)))
		for i := len(h) - 1; i >= 0 && len(out.Body.Events) < in.Limit; i-- {
			ev := h[i]
			out.Body.Events = append(out.Body.Events, HistoryEvent{
				EventID: ev.EventID, MovieID: string(ev.MovieID), Type: string(ev.Type), Value: ev.Value,
				Weight: ev.Weight, Timestamp: ev.Time, RecLogID: ev.RecLogID, IngestedAt: ev.IngestedAt,
			})
		}
		return out, nil
	})
	problemExamples(api, http.MethodGet, "/api/users/{id}/history",
		exampleProblem(http.StatusUnprocessableEntity, "validation failed",
			&huma.ErrorDetail{Location: "query.limit", Message: "expected number >= 1", Value: 0}))
}

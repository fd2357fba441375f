package openapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
)

// Eraser deletes users and their events (the actor system).
type Eraser interface {
	DeleteUser(ctx context.Context, user domain.UserID) (actors.ErasureReport, error)
	DeleteEvent(ctx context.Context, user domain.UserID, eventID string) (bool, error)
}

type deleteUserInput struct {
	ID string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"user_123" doc:"User id."`
}

type deleteUserOutput struct {
	Body actors.ErasureReport
}

type deleteEventInput struct {
	ID      string `path:"id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"user_123" doc:"User id."`
	EventID string `path:"event_id" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9_.:@-]{1,128}$" example:"evt-3f9a2c" doc:"The event's id, as stored (GET /api/users/{id}/history lists them)."`
}

func registerErase(api huma.API, d Deps) {
	huma.Register(api, huma.Operation{
		OperationID: "delete-user", Method: http.MethodDelete, Path: "/api/users/{id}", Security: auth.Requirement(auth.ScopeAdmin),
		Summary: "Delete a user (right to be forgotten)",
		Description: "Deletes everything Marquee holds of the user: their interactions in the hot table and in the archive (every " +
			"Parquet file holding one is rewritten without them, verified and swapped in), their archived totals, profile " +
			"(preference vector), precomputed and cached lists (on every node, the near copies included), served lists, " +
			"feedback and freshness samples. Their live actor forgets them. A tombstone records the instant of the deletion, " +
			"so that their events ingested before it (still in the event stream, say) are dropped whenever they arrive and " +
			"never reach a later training; it is kept 30 days after the deletion is done. Events ingested after it are the " +
			"user's new activity. Popularity, an aggregate over all users, keeps their part.\n\n" +
			"Answers once everything is deleted, with what was. Idempotent: deleting a user Marquee holds nothing of answers " +
			"200 with zero counts. A 503 means the deletion stopped midway (the tombstone already holds): call it again to " +
			"complete it.",
		Tags:      []string{"users"},
		Errors:    []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
		Responses: success(http.StatusOK, "What was deleted.", exampleErasure()),
	}, func(ctx context.Context, in *deleteUserInput) (*deleteUserOutput, error) {
		if d.Eraser == nil {
			return nil, d.fail(ctx, http.StatusServiceUnavailable, actors.ErrErasureDisabled.Error(), actors.ErrErasureDisabled, false)
		}
		rep, err := d.Eraser.DeleteUser(ctx, domain.UserID(in.ID))
		if errors.Is(err, actors.ErrErasureDisabled) {
			return nil, d.fail(ctx, http.StatusServiceUnavailable, actors.ErrErasureDisabled.Error(), err, false)
		}
		if err != nil {
			return nil, d.fail(ctx, http.StatusServiceUnavailable, "the deletion stopped midway; call it again to complete it", err, true)
		}
		return &deleteUserOutput{Body: rep}, nil
	})
	problemExamples(api, http.MethodDelete, "/api/users/{id}",
		exampleServerProblem(http.StatusServiceUnavailable, "the deletion stopped midway; call it again to complete it"))

	huma.Register(api, huma.Operation{
		OperationID: "delete-user-event", Method: http.MethodDelete, Path: "/api/users/{id}/events/{event_id}",
		Security: auth.RequirementAny(auth.ScopeIngest, auth.ScopeAdmin),
		Summary:  "Delete one event of a user",
		Description: "Deletes the event from the hot table and from the archive (its file is rewritten without it), with its " +
			"feedback and freshness sample, and recomputes the user: the seen set, the preference vector (stored), and the " +
			"cache is invalidated, so the next list is as if the event had never been sent. A key with the ingest scope may " +
			"call it (a client takes back what it sent), as may one with admin. Idempotent: an event that is gone, or never " +
			"was the user's, answers 204 too. The event's part in popularity stays.",
		Tags:          []string{"users"},
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *deleteEventInput) (*struct{}, error) {
		if d.Eraser == nil {
			return nil, d.fail(ctx, http.StatusServiceUnavailable, actors.ErrErasureDisabled.Error(), actors.ErrErasureDisabled, false)
		}
		if _, err := d.Eraser.DeleteEvent(ctx, domain.UserID(in.ID), in.EventID); err != nil {
			return nil, d.serverError(ctx, "the event could not be deleted", err)
		}
		return nil, nil
	})
}

func exampleErasure() actors.ErasureReport {
	return actors.ErasureReport{UserID: "user_123", DeletedAt: exampleTime.Add(10 * time.Minute), HotEvents: 12, ArchivedEvents: 87, FilesRewritten: 3}
}

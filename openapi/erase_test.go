package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/actors"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// recordingEraser answers deletions as told and records them.
type recordingEraser struct {
	mu      sync.Mutex
	users   []domain.UserID
	events  []string
	err     error
	deleted int
}

func (e *recordingEraser) DeleteUser(_ context.Context, u domain.UserID) (actors.ErasureReport, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users = append(e.users, u)
	return actors.ErasureReport{UserID: string(u), HotEvents: e.deleted, DeletedAt: now}, e.err
}

func (e *recordingEraser) DeleteEvent(_ context.Context, u domain.UserID, id string) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, string(u)+"/"+id)
	return e.deleted > 0, e.err
}

func TestDeleteUserAndEvent(t *testing.T) {
	t.Parallel()
	er := &recordingEraser{deleted: 3}
	api, _ := newAPI(t, func(d *Deps) { d.Eraser = er })
	resp := api.Delete("/api/users/user_1")
	var rep actors.ErasureReport
	if resp.Code != http.StatusOK || json.Unmarshal(resp.Body.Bytes(), &rep) != nil || rep.UserID != "user_1" || rep.HotEvents != 3 {
		t.Fatalf("delete user: %d %s", resp.Code, resp.Body.String())
	}
	if resp := api.Delete("/api/users/user_1/events/evt-1"); resp.Code != http.StatusNoContent {
		t.Fatalf("delete event: %d %s", resp.Code, resp.Body.String())
	}
	// Gone already: the same answers (idempotent).
	er.deleted = 0
	if resp := api.Delete("/api/users/user_1"); resp.Code != http.StatusOK {
		t.Fatalf("delete a user again: %d", resp.Code)
	}
	if resp := api.Delete("/api/users/user_1/events/evt-1"); resp.Code != http.StatusNoContent {
		t.Fatalf("delete an event again: %d", resp.Code)
	}
	if len(er.users) != 2 || er.events[0] != "user_1/evt-1" {
		t.Fatalf("calls: %v %v", er.users, er.events)
	}
	for _, tc := range []struct{ path, location string }{
		{"/api/users/a%20b", "path.id"},
		{"/api/users/a%20b/events/e1", "path.id"},
		{"/api/users/u1/events/e%201", "path.event_id"},
	} {
		resp := api.Delete(tc.path)
		p := decodeProblem(t, resp.Body.String())
		if resp.Code != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Location != tc.location {
			t.Fatalf("%s: %d %s, want 422 naming %s", tc.path, resp.Code, resp.Body.String(), tc.location)
		}
	}
}

func TestDeletionFailures(t *testing.T) {
	t.Parallel()
	er := &recordingEraser{err: fmt.Errorf("redis: forget: dial tcp 10.0.0.7:6379: %w", ports.ErrUnavailable)}
	api, _ := newAPI(t, func(d *Deps) { d.Eraser = er })
	resp := api.Delete("/api/users/user_1")
	p := decodeProblem(t, resp.Body.String())
	if resp.Code != http.StatusServiceUnavailable || p.Detail != "the deletion stopped midway; call it again to complete it" ||
		resp.Header().Get("Retry-After") == "" || resp.Header().Get(HeaderCorrelationID) == "" {
		t.Fatalf("a deletion that failed midway: %d %s", resp.Code, resp.Body.String())
	}
	if resp := api.Delete("/api/users/user_1/events/e1"); resp.Code != http.StatusServiceUnavailable {
		t.Fatalf("an event deletion that failed: %d", resp.Code)
	}
	// A node without deletion says so.
	off, _ := newAPI(t, func(d *Deps) { d.Eraser = &recordingEraser{err: actors.ErrErasureDisabled} })
	if resp := off.Delete("/api/users/user_1"); resp.Code != http.StatusServiceUnavailable ||
		decodeProblem(t, resp.Body.String()).Detail != actors.ErrErasureDisabled.Error() {
		t.Fatalf("deletion disabled: %d %s", resp.Code, resp.Body.String())
	}
}

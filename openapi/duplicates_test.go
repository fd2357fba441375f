package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
	"github.com/marquee-recsys/marquee/telemetry"
)

// lookupLog is an interaction log whose lookups can fail and are recorded.
type lookupLog struct {
	*memory.InteractionLog
	err   error
	mu    sync.Mutex
	asked [][]string
}

func (l *lookupLog) Lookup(ctx context.Context, ids []string) (map[string]domain.Interaction, error) {
	l.mu.Lock()
	l.asked = append(l.asked, slices.Clone(ids))
	l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	return l.InteractionLog.Lookup(ctx, ids)
}

// storedEvent is the event "e1" as the log holds it: a rating of m1 by u1
// at 11:00, from list rl-1.
func storedEvent() domain.Interaction {
	v := 4.0
	ts := now.Add(-time.Hour)
	return domain.Interaction{EventID: "e1", UserID: "u1", MovieID: "m1", Type: domain.EventRating, Value: &v,
		Weight: 4, Time: ts, RecLogID: "rl-1", IngestedAt: ts}
}

type eventsAnswer struct {
	Accepted, Rejected int
	Results            []EventResult
}

func TestReusedEventIDs(t *testing.T) {
	t.Parallel()
	const stored = `"event_id":"e1","user_id":"u1","movie_id":"m1","type":"rating","value":4,"rec_log_id":"rl-1"`
	tests := []struct {
		name      string
		body      string
		status    int
		statuses  []string // per item, for a 202
		published []string // event ids published, in order
		problem   string   // a 409 or 422 detail must contain this
		locations []string // and name these locations
	}{
		{name: "identical resend", body: `{` + stored + `}`, status: 202, statuses: []string{"accepted"}},
		{name: "identical resend stating the stored timestamp", body: `{` + stored + `,"timestamp":"2026-11-29T11:00:00Z"}`,
			status: 202, statuses: []string{"accepted"}},
		{name: "resend stating another timestamp", body: `{` + stored + `,"timestamp":"2026-11-29T11:00:01Z"}`,
			status: 409, problem: `event_id "e1"`, locations: []string{"body.event_id"}},
		{name: "another movie", body: `{"event_id":"e1","user_id":"u1","movie_id":"m2","type":"rating","value":4,"rec_log_id":"rl-1"}`,
			status: 409, problem: `event_id "e1" was already used`, locations: []string{"body.event_id"}},
		{name: "another user", body: `{"event_id":"e1","user_id":"u2","movie_id":"m1","type":"rating","value":4,"rec_log_id":"rl-1"}`,
			status: 409, locations: []string{"body.event_id"}},
		{name: "another value", body: `{"event_id":"e1","user_id":"u1","movie_id":"m1","type":"rating","value":3,"rec_log_id":"rl-1"}`,
			status: 409, locations: []string{"body.event_id"}},
		{name: "another type", body: `{"event_id":"e1","user_id":"u1","movie_id":"m1","type":"view","value":4,"rec_log_id":"rl-1"}`,
			status: 409, locations: []string{"body.event_id"}},
		{name: "no rec_log_id", body: `{"event_id":"e1","user_id":"u1","movie_id":"m1","type":"rating","value":4}`,
			status: 409, locations: []string{"body.event_id"}},
		{name: "a new id", body: `{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}`, status: 202,
			statuses: []string{"accepted"}, published: []string{"e2"}},
		{name: "batch: a duplicate beside a new event", body: `{"events":[{"event_id":"e1","user_id":"u1","movie_id":"m3","type":"click"},
			{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}]}`,
			status: 202, statuses: []string{"duplicate", "accepted"}, published: []string{"e2"}},
		{name: "batch: one id twice, different events", body: `{"events":[{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"},
			{"event_id":"e2","user_id":"u1","movie_id":"m3","type":"click"}]}`,
			status: 202, statuses: []string{"accepted", "duplicate"}, published: []string{"e2"}},
		{name: "batch: one id twice, the same event", body: `{"events":[{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"},
			{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}]}`,
			status: 202, statuses: []string{"accepted", "accepted"}, published: []string{"e2"}},
		{name: "batch: a resend and its stored twin", body: `{"events":[{` + stored + `},{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}]}`,
			status: 202, statuses: []string{"accepted", "accepted"}, published: []string{"e2"}},
		{name: "batch: only duplicates", body: `{"events":[{"event_id":"e1","user_id":"u1","movie_id":"m3","type":"click"},
			{"event_id":"e1","user_id":"u9","movie_id":"m1","type":"click"}]}`,
			status: 409, problem: "every event reuses an event_id", locations: []string{"body.events[0].event_id", "body.events[1].event_id"}},
		{name: "batch: a duplicate and an invalid event", body: `{"events":[{"event_id":"e1","user_id":"u1","movie_id":"m3","type":"click"},
			{"event_id":"e3","user_id":"u1","movie_id":"m1","type":"explode"}]}`,
			status: 422, problem: "no event in the request is valid", locations: []string{"body.events[0].event_id", "body.events[1].type"}},
		{name: "batch: an invalid event does not claim its id", body: `{"events":[{"event_id":"e2","user_id":"u1","movie_id":"m1","type":"explode"},
			{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}]}`,
			status: 202, statuses: []string{"rejected", "accepted"}, published: []string{"e2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log := &lookupLog{InteractionLog: memory.NewInteractionLog()}
			if _, err := log.Append(context.Background(), storedEvent()); err != nil {
				t.Fatal(err)
			}
			api, pub := newAPI(t, func(d *Deps) { d.History = log })
			resp := api.Post("/api/events", strings.NewReader(tt.body))
			if resp.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Code, tt.status, resp.Body.String())
			}
			var published []string
			for _, ev := range pub.events {
				published = append(published, ev.EventID)
			}
			if !slices.Equal(published, tt.published) {
				t.Fatalf("published %v, want %v", published, tt.published)
			}
			if tt.status != 202 {
				p := decodeProblem(t, resp.Body.String())
				if !strings.Contains(p.Detail, tt.problem) {
					t.Fatalf("detail %q does not say %q", p.Detail, tt.problem)
				}
				for _, loc := range tt.locations {
					if !slices.ContainsFunc(p.Errors, func(e struct{ Location, Message string }) bool { return e.Location == loc }) {
						t.Fatalf("problem does not name %s: %s", loc, resp.Body.String())
					}
				}
				return
			}
			var out eventsAnswer
			if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			var statuses []string
			for _, r := range out.Results {
				statuses = append(statuses, r.Status)
			}
			if !slices.Equal(statuses, tt.statuses) {
				t.Fatalf("statuses %v, want %v: %s", statuses, tt.statuses, resp.Body.String())
			}
			for _, r := range out.Results {
				if r.Status == "duplicate" && (len(r.Errors) == 0 || !strings.HasSuffix(r.Errors[0].Location, ".event_id")) {
					t.Fatalf("a duplicate without the reason: %+v", r)
				}
			}
		})
	}
}

func TestEventIDCheck(t *testing.T) {
	t.Parallel()
	t.Run("only client ids are looked up", func(t *testing.T) {
		t.Parallel()
		log := &lookupLog{InteractionLog: memory.NewInteractionLog()}
		api, pub := newAPI(t, func(d *Deps) { d.History = log })
		resp := api.Post("/api/events", strings.NewReader(`{"events":[{"user_id":"u1","movie_id":"m1","type":"click"},
			{"event_id":"mine","user_id":"u1","movie_id":"m2","type":"click"},{"event_id":"mine","user_id":"u1","movie_id":"m2","type":"click"}]}`))
		if resp.Code != 202 || len(pub.events) != 2 {
			t.Fatalf("status %d, %d published: %s", resp.Code, len(pub.events), resp.Body.String())
		}
		if len(log.asked) != 1 || !slices.Equal(log.asked[0], []string{"mine"}) {
			t.Fatalf("looked up %v, want [[mine]]", log.asked)
		}
		if resp := api.Post("/api/events", strings.NewReader(`{"user_id":"u1","movie_id":"m1","type":"click"}`)); resp.Code != 202 || len(log.asked) != 1 {
			t.Fatalf("an event without an id: %d, looked up %v", resp.Code, log.asked)
		}
	})
	t.Run("with the database down the events are accepted and the skip counted", func(t *testing.T) {
		t.Parallel()
		log := &lookupLog{InteractionLog: memory.NewInteractionLog(), err: fmt.Errorf("postgres: look up events: %w", ports.ErrUnavailable)}
		if _, err := log.Append(context.Background(), storedEvent()); err != nil {
			t.Fatal(err)
		}
		m := telemetry.New()
		api, pub := newAPI(t, func(d *Deps) { d.History, d.Metrics = log, m })
		resp := api.Post("/api/events", strings.NewReader(`{"event_id":"e1","user_id":"u1","movie_id":"m2","type":"click"}`))
		if resp.Code != 202 || len(pub.events) != 1 {
			t.Fatalf("status %d, %d published: %s", resp.Code, len(pub.events), resp.Body.String())
		}
		if n := testutil.ToFloat64(m.EventIDCheckSkipped); n != 1 {
			t.Fatalf("skipped checks counted %v, want 1", n)
		}
	})
	t.Run("another lookup failure accepts nothing", func(t *testing.T) {
		t.Parallel()
		log := &lookupLog{InteractionLog: memory.NewInteractionLog(), err: fmt.Errorf("postgres: look up events: syntax error")}
		api, pub := newAPI(t, func(d *Deps) { d.History = log })
		resp := api.Post("/api/events", strings.NewReader(`{"event_id":"e1","user_id":"u1","movie_id":"m2","type":"click"}`))
		if resp.Code != 500 || len(pub.events) != 0 {
			t.Fatalf("status %d, %d published: %s", resp.Code, len(pub.events), resp.Body.String())
		}
	})
	t.Run("duplicates are counted", func(t *testing.T) {
		t.Parallel()
		log := &lookupLog{InteractionLog: memory.NewInteractionLog()}
		if _, err := log.Append(context.Background(), storedEvent()); err != nil {
			t.Fatal(err)
		}
		m := telemetry.New()
		api, _ := newAPI(t, func(d *Deps) { d.History, d.Metrics = log, m })
		api.Post("/api/events", strings.NewReader(`{"events":[{"event_id":"e1","user_id":"u1","movie_id":"m3","type":"click"},
			{"event_id":"e2","user_id":"u1","movie_id":"m2","type":"click"}]}`))
		api.Post("/api/events", strings.NewReader(`{"event_id":"e1","user_id":"u1","movie_id":"m3","type":"click"}`))
		if n := testutil.ToFloat64(m.EventsRejected.WithLabelValues("duplicate")); n != 2 {
			t.Fatalf("duplicates counted %v, want 2", n)
		}
		if n := testutil.ToFloat64(m.EventsRejected.WithLabelValues("invalid")); n != 0 {
			t.Fatalf("invalid events counted %v, want 0", n)
		}
	})
}

package openapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
)

// sessionRecorder answers every session with one movie and keeps what it
// was asked.
type sessionRecorder struct {
	mu      sync.Mutex
	session domain.UserID
	weights map[domain.MovieID]float64
	n       int
}

func (s *sessionRecorder) RecommendSession(_ context.Context, session domain.UserID, weights map[domain.MovieID]float64, n int) (domain.Served, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.session, s.weights, s.n = session, weights, n
	return domain.Served{RecLogID: "rl-s", UserID: session, ServedBy: domain.TierSession, Requested: n,
		List: domain.RecList{Items: []domain.ScoredMovie{{MovieID: "m9", Score: 1}}, Tier: domain.TierVector, ModelVersion: "v3"}}, nil
}

func TestSessionRecommendations(t *testing.T) {
	t.Parallel()
	rec := &sessionRecorder{}
	api, _ := newAPI(t, func(d *Deps) { d.Sessions = rec })
	resp := api.Post("/api/recommendations/session", map[string]any{"session_id": "sess-1", "n": 5, "items": []map[string]any{
		{"movie_id": "m1", "type": "watch_complete"}, {"movie_id": "m2", "type": "rating", "value": 4.5},
		{"movie_id": "m1", "type": "like"}, {"movie_id": "m3", "type": "dislike"},
	}})
	if resp.Code != http.StatusOK {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	var out SessionRecommendations
	if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.SessionID != "sess-1" || out.RecLogID != "rl-s" || out.SourceTier != "vector" || out.ModelVersion != "v3" || len(out.Items) != 1 {
		t.Fatalf("answer %+v", out)
	}
	want := map[domain.MovieID]float64{"m1": 5 + 4, "m2": 4.5, "m3": -4}
	if rec.session != "sess-1" || rec.n != 5 || len(rec.weights) != 3 {
		t.Fatalf("asked for %s, n %d, weights %v", rec.session, rec.n, rec.weights)
	}
	for m, w := range want {
		if rec.weights[m] != w {
			t.Errorf("weight of %s = %v, want %v (the events' weights summed)", m, rec.weights[m], w)
		}
	}
	// Without a session id one is made, and echoed.
	resp = api.Post("/api/recommendations/session", map[string]any{"items": []map[string]any{{"movie_id": "m1", "type": "click"}}})
	if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil || resp.Code != http.StatusOK || !strings.HasPrefix(out.SessionID, "session-") || rec.n != 10 {
		t.Fatalf("without an id: %d %s (n %d)", resp.Code, resp.Body, rec.n)
	}
}

func TestSessionRecommendationsRefuseBadInput(t *testing.T) {
	t.Parallel()
	api, _ := newAPI(t, func(d *Deps) { d.Sessions = &sessionRecorder{} })
	tests := []struct {
		name     string
		body     map[string]any
		location string
	}{
		{"no items", map[string]any{"items": []any{}}, "body.items"},
		{"unknown type", map[string]any{"items": []map[string]any{{"movie_id": "m1", "type": "buy"}}}, "body.items[0].type"},
		{"rating without value", map[string]any{"items": []map[string]any{{"movie_id": "m1", "type": "click"}, {"movie_id": "m2", "type": "rating"}}}, "body.items[1].value"},
		{"bad movie id", map[string]any{"items": []map[string]any{{"movie_id": "a b", "type": "click"}}}, "body.items[0].movie_id"},
		{"n too large", map[string]any{"n": 101, "items": []map[string]any{{"movie_id": "m1", "type": "click"}}}, "body.n"},
		{"bad session id", map[string]any{"session_id": "x/y", "items": []map[string]any{{"movie_id": "m1", "type": "click"}}}, "body.session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := api.Post("/api/recommendations/session", tt.body)
			if resp.Code != http.StatusUnprocessableEntity || !strings.Contains(resp.Body.String(), `"location":"`+tt.location) {
				t.Fatalf("%d %s, want 422 naming %s", resp.Code, resp.Body, tt.location)
			}
		})
	}
}

// explainingRecommender answers with reasons when asked for them.
type explainingRecommender struct{ fixedRecommender }

func (r explainingRecommender) RecommendFiltered(ctx context.Context, u domain.UserID, n int, f domain.Filter, explain bool) (domain.Served, error) {
	s, err := r.fixedRecommender.RecommendFiltered(ctx, u, n, f, explain)
	if explain {
		s.List.Items[0].Because = []domain.Reason{{MovieID: "m3", Title: "Movie 3", Share: 0.6}, {MovieID: "m2", Share: 0.2}}
	}
	return s, err
}

func TestExplainParameter(t *testing.T) {
	t.Parallel()
	api, _ := newAPI(t, func(d *Deps) { d.Recommender = explainingRecommender{} })
	for _, tc := range []struct {
		query string
		want  bool
	}{{"", false}, {"&explain=true", true}, {"&explain=false", false}} {
		resp := api.Get("/api/recommendations?user_id=u1&n=2" + tc.query)
		var out Recommendations
		if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil || resp.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.query, resp.Code, resp.Body)
		}
		if got := len(out.Items[0].Because) == 2 && out.Items[0].Because[0].Title == "Movie 3" && out.Items[0].Because[0].Share == 0.6; got != tc.want {
			t.Errorf("%q: reasons %+v", tc.query, out.Items[0].Because)
		}
	}
	if resp := api.Get("/api/recommendations?user_id=u1&explain=maybe"); resp.Code != http.StatusUnprocessableEntity || !strings.Contains(resp.Body.String(), "query.explain") {
		t.Fatalf("explain=maybe: %d %s", resp.Code, resp.Body)
	}
}

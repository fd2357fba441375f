package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/auth"
	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// recordingPublisher stands in for Kafka at the HTTP edge: these tests are
// about what the edge lets through, not about delivery.
type recordingPublisher struct {
	mu     sync.Mutex
	events []domain.Interaction
	err    error
}

func (p *recordingPublisher) Publish(_ context.Context, evs ...domain.Interaction) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.events = append(p.events, evs...)
	return nil
}

type fixedRecommender struct{ err error }

func (r fixedRecommender) RecommendFiltered(_ context.Context, u domain.UserID, n int, _ domain.Filter, _ bool) (domain.Served, error) {
	if r.err != nil {
		return domain.Served{}, r.err
	}
	items := []domain.ScoredMovie{{MovieID: "m1", Score: 0.9, Title: "One"}, {MovieID: "m2", Score: 0.5}}
	return domain.Served{RecLogID: "rl-1", UserID: u, ServedBy: domain.TierCache, ServedAt: now, Requested: n,
		List: domain.RecList{Items: items[:min(n, 2)], Tier: domain.TierVector, ModelVersion: "v7", GeneratedAt: now}}, nil
}

func newAPI(t *testing.T, mutate ...func(*Deps)) (humatest.TestAPI, *recordingPublisher) {
	t.Helper()
	return newGuardedAPI(t, nil, mutate...)
}

// newGuardedAPI is newAPI behind guard (none when nil), as bootstrap
// serves it.
func newGuardedAPI(t *testing.T, guard *auth.Guard, mutate ...func(*Deps)) (humatest.TestAPI, *recordingPublisher) {
	t.Helper()
	_, api := humatest.New(t, Config())
	if guard != nil {
		api.UseMiddleware(guard.Middleware(api))
	}
	pub := &recordingPublisher{}
	cat := memory.NewCatalog()
	for i := 1; i <= 3; i++ {
		if err := cat.Put(context.Background(), domain.Movie{ID: domain.MovieID(fmt.Sprint("m", i)), Title: fmt.Sprint("Movie ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	d := Deps{
		Publisher: pub, Recommender: fixedRecommender{}, Catalog: cat, Popular: memory.NewPopularStore(domain.DefaultPopularity()),
		History: memory.NewInteractionLog(), Weights: domain.DefaultWeights(), Now: func() time.Time { return now },
	}
	for _, m := range mutate {
		m(&d)
	}
	Register(api, d)
	return api, pub
}

type problem struct {
	Status   int
	Title    string
	Detail   string
	Instance string
	Errors   []struct {
		Location string
		Message  string
	}
}

func decodeProblem(t *testing.T, body string) problem {
	t.Helper()
	var p problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a problem document: %s", body)
	}
	return p
}

func TestPostEventsValidation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 129)
	tests := []struct {
		name     string
		body     string
		status   int
		location string // a location the problem must name
	}{
		{"valid click", `{"user_id":"user_1","movie_id":"m1","type":"click"}`, 202, ""},
		{"valid rating with time", `{"event_id":"e1","user_id":"user_1","movie_id":"m1","type":"rating","value":4.5,"timestamp":"2026-11-29T11:00:00Z"}`, 202, ""},
		{"unknown type", `{"user_id":"user_1","movie_id":"m1","type":"purchase"}`, 422, "body.type"},
		{"empty user", `{"user_id":"","movie_id":"m1","type":"click"}`, 422, "body.user_id"},
		{"over-long user", `{"user_id":"` + long + `","movie_id":"m1","type":"click"}`, 422, "body.user_id"},
		{"bad characters in movie", `{"user_id":"u1","movie_id":"m 1","type":"click"}`, 422, "body.movie_id"},
		{"over-long event id", `{"event_id":"` + long + `","user_id":"u1","movie_id":"m1","type":"click"}`, 422, "body.event_id"},
		{"rating without value", `{"user_id":"u1","movie_id":"m1","type":"rating"}`, 422, "body.value"},
		{"rating out of range", `{"user_id":"u1","movie_id":"m1","type":"rating","value":7}`, 422, "body.value"},
		{"negative value", `{"user_id":"u1","movie_id":"m1","type":"view","value":-1}`, 422, "body.value"},
		{"future timestamp", `{"user_id":"u1","movie_id":"m1","type":"click","timestamp":"2026-11-29T12:06:00Z"}`, 422, "body.timestamp"},
		{"timestamp before 1995", `{"user_id":"u1","movie_id":"m1","type":"click","timestamp":"1994-12-31T23:59:59Z"}`, 422, "body.timestamp"},
		{"malformed timestamp", `{"user_id":"u1","movie_id":"m1","type":"click","timestamp":"yesterday"}`, 422, "body.timestamp"},
		{"movie not in catalog", `{"user_id":"u1","movie_id":"m404","type":"click"}`, 422, "body.movie_id"},
		{"not json", `{"user_id":`, 422, "body"},
		{"empty batch", `{"events":[]}`, 422, "body.events"},
		{"batch item wrong type", `{"events":[{"user_id":"u1","movie_id":"m1","type":"click","value":"five"}]}`, 422, "body.events[0]"},
		{"unknown field", `{"user_id":"u1","movieId":"m1","type":"click"}`, 422, "body"},
		{"unknown field in a batch item", `{"events":[{"user_id":"u1","movie_id":"m1","type":"click","extra":1}]}`, 422, "body.events[0]"},
		{"unknown field beside events", `{"events":[{"user_id":"u1","movie_id":"m1","type":"click"}],"x":1}`, 422, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, pub := newAPI(t)
			resp := api.Post("/api/events", strings.NewReader(tt.body))
			if resp.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Code, tt.status, resp.Body.String())
			}
			if tt.status != 202 {
				if n := len(pub.events); n != 0 {
					t.Fatalf("%d malformed events reached the event stream", n)
				}
				if ct := resp.Header().Get("Content-Type"); !strings.Contains(ct, "problem+json") {
					t.Fatalf("content type %q, want a problem document", ct)
				}
			}
			if tt.location != "" {
				p := decodeProblem(t, resp.Body.String())
				found := false
				for _, e := range p.Errors {
					found = found || e.Location == tt.location
				}
				if !found {
					t.Fatalf("problem does not name %s: %s", tt.location, resp.Body.String())
				}
			}
		})
	}
}

func TestPostEventsBatchHasPerItemResults(t *testing.T) {
	t.Parallel()
	api, pub := newAPI(t)
	resp := api.Post("/api/events", strings.NewReader(`{"events":[
		{"event_id":"a","user_id":"u1","movie_id":"m1","type":"click"},
		{"event_id":"b","user_id":"u1","movie_id":"m2","type":"explode"},
		{"event_id":"c","user_id":"u2","movie_id":"m3","type":"like"}]}`))
	if resp.Code != 202 {
		t.Fatalf("status %d: %s", resp.Code, resp.Body.String())
	}
	var out struct {
		Accepted, Rejected int
		Results            []EventResult
	}
	if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Accepted != 2 || out.Rejected != 1 || out.Results[1].Status != "rejected" || out.Results[1].Errors[0].Location != "body.events[1].type" {
		t.Fatalf("results = %+v", out)
	}
	if len(pub.events) != 2 || pub.events[0].EventID != "a" || pub.events[1].EventID != "c" {
		t.Fatalf("published %+v", pub.events)
	}
	if pub.events[1].Weight != domain.DefaultWeights().Like {
		t.Fatalf("like weighed %v", pub.events[1].Weight)
	}
}

func TestPostEventsLimits(t *testing.T) {
	t.Parallel()
	api, pub := newAPI(t)
	one := `{"user_id":"u1","movie_id":"m1","type":"click"}`
	over := `{"events":[` + strings.TrimSuffix(strings.Repeat(one+",", MaxBatch+1), ",") + `]}`
	if resp := api.Post("/api/events", strings.NewReader(over)); resp.Code != 422 {
		t.Fatalf("batch of %d: status %d, want 422", MaxBatch+1, resp.Code)
	}
	huge := `{"user_id":"u1","movie_id":"m1","type":"click","rec_log_id":"` + strings.Repeat("a", 1<<20) + `"}`
	if resp := api.Post("/api/events", strings.NewReader(huge)); resp.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("body over 1 MiB: status %d, want 413", resp.Code)
	}
	full := `{"events":[` + strings.TrimSuffix(strings.Repeat(one+",", MaxBatch), ",") + `]}`
	if resp := api.Post("/api/events", strings.NewReader(full)); resp.Code != 202 {
		t.Fatalf("batch of %d: status %d: %.300s", MaxBatch, resp.Code, resp.Body.String())
	}
	if len(pub.events) != MaxBatch {
		t.Fatalf("published %d events", len(pub.events))
	}
}

func TestPostEventsWhenStreamIsDown(t *testing.T) {
	t.Parallel()
	api, pub := newAPI(t)
	pub.err = fmt.Errorf("kafka: %w", ports.ErrUnavailable)
	resp := api.Post("/api/events", strings.NewReader(`{"user_id":"u1","movie_id":"m1","type":"click"}`))
	if resp.Code != 503 || resp.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.Code, resp.Header().Get("Retry-After"))
	}
}

func TestUnknownMoviesAcceptedWhenConfigured(t *testing.T) {
	t.Parallel()
	api, pub := newAPI(t, func(d *Deps) { d.AcceptUnknownMovies = true })
	if resp := api.Post("/api/events", strings.NewReader(`{"user_id":"u1","movie_id":"m404","type":"click"}`)); resp.Code != 202 {
		t.Fatalf("status %d: %s", resp.Code, resp.Body.String())
	}
	if len(pub.events) != 1 {
		t.Fatal("event not published")
	}
}

func TestGetRecommendations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		query  string
		rec    Recommender
		status int
	}{
		{"ok", "user_id=user_1&n=2", fixedRecommender{}, 200},
		{"default n", "user_id=user_1", fixedRecommender{}, 200},
		{"n too large", "user_id=user_1&n=101", fixedRecommender{}, 422},
		{"n zero", "user_id=user_1&n=0", fixedRecommender{}, 422},
		{"missing user", "n=5", fixedRecommender{}, 422},
		{"bad user", "user_id=a%20b", fixedRecommender{}, 422},
		{"every tier down", "user_id=u1", fixedRecommender{err: fmt.Errorf("x: %w", ports.ErrUnavailable)}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, _ := newAPI(t, func(d *Deps) { d.Recommender = tt.rec })
			resp := api.Get("/api/recommendations?" + tt.query)
			if resp.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Code, tt.status, resp.Body.String())
			}
			if tt.status != 200 {
				return
			}
			var r Recommendations
			if err := json.Unmarshal(resp.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r.Tier != "cache" || r.SourceTier != "vector" || r.RecLogID != "rl-1" || r.ModelVersion != "v7" || r.Items[0].Rank != 1 || r.Items[0].Title != "One" {
				t.Fatalf("response = %+v", r)
			}
		})
	}
}

func TestMoviesAndHistory(t *testing.T) {
	t.Parallel()
	api, _ := newAPI(t)
	if resp := api.Put("/api/movies/dune-2021", map[string]any{"title": "Dune", "year": 2021, "genres": []string{"Sci-Fi"}}); resp.Code != 200 {
		t.Fatalf("put: %d %s", resp.Code, resp.Body.String())
	}
	resp := api.Get("/api/movies/dune-2021")
	if resp.Code != 200 || !strings.Contains(resp.Body.String(), `"title":"Dune"`) {
		t.Fatalf("get: %d %s", resp.Code, resp.Body.String())
	}
	if resp := api.Get("/api/movies/nope"); resp.Code != 404 {
		t.Fatalf("missing movie: %d", resp.Code)
	}
	if resp := api.Put("/api/movies/x", map[string]any{"title": "   "}); resp.Code != 422 {
		t.Fatalf("blank title: %d %s", resp.Code, resp.Body.String())
	}
	resp = api.Post("/api/movies", map[string]any{"movies": []map[string]any{{"id": "a1", "title": "A"}, {"id": "a2", "title": ""}}})
	if resp.Code != 422 || !strings.Contains(resp.Body.String(), "body.movies[1].title") {
		t.Fatalf("bulk with a bad movie: %d %s", resp.Code, resp.Body.String())
	}
	if resp := api.Get("/api/movies/a1"); resp.Code != 404 {
		t.Fatal("bulk is not all or nothing")
	}
	resp = api.Get("/api/movies?limit=2")
	if resp.Code != 200 || !strings.Contains(resp.Body.String(), `"next_after":"m1"`) {
		t.Fatalf("list: %d %s", resp.Code, resp.Body.String())
	}
	if resp := api.Get("/api/users/user_1/history"); resp.Code != 200 || !strings.Contains(resp.Body.String(), `"total":0`) {
		t.Fatalf("history: %d %s", resp.Code, resp.Body.String())
	}
}

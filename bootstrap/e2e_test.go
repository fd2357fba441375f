package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/postgres"
)

// feedbackCount counts the feedback rows attributed to a served list.
func feedbackCount(t *testing.T, app *App, recLogID string) int {
	switch a := app.Stores.Analytics.(type) {
	case *memory.Analytics:
		n := 0
		for _, fb := range a.Feedback() {
			if fb.RecLogID == recLogID {
				n++
			}
		}
		return n
	case *postgres.Analytics:
		n, err := a.FeedbackCount(context.Background(), recLogID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Fatalf("unknown analytics sink %T", app.Stores.Analytics)
	return 0
}

// startApp runs an embedded node on a free port.
func startApp(t *testing.T, demoUsers int) *App {
	t.Helper()
	return startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": fmt.Sprint(demoUsers)})
}

// startAppEnv runs a node on a free port configured by env.
func startAppEnv(t *testing.T, env map[string]string) *App {
	t.Helper()
	env["MARQUEE_HTTP_ADDR"] = "127.0.0.1:0"
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, cleanup, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		cleanup()
	})
	return app
}

type recs struct {
	Tier     string `json:"tier"`
	RecLogID string `json:"rec_log_id"`
	Items    []struct {
		MovieID string `json:"movie_id"`
	} `json:"items"`
}

func getRecs(t *testing.T, base, user string, n int) recs {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/recommendations?user_id=%s&n=%d", base, user, n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r recs
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&r) != nil {
		t.Fatalf("GET recommendations: %d", resp.StatusCode)
	}
	return r
}

func postEvents(t *testing.T, base string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/events", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func ids(r recs) []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.MovieID
	}
	return out
}

// TestEndToEnd drives the embedded node over HTTP the way the README does:
// a new user gets popular movies; after some horror events (HTTP → Kafka →
// user actor → fold-in) the next list comes from their vector, changed,
// and without the movies they saw.
func TestEndToEnd(t *testing.T) {
	endToEnd(t, startApp(t, 300))
}

func endToEnd(t *testing.T, app *App) {
	base := app.URL()

	first := getRecs(t, base, "newcomer", 10)
	if first.Tier != "popular" || len(first.Items) != 10 {
		t.Fatalf("a new user should get 10 popular movies, got %s %v", first.Tier, ids(first))
	}

	horror := []string{"the-shining-1980", "the-exorcist-1973", "halloween-1978", "alien-1979"}
	var events []map[string]any
	for i, m := range horror {
		events = append(events, map[string]any{"event_id": fmt.Sprint("e2e-", i), "user_id": "newcomer", "movie_id": m,
			"type": "watch_complete", "rec_log_id": first.RecLogID})
	}
	if code := postEvents(t, base, map[string]any{"events": events}); code != http.StatusAccepted {
		t.Fatalf("POST events: %d", code)
	}

	var after recs
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = getRecs(t, base, "newcomer", 10)
		if after.Tier == "vector" || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if after.Tier != "vector" {
		t.Fatalf("after four events the list still comes from %s", after.Tier)
	}
	if slices.Equal(ids(after), ids(first)) {
		t.Fatal("events did not change the recommendations")
	}
	for _, id := range ids(after) {
		if slices.Contains(horror, id) {
			t.Fatalf("seen movie %s recommended", id)
		}
	}

	// Retrying the same events (same event_id) changes nothing.
	if code := postEvents(t, base, map[string]any{"events": events}); code != http.StatusAccepted {
		t.Fatalf("retry: %d", code)
	}
	waitFor(t, "redelivered events seen as duplicates", func() bool { return testutil.ToFloat64(app.Metrics.EventsDup) == 4 })
	resp, err := http.Get(base + "/api/users/newcomer/history")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"total":4`) {
		t.Fatalf("history after a retried batch: %s", body)
	}

	// The cache answers the next request, and the served lists were logged
	// with the clicks attributed.
	if again := getRecs(t, base, "newcomer", 10); again.Tier != "cache" {
		t.Fatalf("repeat request served by %s, want cache", again.Tier)
	}
	waitFor(t, "served lists logged and feedback attributed", func() bool {
		for _, id := range []string{first.RecLogID} {
			if _, err := app.Stores.Analytics.ServedList(context.Background(), id); err != nil {
				return false
			}
		}
		return feedbackCount(t, app, first.RecLogID) == 4
	})
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/docs", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, resp.StatusCode)
		}
		resp.Body.Close()
	}
}

// TestBadInputNeverReachesKafka checks the edge on the real app: a
// malformed event is refused with a problem document and is not stored.
func TestBadInputNeverReachesKafka(t *testing.T) {
	app := startApp(t, 50)
	code := postEvents(t, app.URL(), map[string]any{"user_id": "u1", "movie_id": "no-such-movie", "type": "click"})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown movie: %d", code)
	}
	time.Sleep(100 * time.Millisecond)
	if n := app.Stores.Log.(interface{ Len() int }).Len(); n == 0 {
		t.Fatal("demo history missing")
	}
	h, _ := app.Stores.Log.UserHistory(context.Background(), "u1")
	if len(h) != 0 {
		t.Fatalf("rejected event was stored: %v", h)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTrainingOverHTTP starts a job through the admin API, follows it to
// the end and finds the new model serving in the registry.
func TestTrainingOverHTTP(t *testing.T) {
	app := startApp(t, 200)
	base := app.URL()
	resp, err := http.Post(base+"/api/admin/train", "application/json", strings.NewReader(`{"tune":false}`))
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Job     struct{ ID, State string }
		Started bool
	}
	err = json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted || !started.Started || started.Job.ID == "" {
		t.Fatalf("POST /api/admin/train: %d %+v %v", resp.StatusCode, started, err)
	}
	var job struct {
		State        string
		ModelVersion string `json:"model_version"`
		Iteration    int
		Promoted     bool
		Metrics      map[string]float64
	}
	waitFor(t, "the job to end", func() bool {
		r, err := http.Get(base + "/api/admin/train/" + started.Job.ID)
		if err != nil {
			return false
		}
		defer r.Body.Close()
		return json.NewDecoder(r.Body).Decode(&job) == nil && (job.State == "succeeded" || job.State == "failed")
	})
	if job.State != "succeeded" || !job.Promoted || job.Iteration != 15 || job.Metrics["ndcg@10"] <= job.Metrics["popularity_ndcg@10"] {
		t.Fatalf("job = %+v", job)
	}
	r, err := http.Get(base + "/api/admin/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), `"version":"`+job.ModelVersion+`"`) || !strings.Contains(string(body), `"status":"serving"`) ||
		!strings.Contains(string(body), `"status":"retired"`) {
		t.Fatalf("registry: %s", body)
	}
	r, err = http.Get(base + "/api/admin/train/train-nope")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown job: %d", r.StatusCode)
	}
}

package bootstrap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/adapters/memory"
	"github.com/marquee-recsys/marquee/adapters/postgres"
	"github.com/marquee-recsys/marquee/clients/go/marquee"
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
	withDataDir(t, env)
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

// withDataDir gives the embedded broker of a node on PostgreSQL a log
// directory of the test's, as such a node needs (Config.CheckDurability).
func withDataDir(t *testing.T, env map[string]string) {
	t.Helper()
	if env["MARQUEE_DATABASE_URL"] != "" && env["MARQUEE_KAFKA_BROKERS"] == "" && env["MARQUEE_KAFKA_DATA_DIR"] == "" {
		env["MARQUEE_KAFKA_DATA_DIR"] = t.TempDir()
	}
}

// client is the generated Go SDK pointed at app: the end-to-end tests
// talk to Marquee the way a client application does.
func client(t *testing.T, app *App) *marquee.ClientWithResponses {
	t.Helper()
	c, err := marquee.NewClientWithResponses(app.URL())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getRecs(t *testing.T, c *marquee.ClientWithResponses, user string, n int) *marquee.Recommendations {
	t.Helper()
	r, err := marquee.Check(c.GetRecommendationsWithResponse(context.Background(),
		&marquee.GetRecommendationsParams{UserID: user, N: new(int64(n))}))
	if err != nil {
		t.Fatalf("GET recommendations: %v", err)
	}
	return r.JSON200
}

// postEvents sends one event or a batch (events of more than one, or
// batch) and returns the status code.
func postEvents(t *testing.T, c *marquee.ClientWithResponses, batch bool, events ...marquee.EventIn) int {
	t.Helper()
	var body marquee.PostEventsJSONRequestBody
	var err error
	if batch || len(events) > 1 {
		body, err = marquee.EventBatch(events...)
	} else {
		body, err = marquee.SingleEvent(events[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.PostEventsWithResponse(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return r.StatusCode()
}

func ids(r *marquee.Recommendations) []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.MovieID
	}
	return out
}

// TestEndToEnd drives the embedded node over HTTP, through the generated Go
// SDK, the way the README does:
// a new user gets popular movies; after some horror events (HTTP → Kafka →
// user actor → fold-in) the next list comes from their vector, changed,
// and without the movies they saw.
func TestEndToEnd(t *testing.T) {
	endToEnd(t, startApp(t, 300))
}

func endToEnd(t *testing.T, app *App) {
	ctx := context.Background()
	c := client(t, app)

	first := getRecs(t, c, "newcomer", 10)
	if first.Tier != "popular" || len(first.Items) != 10 {
		t.Fatalf("a new user should get 10 popular movies, got %s %v", first.Tier, ids(first))
	}

	horror := []string{"the-shining-1980", "the-exorcist-1973", "halloween-1978", "alien-1979"}
	var events []marquee.EventIn
	for i, m := range horror {
		events = append(events, marquee.EventIn{EventID: new(fmt.Sprint("e2e-", i)), UserID: "newcomer", MovieID: m,
			Type: marquee.EventInTypeWatchComplete, RecLogID: &first.RecLogID})
	}
	if code := postEvents(t, c, true, events...); code != http.StatusAccepted {
		t.Fatalf("POST events: %d", code)
	}

	var after *marquee.Recommendations
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = getRecs(t, c, "newcomer", 10)
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

	// Retrying the same events (same event_id) changes nothing: they are
	// stored, so the edge answers them accepted without publishing them
	// again (a store would ignore them anyway).
	accepted := testutil.ToFloat64(app.Metrics.EventsAccepted)
	if code := postEvents(t, c, true, events...); code != http.StatusAccepted {
		t.Fatalf("retry: %d", code)
	}
	if n := testutil.ToFloat64(app.Metrics.EventsAccepted) - accepted; n != 4 {
		t.Fatalf("the retry accepted %v events, want 4", n)
	}
	hist, err := marquee.Check(c.GetUserHistoryWithResponse(ctx, "newcomer", nil))
	if err != nil {
		t.Fatal(err)
	}
	if hist.JSON200.Total != 4 {
		t.Fatalf("history after a retried batch: %s", hist.Body)
	}
	if n := testutil.ToFloat64(app.Metrics.EventsDup); n != 0 {
		t.Fatalf("%v resent events were published again and dropped by the store", n)
	}
	// The same id with another event is refused, naming the id.
	other := events[0]
	other.MovieID = horror[1]
	if code := postEvents(t, c, true, other); code != http.StatusConflict {
		t.Fatalf("a reused event_id: %d, want 409", code)
	}

	// The cache answers the next request, and the served lists were logged
	// with the clicks attributed.
	if again := getRecs(t, c, "newcomer", 10); again.Tier != "cache" {
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
	if live, err := marquee.Check(c.GetHealthzWithResponse(ctx)); err != nil || live.JSON200.Status != "ok" {
		t.Fatalf("GET /healthz: %v", err)
	}
	if ready, err := marquee.Check(c.GetReadyzWithResponse(ctx)); err != nil || ready.JSON200.Status != "ready" {
		t.Fatalf("GET /readyz: %v", err)
	}
	// Not operations of the contract, so not in the SDK: plain HTTP.
	for _, path := range []string{"/openapi.yaml", "/docs", "/metrics"} {
		resp, err := http.Get(app.URL() + path)
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
	code := postEvents(t, client(t, app), false, marquee.EventIn{UserID: "u1", MovieID: "no-such-movie", Type: marquee.EventInTypeClick})
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

// waitFor polls cond until it holds, failing the test after 30 s: far
// beyond what any condition takes on an idle machine, so that a loaded CI
// machine (an archive run took over 10 s there) slows a test, not fails it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTrainingOverHTTP starts a job through the admin API (with the SDK),
// follows it to the end and finds the new model serving in the registry.
func TestTrainingOverHTTP(t *testing.T) {
	app := startApp(t, 200)
	ctx := context.Background()
	c := client(t, app)
	resp, err := c.PostTrainWithResponse(ctx, marquee.Options{Tune: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != http.StatusAccepted || !resp.JSON202.Started || resp.JSON202.Job.ID == "" {
		t.Fatalf("POST /api/admin/train: %d %s", resp.StatusCode(), resp.Body)
	}
	started := resp.JSON202
	var job *marquee.Job
	waitFor(t, "the job to end", func() bool {
		r, err := marquee.Check(c.GetTrainJobWithResponse(ctx, started.Job.ID))
		if err != nil {
			return false
		}
		job = r.JSON200
		return job.State == "succeeded" || job.State == "failed"
	})
	if job.State != "succeeded" || !job.Promoted || job.Iteration != 15 || job.Metrics["ndcg@10"] <= job.Metrics["popularity_ndcg@10"] {
		t.Fatalf("job = %+v", job)
	}
	models, err := marquee.Check(c.ListModelsWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]bool{}
	found := false
	for _, m := range models.JSON200.Models {
		found = found || job.ModelVersion != nil && m.Version == *job.ModelVersion
		if m.Status != nil {
			statuses[*m.Status] = true
		}
	}
	if !found || !statuses["serving"] || !statuses["retired"] {
		t.Fatalf("registry: %s", models.Body)
	}
	r, err := c.GetTrainJobWithResponse(ctx, "train-nope")
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode() != http.StatusNotFound || r.ApplicationProblemJSON404 == nil {
		t.Fatalf("unknown job: %d", r.StatusCode())
	}
}

package bootstrap

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

// TestArchiveOverHTTP archives nearly all of the demo history through the
// admin API, then checks the two things that must survive archiving: a
// reloaded user's recommendations still leave out everything they saw, and
// training still sees every user (the loader reads the archive).
func TestArchiveOverHTTP(t *testing.T) {
	app := startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": "200", "MARQUEE_HOT_RETENTION": "1h",
		"MARQUEE_PASSIVATE_AFTER": "50ms", "MARQUEE_ARCHIVE_EVERY": "off"})
	ctx := context.Background()
	c := client(t, app)
	limit := int64(1000)
	hist, err := marquee.Check(c.GetUserHistoryWithResponse(ctx, "user_1", &marquee.GetUserHistoryParams{Limit: &limit}))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ev := range hist.JSON200.Events {
		seen = append(seen, ev.MovieID)
	}
	if len(seen) == 0 {
		t.Fatal("user_1 has no demo history")
	}

	run := archiveNow(t, c)
	if run.Error != nil || run.Rows == 0 || run.Files == 0 {
		t.Fatalf("archive run = %+v", run)
	}
	after, err := marquee.Check(c.GetUserHistoryWithResponse(ctx, "user_1", nil))
	if err != nil || after.JSON200.Total >= hist.JSON200.Total {
		t.Fatalf("hot history after archiving: %d events (was %d), %v", after.JSON200.Total, hist.JSON200.Total, err)
	}

	// Once user_1's actor has passivated, a fresh one reloads the archived part.
	waitFor(t, "user actors passivated", func() bool { return testutil.ToFloat64(app.Metrics.UserActors) == 0 })
	recs := getRecs(t, c, "user_1", 100)
	for _, id := range ids(recs) {
		if slices.Contains(seen, id) {
			t.Fatalf("archived movie %s recommended to user_1 (tier %s)", id, recs.Tier)
		}
	}

	job, err := marquee.Check(c.PostTrainWithResponse(ctx, marquee.Options{Tune: new(false)}))
	if err != nil {
		t.Fatal(err)
	}
	var done *marquee.Job
	waitFor(t, "training on the archive", func() bool {
		r, err := marquee.Check(c.GetTrainJobWithResponse(ctx, job.JSON202.Job.ID))
		if err != nil {
			return false
		}
		done = r.JSON200
		return done.State == "succeeded" || done.State == "failed"
	})
	if done.State != "succeeded" {
		t.Fatalf("training after archiving: %+v", done)
	}
	models, err := marquee.Check(c.ListModelsWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if m := models.JSON200.Models[0]; m.Users == nil || *m.Users != 200 {
		t.Fatalf("the model trained after archiving saw %v users, want all 200", m.Users)
	}
}

// archiveNow starts an archiving run through the admin API and waits for
// it to end.
func archiveNow(t *testing.T, c *marquee.ClientWithResponses) *marquee.ArchiveRun {
	t.Helper()
	ctx := context.Background()
	started, err := marquee.Check(c.PostArchiveWithResponse(ctx))
	if err != nil || started.StatusCode() != http.StatusAccepted {
		t.Fatalf("POST /api/admin/archive: %v", err)
	}
	var run *marquee.ArchiveRun
	waitFor(t, "the archive run to end", func() bool {
		st, err := marquee.Check(c.GetArchiveWithResponse(ctx))
		if err != nil || st.JSON200.Current == nil {
			return false
		}
		run = st.JSON200.Current
		return run.ID == started.JSON202.Run.ID && !run.Running
	})
	return run
}

package bootstrap

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/marquee-recsys/marquee/training"
)

// TestRollbackOverHTTP promotes by hand the model a training replaced
// (or a candidate the gate kept back): the node serves it within
// seconds, users' lists come from it, and an unknown version is a 404.
// With MARQUEE_MODEL_KEEP_CANDIDATES=0 the registry keeps only the
// serving model and the one a rollback returns to.
func TestRollbackOverHTTP(t *testing.T) {
	app := startAppEnv(t, map[string]string{"MARQUEE_DEMO_USERS": "200", "MARQUEE_MODEL_KEEP_CANDIDATES": "0"})
	ctx := context.Background()
	first := app.System.ServingModel()
	noTune := false
	var versions []string
	for range 2 {
		job, err := TrainAndWait(ctx, app.System, "rollback test", training.Options{Tune: &noTune}, nil)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, job.ModelVersion)
	}
	serving := app.System.ServingModel()
	models, err := app.Stores.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(models) > 2 {
		t.Fatalf("the registry keeps %d models with no candidates to keep, want the serving one and its rollback", len(models))
	}
	var target string
	for _, m := range models {
		if m.Version != serving {
			target = m.Version
		}
	}
	if target == "" {
		t.Fatalf("nothing to roll back to (first %s, trained %v, serving %s)", first, versions, serving)
	}

	r := send(t, http.MethodPost, app.URL()+"/api/admin/models/"+target+"/promote", "", "")
	if r.code != http.StatusOK || !strings.Contains(r.body, `"status":"serving"`) {
		t.Fatalf("promote %s: %d %s", target, r.code, r.body)
	}
	waitFor(t, "the node to serve "+target, func() bool { return app.System.ServingModel() == target })
	waitFor(t, "marquee_serving_model to say so", func() bool {
		return strings.Contains(metrics(t, app), `marquee_serving_model{version="`+target+`"} 1`) &&
			!strings.Contains(metrics(t, app), `marquee_serving_model{version="`+serving+`"}`)
	})
	for _, u := range []string{"user_1", "user_2", "user_3"} {
		var rec struct {
			Tier         string `json:"tier"`
			ModelVersion string `json:"model_version"`
		}
		got := send(t, http.MethodGet, app.URL()+"/api/recommendations?user_id="+u+"&n=5", "", "")
		if err := json.Unmarshal([]byte(got.body), &rec); err != nil || got.code != http.StatusOK {
			t.Fatalf("%s: %d %s", u, got.code, got.body)
		}
		if rec.ModelVersion != target {
			t.Errorf("%s is served %s from %q after the rollback to %s", u, rec.Tier, rec.ModelVersion, target)
		}
	}
	if r := send(t, http.MethodPost, app.URL()+"/api/admin/models/als-19990101-000000-000/promote", "", ""); r.code != http.StatusNotFound ||
		!strings.Contains(r.body, "keeps no model") {
		t.Fatalf("promote an unknown version: %d %s", r.code, r.body)
	}
}

// metrics returns the node's /metrics page.
func metrics(t *testing.T, app *App) string {
	t.Helper()
	resp, err := http.Get(app.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

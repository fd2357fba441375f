//go:build !race

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestClusterFollowsPromotions: a model promoted anywhere reaches every
// node of a three-node cluster within seconds, and from then on no node
// serves a list computed from the model it replaced; a profile refolded
// afterwards is never stored from the old model. The promotions come from
// a training started on one node's API, from `marquee train` run outside
// the cluster, and from a rollback through another node's API.
//
//	go test -count=1 -v -run TestClusterFollowsPromotions ./cmd/marquee/
func TestClusterFollowsPromotions(t *testing.T) {
	c := newTestCluster(t, 3, "MARQUEE_TRAIN_CRON=off", "MARQUEE_MODEL_POLL=2s")
	t.Cleanup(func() { dumpLogs(t, c) })
	c.startAll()
	const users = 90
	var ids []string
	for u := range users {
		var evs []map[string]any
		for k := range 8 {
			id := fmt.Sprintf("promo-%d-%d", u, k)
			ids = append(ids, id)
			evs = append(evs, map[string]any{"event_id": id, "user_id": fmt.Sprint("pu_", u), "movie_id": fmt.Sprint("m", (u*7+k*13)%120), "type": "like"})
		}
		postJSON(t, c.nodes[u%3].base()+"/api/events", map[string]any{"events": evs}, http.StatusAccepted)
	}
	if distinct, _ := c.waitStored(ids, 60*time.Second); distinct != len(ids) {
		t.Fatalf("%d of %d seed events stored", distinct, len(ids))
	}

	v1 := trainOnNode(t, c, 0)
	c.waitServing(t, v1, 10*time.Second, "a training started on node 0's API")
	served := c.serveAll(t, users)
	if served[v1] == 0 {
		t.Fatalf("no list came from %s: %v", v1, served)
	}

	cmd := exec.Command(marqueeBin, "train")
	cmd.Env = c.nodes[1].env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("marquee train: %v\n%s", err, out)
	}
	v2 := strings.Fields(strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "model "))[0]
	v2 = strings.TrimSuffix(v2, ":")
	if !strings.Contains(string(out), "promoted=true") {
		t.Fatalf("marquee train did not promote: %s", out)
	}
	c.waitServing(t, v2, 10*time.Second, "`marquee train` from outside the cluster")
	served = c.serveAll(t, users)
	if served[v1] > 0 || served[v2] == 0 {
		t.Fatalf("after %s was promoted, lists came from %v", v2, served)
	}
	c.checkProfiles(t, v2)

	postJSON(t, c.nodes[2].base()+"/api/admin/models/"+v1+"/promote", nil, http.StatusOK)
	c.waitServing(t, v1, 10*time.Second, "a rollback through node 2's API")
	served = c.serveAll(t, users)
	if served[v2] > 0 || served[v1] == 0 {
		t.Fatalf("after the rollback to %s, lists came from %v", v1, served)
	}
	c.checkProfiles(t, v1)
}

// trainOnNode starts a training job on node i and returns the version it
// promoted.
func trainOnNode(t *testing.T, c *testCluster, i int) string {
	t.Helper()
	var started struct {
		Job struct{ ID string } `json:"job"`
	}
	decode(t, postJSON(t, c.nodes[i].base()+"/api/admin/train", map[string]any{}, http.StatusAccepted), &started)
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var job struct {
			State, Error string
			ModelVersion string `json:"model_version"`
			Promoted     bool
		}
		r, err := http.Get(c.nodes[i].base() + "/api/admin/train/" + started.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		decode(t, r, &job)
		switch job.State {
		case "succeeded":
			if !job.Promoted {
				t.Fatalf("job %s succeeded without promoting", started.Job.ID)
			}
			return job.ModelVersion
		case "failed":
			t.Fatalf("job %s failed: %s", started.Job.ID, job.Error)
		}
	}
	t.Fatalf("job %s did not end in 90 s", started.Job.ID)
	return ""
}

// waitServing waits until every node's /metrics says it serves version.
func (c *testCluster) waitServing(t *testing.T, version string, within time.Duration, after string) {
	t.Helper()
	start := time.Now()
	want := `marquee_serving_model{version="` + version + `"} 1`
	for _, nd := range c.nodes {
		for !strings.Contains(scrape(t, nd), want) || strings.Count(scrape(t, nd), "marquee_serving_model{") != 1 {
			if time.Since(start) > within {
				t.Fatalf("node %d does not serve %s %v after %s:\n%s", nd.i, version, within, after, grep(scrape(t, nd), "marquee_serving_model"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("every node serves %s %v after %s", version, time.Since(start).Round(time.Millisecond), after)
}

// serveAll asks for every user's list (twice, from two nodes: the second
// answer may come from a cache) and counts the lists by model version.
func (c *testCluster) serveAll(t *testing.T, users int) map[string]int {
	t.Helper()
	by := map[string]int{}
	for round := range 2 {
		for u := range users {
			var rec struct {
				Tier         string `json:"tier"`
				ModelVersion string `json:"model_version"`
			}
			r, err := http.Get(fmt.Sprintf("%s/api/recommendations?user_id=pu_%d&n=5", c.nodes[(u+round)%3].base(), u))
			if err != nil {
				t.Fatal(err)
			}
			decode(t, r, &rec)
			by[rec.ModelVersion]++
		}
	}
	return by
}

// checkProfiles expects every profile with a vector to be of version.
func (c *testCluster) checkProfiles(t *testing.T, version string) {
	t.Helper()
	var stale int
	var example string
	err := c.db.QueryRow(context.Background(), `SELECT count(*), coalesce(min(user_id || ' ' || model_version), '')
		FROM `+c.schema+`.user_profiles WHERE preference_vector IS NOT NULL AND model_version <> $1`, version).Scan(&stale, &example)
	if err != nil {
		t.Fatal(err)
	}
	if stale > 0 {
		t.Fatalf("%d profiles with a vector of another model than %s after every user was served (e.g. %s)", stale, version, example)
	}
}

func scrape(t *testing.T, nd *testNode) string {
	t.Helper()
	r, err := http.Get(nd.base() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// postJSON posts body (nil: none) and fails unless the answer is want.
func postJSON(t *testing.T, url string, body any, want int) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r, err := http.Post(url, "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != want {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		t.Fatalf("POST %s: %d %s, want %d", url, r.StatusCode, b, want)
	}
	return r
}

func decode(t *testing.T, r *http.Response, v any) {
	t.Helper()
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

//go:build !race

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterTrainingOnTwoNodes imports MovieLens 100K, asks one node of
// two for a training run, and checks that the trainer singleton spread
// the ALS blocks over shard grains on both nodes and the job succeeded.
//
//	go test -count=1 -v -run TestClusterTrainingOnTwoNodes ./cmd/marquee/
func TestClusterTrainingOnTwoNodes(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "data", "ml-100k")
	if _, err := os.Stat(filepath.Join(data, "u.data")); errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and CI must provide it", data)
		}
		t.Skipf("%s not present", data)
	}
	c := newTestCluster(t, 2, "MARQUEE_TRAIN_CRON=off", "MARQUEE_TRAIN_REMOTE_SHARDS=true", "MARQUEE_TRAIN_SHARDS=4",
		"MARQUEE_TRAIN_FACTORS=32", "MARQUEE_TRAIN_ITERATIONS=8")
	t.Cleanup(func() { dumpLogs(t, c) })
	c.startAll()
	imp := exec.Command(marqueeBin, "import", "movielens", data)
	imp.Env = c.nodes[0].env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}

	start := time.Now()
	resp, err := http.Post(c.nodes[1].base()+"/api/admin/train", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Job struct{ ID string } `json:"job"`
	}
	err = json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if err != nil || started.Job.ID == "" {
		t.Fatalf("train: %v %d", err, resp.StatusCode)
	}
	var job struct {
		State, Error string
		Metrics      map[string]float64
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		r, err := http.Get(c.nodes[0].base() + "/api/admin/train/" + started.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(r.Body).Decode(&job)
		r.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if job.State == "succeeded" || job.State == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 90s", started.Job.ID, job.State)
		}
	}
	took := time.Since(start)
	if job.State != "succeeded" {
		t.Fatalf("job %s: %s", job.State, job.Error)
	}
	var line string
	for _, nd := range c.nodes {
		for _, l := range strings.Split(nd.logs(), "\n") {
			if strings.Contains(l, "training blocks solved by shard grains") {
				line = l
			}
		}
	}
	if line == "" {
		t.Fatal("no node logged blocks solved by shard grains")
	}
	t.Logf("two-node training of ML-100K (32 factors, 8 iterations, 4 blocks a half-step): %s end to end, NDCG@10 %.3f; %s",
		took.Round(time.Millisecond), job.Metrics["ndcg@10"], line[strings.Index(line, "blocks_by_member"):])
	for _, nd := range c.nodes {
		if !strings.Contains(line, nd.bind) {
			t.Errorf("no block was solved on node %d (%s)", nd.i, nd.bind)
		}
	}
}

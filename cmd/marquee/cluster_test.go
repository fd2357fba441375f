//go:build !race

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestClusterSurvivesSIGKILL runs three nodes under a steady load of
// events and recommendation requests, SIGKILLs one mid-stream, and checks
// that every accepted event is stored exactly once, that every user
// (those whose grains died with the node too) is served by the others
// within a bounded time, and that scheduled training ran once per due
// time across the cluster, not once per node.
//
//	go test -count=1 -v -run TestClusterSurvivesSIGKILL ./cmd/marquee/
func TestClusterSurvivesSIGKILL(t *testing.T) {
	c := newTestCluster(t, 3, "MARQUEE_TRAIN_CRON=* * * * *")
	t.Cleanup(func() { dumpLogs(t, c) })
	begin := time.Now()
	c.startAll()
	t.Logf("3 nodes ready in %s", time.Since(begin).Round(time.Millisecond))
	l := newClusterLoad(c, 200, 6)
	l.start()
	time.Sleep(15 * time.Second)

	// Kill the node running the scheduler, so that the takeover of a
	// singleton is part of the test.
	victim := c.singletonHost("trainer")
	if victim < 0 {
		t.Fatal("no node says it runs the scheduler")
	}
	t.Logf("killing node %d, which runs the trainer and its scheduler", victim)
	killAt := time.Now()
	c.nodes[victim].kill()
	l.down[victim].Store(true)
	failover, probeFailed := l.probeAll(killAt)
	t.Logf("failover: every one of %d users served by the surviving nodes %s after SIGKILL (%d probe requests failed)",
		l.users, failover.Round(time.Millisecond), probeFailed)
	time.Sleep(10 * time.Second)
	l.finish()

	// Requests in flight on the killed node when it died may fail; no
	// other may, before the kill or after it.
	var before, beforeFailed, after, afterFailed, inFlight int
	var errs []string
	window := killAt.Add(failover + 5*time.Second)
	l.mu.Lock()
	for _, r := range l.results {
		switch {
		case r.node == victim && !r.ok && !r.end.Before(killAt):
			inFlight++
			continue
		case r.start.Before(killAt):
			before++
			if !r.ok {
				beforeFailed++
			}
		case r.start.Before(window):
			after++
			if !r.ok {
				afterFailed++
			}
		default:
			if !r.ok {
				afterFailed++
			}
		}
		if !r.ok && len(errs) < 5 {
			errs = append(errs, fmt.Sprintf("node %d at %s: %s", r.node, r.start.Format("15:04:05.000"), r.err))
		}
	}
	total := len(l.results)
	l.mu.Unlock()
	t.Logf("load: %d requests; before the kill %d (%d failed); in the failover window (%s after the kill) %d on the survivors, %d failed (%.2f%%); %d in flight on the killed node failed",
		total, before, beforeFailed, (failover + 5*time.Second).Round(time.Millisecond), after, afterFailed,
		100*float64(afterFailed)/float64(max(1, after)), inFlight)
	if beforeFailed > 0 || afterFailed > 0 {
		t.Errorf("%d requests failed before the kill and %d on the surviving nodes after it; first errors: %v", beforeFailed, afterFailed, errs)
	}

	ids := l.acceptedIDs()
	distinct, rows := c.waitStored(ids, 60*time.Second)
	t.Logf("events: %d accepted, %d stored, %d rows", len(ids), distinct, rows)
	if len(ids) == 0 || distinct != len(ids) || rows != len(ids) {
		t.Errorf("accepted %d events, stored %d distinct in %d rows: want each exactly once", len(ids), distinct, rows)
	}
	if failover > 10*time.Second || probeFailed > 0 {
		t.Errorf("the killed node's users were served again after %s with %d failures; want every user within 10s", failover, probeFailed)
	}

	// The schedule fires every minute: wait until a run due after the
	// kill happened (on the scheduler's new member), then count runs per
	// due time over every node's logs.
	ranAfterKill := func() bool {
		for due := range c.scheduledRuns() {
			if at, err := time.Parse(time.RFC3339Nano, due); err == nil && at.After(killAt) {
				return true
			}
		}
		return false
	}
	for time.Since(killAt) < 75*time.Second && !ranAfterKill() {
		time.Sleep(time.Second)
	}
	runs := c.scheduledRuns()
	t.Logf("scheduled training runs by due time, over all nodes: %v; the scheduler now runs on node %d", runs, c.singletonHost("trainer", victim))
	if !ranAfterKill() {
		t.Error("no scheduled training ran after the scheduler's node was killed")
	}
	// One trainer per cluster: every surviving node reports the same jobs.
	var seen []string
	for i, nd := range c.nodes {
		if i == victim {
			continue
		}
		var st struct {
			Current *struct{ ID, Reason string } `json:"current"`
		}
		resp, err := http.Get(nd.base() + "/api/admin/training")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || st.Current == nil {
			t.Errorf("node %d: training status %v %+v", i, err, st)
			continue
		}
		seen = append(seen, st.Current.ID+" ("+st.Current.Reason+")")
	}
	t.Logf("current training job as each surviving node reports it: %v", seen)
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Errorf("the surviving nodes report different trainers' jobs: %v", seen)
	}
	for due, n := range runs {
		if n != 1 {
			t.Errorf("scheduled training due %s ran %d times, want once per cluster", due, n)
		}
	}
}

// TestClusterRollingRestart restarts each of three nodes in turn (SIGTERM,
// then start again) under load. The load stops sending to a node just
// before it is stopped, as a load balancer draining it would; no request
// may fail, neither on the stopping node (in flight, it finishes them) nor
// on the others (whose users' grains move twice).
//
//	go test -count=1 -v -run TestClusterRollingRestart ./cmd/marquee/
func TestClusterRollingRestart(t *testing.T) {
	c := newTestCluster(t, 3, "MARQUEE_TRAIN_CRON=off")
	t.Cleanup(func() { dumpLogs(t, c) })
	begin := time.Now()
	c.startAll()
	l := newClusterLoad(c, 200, 6)
	l.start()
	time.Sleep(5 * time.Second)
	for i, nd := range c.nodes {
		l.down[i].Store(true)
		t0 := time.Now()
		nd.stop(t)
		stopped := time.Since(t0)
		c.start(i)
		c.waitReady(i)
		l.down[i].Store(false)
		t.Logf("node %d: stopped in %s, back and ready %s after SIGTERM", i, stopped.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		time.Sleep(3 * time.Second)
	}
	l.finish()
	total, failed, errs := l.window(begin, time.Now())
	t.Logf("rolling restart: %d requests, %d failed (%.3f%%)", total, failed, 100*float64(failed)/float64(max(1, total)))
	if failed > 0 {
		t.Errorf("%d requests failed during the rolling restart; first: %v", failed, errs)
	}
	ids := l.acceptedIDs()
	distinct, rows := c.waitStored(ids, 60*time.Second)
	t.Logf("events: %d accepted, %d stored, %d rows", len(ids), distinct, rows)
	if len(ids) == 0 || distinct != len(ids) || rows != len(ids) {
		t.Errorf("accepted %d events, stored %d distinct in %d rows: want each exactly once", len(ids), distinct, rows)
	}
}

// TestClusterThroughput measures the closed-loop throughput of 1, 2 and 3
// nodes on this machine, with each node's CPU use. Every node shares the
// machine's cores with the others, PostgreSQL, Redis and the Kafka broker
// (in the test process), so more nodes on one machine cannot scale; the
// figures show the cost of the cluster hop, not capacity. Opt-in:
//
//	MARQUEE_CLUSTER_BENCH=1 go test -count=1 -v -run TestClusterThroughput ./cmd/marquee/
func TestClusterThroughput(t *testing.T) {
	if os.Getenv("MARQUEE_CLUSTER_BENCH") == "" {
		t.Skip("set MARQUEE_CLUSTER_BENCH=1 to measure")
	}
	for n := 0; n <= 3; n++ {
		// n = 0: one node that is not clustered (today's single node, on
		// the same stores), the baseline of the cluster hop's cost.
		extra := []string{"MARQUEE_TRAIN_CRON=off"}
		label := fmt.Sprintf("%d clustered node(s)", n)
		if n == 0 {
			extra, label = append(extra, "MARQUEE_CLUSTER_PROVIDER="), "1 node, not clustered"
		}
		c := newTestCluster(t, max(n, 1), extra...)
		c.startAll()
		l := newClusterLoad(c, 1000, 8)
		l.start()
		time.Sleep(3 * time.Second) // warm up: grains activated, connections open
		cpu0 := make([]float64, len(c.nodes))
		for i, nd := range c.nodes {
			cpu0[i] = nd.cpuSeconds()
		}
		from := time.Now()
		const measure = 10 * time.Second
		time.Sleep(measure)
		to := time.Now()
		var cpus []string
		for i, nd := range c.nodes {
			cpus = append(cpus, fmtPct(100*(nd.cpuSeconds()-cpu0[i])/to.Sub(from).Seconds()))
		}
		l.finish()
		total, failed, _ := l.window(from, to)
		t.Logf("%s: %.0f requests/s (%.0f events/s), %d failed; %s; CPU per node %v (200%% = both cores)",
			label, float64(total)/to.Sub(from).Seconds(), 5*float64(total)/to.Sub(from).Seconds(), failed, l.latencies(from, to), cpus)
		for _, nd := range c.nodes {
			nd.kill()
		}
	}
}

func fmtPct(p float64) string { return strconvFloat(p) + "%" }

//go:build !race

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// clusterLoad is a steady closed-loop load over the live nodes: half the
// requests post a batch of events, half ask for recommendations. Every
// request is recorded with its node, time and outcome.
type clusterLoad struct {
	c       *testCluster
	users   int
	workers int

	down []atomic.Bool // nodes the load leaves alone (stopping, killed)
	seq  atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	accepted []string
	results  []result
}

type result struct {
	node       int
	events     bool
	start, end time.Time
	ok         bool
	err        string
}

func newClusterLoad(c *testCluster, users, workers int) *clusterLoad {
	return &clusterLoad{c: c, users: users, workers: workers, down: make([]atomic.Bool, len(c.nodes)), stop: make(chan struct{})}
}

func (l *clusterLoad) start() {
	for w := 0; w < l.workers; w++ {
		l.wg.Add(1)
		go l.worker()
	}
}

func (l *clusterLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

// pick returns a live node, round robin.
func (l *clusterLoad) pick(n int64) int {
	for k := int64(0); k < int64(len(l.down)); k++ {
		i := int((n + k) % int64(len(l.down)))
		if !l.down[i].Load() {
			return i
		}
	}
	return -1
}

func (l *clusterLoad) worker() {
	defer l.wg.Done()
	client := &http.Client{Timeout: 20 * time.Second}
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		n := l.seq.Add(1)
		i := l.pick(n)
		if i < 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		base := l.c.nodes[i].base()
		r := result{node: i, start: time.Now(), events: n%2 == 1}
		if r.events {
			var evs []map[string]any
			var ids []string
			for k := 0; k < 10; k++ {
				id := fmt.Sprintf("ev-%d-%d", n, k)
				ids = append(ids, id)
				evs = append(evs, map[string]any{"event_id": id, "user_id": fmt.Sprint("cu", rand.IntN(l.users)),
					"movie_id": fmt.Sprint("m", rand.IntN(300)), "type": "click"})
			}
			body, _ := json.Marshal(map[string]any{"events": evs})
			post := func(base string) (*http.Response, error) {
				req, _ := http.NewRequest(http.MethodPost, base+"/api/events", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				// The events carry ids, so a resend is harmless; saying so lets
				// net/http resend a request whose pooled keep-alive connection
				// turns out to belong to a node that restarted (it then fails
				// with EOF before any answer), as a production client would.
				req.Header.Set("Idempotency-Key", fmt.Sprint("batch-", n))
				return client.Do(req)
			}
			resp, err := l.send(n, base, post)
			r.ok, r.err = outcome(resp, err, http.StatusAccepted)
			if r.ok {
				l.mu.Lock()
				l.accepted = append(l.accepted, ids...)
				l.mu.Unlock()
			}
		} else {
			user := rand.IntN(l.users)
			resp, err := l.send(n, base, func(base string) (*http.Response, error) {
				return client.Get(fmt.Sprintf("%s/api/recommendations?user_id=cu%d&n=5", base, user))
			})
			r.ok, r.err = outcome(resp, err, http.StatusOK)
		}
		r.end = time.Now()
		l.mu.Lock()
		l.results = append(l.results, r)
		l.mu.Unlock()
	}
}

// send runs req against base and, after a transport error, once more
// against the next node that is up. A node picked just before it was
// marked stopping may close the connection as the request goes out, a case
// net/http does not resend by itself; a client with several endpoints (or
// a load balancer) resends to another, and the requests here are safe to
// repeat (events carry ids).
func (l *clusterLoad) send(n int64, base string, req func(base string) (*http.Response, error)) (*http.Response, error) {
	resp, err := req(base)
	if j := l.pick(n + 1); err != nil && j >= 0 {
		resp, err = req(l.c.nodes[j].base())
	}
	return resp, err
}

func outcome(resp *http.Response, err error, want int) (bool, string) {
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != want {
		return false, fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	return true, ""
}

// window summarizes the requests that started in [from, to).
func (l *clusterLoad) window(from, to time.Time) (total, failed int, firstErrs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.results {
		if r.start.Before(from) || !r.start.Before(to) {
			continue
		}
		total++
		if !r.ok {
			failed++
			if len(firstErrs) < 5 {
				firstErrs = append(firstErrs, fmt.Sprintf("node %d: %s", r.node, r.err))
			}
		}
	}
	return total, failed, firstErrs
}

func (l *clusterLoad) acceptedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.accepted...)
}

// probeAll asks every user for recommendations through the live nodes,
// 16 at a time, and returns when the last one answered: the time until
// every user, including those whose grains were on a dead node, is
// served again.
func (l *clusterLoad) probeAll(since time.Time) (slowest time.Duration, failed int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	client := &http.Client{Timeout: 30 * time.Second}
	for u := 0; u < l.users; u++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			i := l.pick(int64(u))
			resp, err := client.Get(fmt.Sprintf("%s/api/recommendations?user_id=cu%d&n=5", l.c.nodes[i].base(), u))
			ok, _ := outcome(resp, err, http.StatusOK)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				failed++
			}
			slowest = max(slowest, time.Since(since))
		}()
	}
	wg.Wait()
	return slowest, failed
}

func strconvFloat(f float64) string { return fmt.Sprintf("%.0f", f) }

// latencies is the count and mean latency of the event posts and of the
// recommendation requests that started in [from, to).
func (l *clusterLoad) latencies(from, to time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n [2]int
	var sum [2]time.Duration
	for _, r := range l.results {
		if r.start.Before(from) || !r.start.Before(to) {
			continue
		}
		k := 0
		if r.events {
			k = 1
		}
		n[k]++
		sum[k] += r.end.Sub(r.start)
	}
	mean := func(k int) time.Duration { return (sum[k] / time.Duration(max(1, n[k]))).Round(time.Millisecond) }
	return fmt.Sprintf("recommendations %d (mean %s), event posts %d (mean %s)", n[0], mean(0), n[1], mean(1))
}

package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Node metrics the ingest scenario reads.
const (
	metricApplied    = "marquee_events_applied_total"
	metricAccepted   = "marquee_events_accepted_total"
	metricDuplicates = "marquee_events_duplicate_total"
)

// IngestConfig is the ingest scenario: events per second end to end, from
// POST /api/events to stored by the users' actors.
type IngestConfig struct {
	// Users is the range of existing users the events are for (their
	// actors refold their vectors, as in production).
	Users Users
	// Duration of posting.
	Duration time.Duration
	// Batch is events per request (default 100).
	Batch int
	// Rate is events per second offered in open loop; 0 means closed loop
	// with Workers concurrent posters (default 4): the maximum.
	Rate    float64
	Workers int
	// Drain bounds the wait for the last events to be applied (default 2 min).
	Drain time.Duration
	// Seed of the random users and movies.
	Seed uint64
	// Movies to send events for; empty reads them from the catalog.
	Movies []string
}

// IngestResult is one run of the ingest scenario.
type IngestResult struct {
	// Sent is events in requests the node answered 202, Accepted what it
	// said it accepted, Applied its count of events applied meanwhile.
	Sent     int64 `json:"sent"`
	Accepted int64 `json:"accepted"`
	Applied  int64 `json:"applied"`
	// Duplicates is redelivered events the node ignored.
	Duplicates int64 `json:"duplicates"`
	// Stored is the growth of the users' stored histories, read back.
	Stored int64 `json:"stored"`
	// Lost counts events sent for a user beyond what their history grew
	// by, summed over users; Extra the opposite.
	Lost  int64 `json:"lost"`
	Extra int64 `json:"extra"`
	// ZeroLoss: every accepted event was applied and stored exactly once,
	// by both counts (the node's counter and the histories).
	ZeroLoss bool `json:"zero_loss"`
	// PostSeconds is how long posting took; Seconds from the first post
	// until the node had applied every accepted event. PerSecond is
	// Accepted / Seconds: the sustained end-to-end rate.
	PostSeconds float64 `json:"post_seconds"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"events_per_second"`
	// Requests is POST latency by outcome ("accepted" or "error").
	Requests []Stats `json:"requests"`
}

// Ingest runs the scenario: it reads every user's stored count and the
// node's counters, posts for Duration, waits until the node has applied
// as many events as it accepted, and reads everything back.
func Ingest(ctx context.Context, c *Client, cfg IngestConfig, runID string) (IngestResult, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 2 * time.Minute
	}
	if cfg.Users.Prefix == "" {
		cfg.Users.Prefix = "user_"
	}
	movies := cfg.Movies
	if len(movies) == 0 {
		var err error
		if movies, err = c.Movies(ctx, 5000); err != nil {
			return IngestResult{}, err
		}
	}
	if len(movies) == 0 || cfg.Users.Count <= 0 {
		return IngestResult{}, fmt.Errorf("loadgen: ingest needs users and a catalog")
	}
	before, err := storedCounts(ctx, c, cfg.Users)
	if err != nil {
		return IngestResult{}, fmt.Errorf("reading histories before: %w", err)
	}
	m0, err := c.Metrics(ctx, metricApplied, metricAccepted, metricDuplicates)
	if err != nil {
		return IngestResult{}, err
	}

	sentPerUser := make([]atomic.Int64, cfg.Users.Count)
	var sent, accepted atomic.Int64
	rec := NewRecorder()
	var bufMu sync.Mutex
	rng := rand.New(rand.NewPCG(cfg.Seed, 3))
	op := func(ctx context.Context, seq int) (string, error) {
		evs := make([]Event, cfg.Batch)
		users := make([]int, cfg.Batch)
		bufMu.Lock()
		for i := range evs {
			u := rng.IntN(cfg.Users.Count)
			users[i] = u
			evs[i] = Event{EventID: fmt.Sprintf("lg-%s-i-%d-%d", runID, seq, i), UserID: cfg.Users.ID(u),
				MovieID: movies[rng.IntN(len(movies))], Type: "click"}
		}
		bufMu.Unlock()
		n, err := c.Post(ctx, evs...)
		if err != nil {
			return "", err
		}
		if n != len(evs) {
			return "", fmt.Errorf("the node accepted %d of %d events", n, len(evs))
		}
		for _, u := range users {
			sentPerUser[u].Add(1)
		}
		sent.Add(int64(len(evs)))
		accepted.Add(int64(n))
		return "accepted", nil
	}
	start := time.Now()
	if cfg.Rate > 0 {
		_, err = OpenLoop{Rate: cfg.Rate / float64(cfg.Batch), Duration: cfg.Duration}.Run(ctx, rec, nil, op)
	} else {
		_, err = ClosedLoop{Workers: cfg.Workers, Duration: cfg.Duration}.Run(ctx, rec, op)
	}
	if err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Sent: sent.Load(), Accepted: accepted.Load(), PostSeconds: time.Since(start).Seconds()}
	want := m0[metricApplied] + float64(res.Accepted)
	var m1 map[string]float64
	// Every 50 ms, not faster: each /metrics scrape costs the node a read
	// of /proc (Prometheus' process collector), and polling every
	// millisecond took a fifth of its CPU.
	werr := waitFor(ctx, cfg.Drain, 50*time.Millisecond, "accepted events applied", func(ctx context.Context) (bool, error) {
		var err error
		m1, err = c.Metrics(ctx, metricApplied, metricAccepted, metricDuplicates)
		return err == nil && m1[metricApplied] >= want, err
	})
	res.Seconds = time.Since(start).Seconds()
	if m1 != nil {
		res.Applied = int64(m1[metricApplied] - m0[metricApplied])
		res.Duplicates = int64(m1[metricDuplicates] - m0[metricDuplicates])
	}
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Accepted) / res.Seconds
	}
	res.Requests = rec.All(time.Duration(res.PostSeconds * float64(time.Second)))
	after, err := storedCounts(ctx, c, cfg.Users)
	if err != nil {
		return res, fmt.Errorf("reading histories after: %w", err)
	}
	for u := range after {
		got, want := int64(after[u]-before[u]), sentPerUser[u].Load()
		res.Stored += got
		switch {
		case got < want:
			res.Lost += want - got
		case got > want:
			res.Extra += got - want
		}
	}
	res.ZeroLoss = res.Lost == 0 && res.Extra == 0 && res.Applied == res.Accepted && res.Stored == res.Accepted
	return res, werr
}

// storedCounts reads how many events each user has stored.
func storedCounts(ctx context.Context, c *Client, users Users) ([]int, error) {
	out := make([]int, users.Count)
	err := parallel(ctx, users.Count, 16, func(ctx context.Context, i int) error {
		_, n, err := c.History(ctx, users.ID(i), 1)
		out[i] = n
		return err
	})
	return out, err
}

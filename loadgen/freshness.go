package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// FreshnessConfig is the freshness scenario: how long from posting an
// event to the first recommendation that reflects it.
type FreshnessConfig struct {
	// Users is the range of existing users; each sample uses the next one.
	Users Users
	// Samples is how many events are measured, Concurrency how many at once.
	Samples     int
	Concurrency int
	// N is the list length (default 10).
	N int
	// Poll is the pause between polls (default 0: back to back); Timeout
	// gives up on one sample (default 5 s).
	Poll    time.Duration
	Timeout time.Duration
}

// FreshnessResult is one run of the freshness scenario. Latency has the
// label "changed" (POST start → end of the first answer without the
// movie), "post" (POST alone, until its 202) and "error" for samples that
// failed or timed out.
type FreshnessResult struct {
	Latency []Stats `json:"latency"`
	// Polls is the mean number of recommendation requests per sample.
	Polls float64 `json:"polls_per_sample"`
	// Tiers counts the tiers of the first changed answers.
	Tiers map[string]int `json:"tiers"`
}

// Freshness runs the scenario. For each user it reads the current list,
// posts a watch_complete of the list's first movie, and polls the user's
// recommendations until that movie is gone: a movie the user has seen is
// never recommended, so the list must change, and it changes exactly when
// the event has been applied (stored, vector refolded, cache invalidated).
func Freshness(ctx context.Context, c *Client, cfg FreshnessConfig, runID string) (FreshnessResult, error) {
	if cfg.N <= 0 {
		cfg.N = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Users.Prefix == "" {
		cfg.Users.Prefix = "user_"
	}
	rec := NewRecorder()
	var polls atomic.Int64
	tiers := make([]string, cfg.Samples)
	start := time.Now()
	err := parallel(ctx, cfg.Samples, cfg.Concurrency, func(ctx context.Context, i int) error {
		user := cfg.Users.ID(i)
		before, err := c.Recommend(ctx, user, cfg.N)
		if err != nil {
			return err
		}
		if len(before.Items) == 0 {
			rec.Fail(ErrorLabel)
			return nil
		}
		movie := before.Items[0].MovieID
		t0 := time.Now()
		if _, err := c.Post(ctx, Event{EventID: fmt.Sprintf("lg-%s-f-%d", runID, i), UserID: user, MovieID: movie, Type: "watch_complete"}); err != nil {
			rec.Fail(ErrorLabel)
			return err
		}
		rec.Record("post", time.Since(t0))
		for {
			polls.Add(1)
			r, err := c.Recommend(ctx, user, cfg.N)
			if err != nil {
				rec.Fail(ErrorLabel)
				return err
			}
			if !slices.Contains(r.IDs(), movie) {
				rec.Record("changed", time.Since(t0))
				tiers[i] = r.Tier
				return nil
			}
			if time.Since(t0) > cfg.Timeout {
				rec.Fail(ErrorLabel)
				return fmt.Errorf("user %s: %s still recommended %s after the event", user, movie, cfg.Timeout)
			}
			if cfg.Poll > 0 {
				time.Sleep(cfg.Poll)
			}
		}
	})
	res := FreshnessResult{Latency: rec.All(time.Since(start)), Tiers: map[string]int{}}
	if n := rec.Count("changed"); n > 0 {
		res.Polls = float64(polls.Load()) / float64(n)
	}
	for _, t := range tiers {
		if t != "" {
			res.Tiers[t]++
		}
	}
	return res, err
}

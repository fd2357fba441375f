package loadgen

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stream names: which tier a stream of requests is meant to exercise.
const (
	StreamCache   = "cache"
	StreamVector  = "vector"
	StreamBatch   = "batch"
	StreamPopular = "popular"
)

// StreamConfig is one stream of recommendation requests.
type StreamConfig struct {
	// Rate is requests per second in open loop; 0 leaves the stream out.
	Rate float64
	// Users is how many users the stream cycles through.
	Users int
}

// ServingConfig is the serving scenario. Each stream chooses its users so
// that one tier answers, on purpose:
//
//   - cache: users whose list was computed in a warm-up, asked again and
//     again (a list stays cached until the user's next event);
//   - vector: before each request an event is posted for the user (a view
//     of a random movie), Lead ahead of it; applying it refolds the user's
//     vector and invalidates their cache, so the request is answered by a
//     nearest-neighbour search. Only the request is timed;
//   - batch: users the last training knew, whose hot-table history was
//     cancelled with dislikes in the set-up, so the fold-in finds no
//     positive preference and they have no vector: their answer is the
//     precomputed batch list. Before each request they dislike one of the
//     same movies again, which changes nothing but invalidates the cache;
//   - popular: user ids the node has never seen.
//
// Every latency is recorded under the tier the answer names, so a request
// meant for the vector tier that the cache answered (its event was not
// applied within Lead) shows as a cache hit.
type ServingConfig struct {
	Cache, Vector, Batch, Popular StreamConfig
	// Duration of the measured load.
	Duration time.Duration
	// N is the list length requested (default 10).
	N int
	// Lead is how long before a vector or batch request its event is
	// posted (default 100 ms): longer than the node takes to apply it.
	Lead time.Duration
	// Closed runs the cache and popular streams in closed loop instead,
	// one after the other, each with Workers workers: their maximum
	// throughput. Vector and batch requests need an event before each,
	// so they run in open loop only.
	Closed  bool
	Workers int
	// Users is the range the cache, vector and batch users are taken from,
	// in that order (the batch stream tries up to 3 users for each it
	// needs: some cannot be moved to the batch tier).
	Users Users
	// MaxInFlight bounds each open-loop stream's concurrent requests.
	MaxInFlight int
	// Seed of the random choices (movies of vector events).
	Seed uint64
}

func (c *ServingConfig) defaults() {
	if c.N <= 0 {
		c.N = 10
	}
	if c.Lead <= 0 {
		c.Lead = 100 * time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.Users.Prefix == "" {
		c.Users.Prefix = "user_"
	}
}

// StreamResult is what one stream measured: latency per answering tier,
// from each request's due time (open loop) or its send (closed loop), and
// the same from the actual send (service time, open loop only).
type StreamResult struct {
	Stream  string  `json:"stream"`
	Mode    string  `json:"mode"`
	Offered float64 `json:"offered_per_second,omitempty"`
	Workers int     `json:"workers,omitempty"`
	Users   int     `json:"users"`
	Tiers   []Stats `json:"tiers"`
	Service []Stats `json:"service,omitempty"`
	// Lag is how late the scheduler sent requests after they were due.
	Lag Stats `json:"lag"`
	// Events is how many events were posted before requests (vector and
	// batch streams), EventErrors how many of those failed.
	Events      int64 `json:"events,omitempty"`
	EventErrors int64 `json:"event_errors,omitempty"`
}

// ServingResult is one run of the serving scenario.
type ServingResult struct {
	Streams []StreamResult `json:"streams"`
	// Skipped explains users the set-up could not use.
	Skipped []string `json:"skipped,omitempty"`
}

// servingPools are the users each stream cycles through.
type servingPools struct {
	cache, vector, batch, popular []string
	disliked                      map[string][]string // batch user → movies to dislike again
	movies                        []string
	skipped                       []string
}

// Serving runs the serving scenario against the node c talks to. runID
// keeps the ids of this run's events and new users apart from other runs.
func Serving(ctx context.Context, c *Client, cfg ServingConfig, runID string) (ServingResult, error) {
	cfg.defaults()
	pools, err := prepareServing(ctx, c, cfg, runID)
	if err != nil {
		return ServingResult{}, err
	}
	res := ServingResult{Skipped: pools.skipped}
	if cfg.Closed {
		for _, s := range []struct {
			name  string
			users []string
		}{{StreamCache, pools.cache}, {StreamPopular, pools.popular}} {
			if len(s.users) == 0 {
				continue
			}
			rec := NewRecorder()
			users := s.users
			r, err := ClosedLoop{Workers: cfg.Workers, Duration: cfg.Duration}.Run(ctx, rec, func(ctx context.Context, seq int) (string, error) {
				return c.Tier(ctx, users[seq%len(users)], cfg.N)
			})
			if err != nil {
				return res, err
			}
			res.Streams = append(res.Streams, StreamResult{Stream: s.name, Mode: "closed", Workers: cfg.Workers, Users: len(users), Tiers: rec.All(r.Elapsed)})
		}
		return res, nil
	}

	// Open loop: every stream at once, each on its own schedule. Vector
	// and batch events are due Lead before their requests.
	start := time.Now().Add(50 * time.Millisecond)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	run := func(name string, sc StreamConfig, users []string, event func(seq int) Event) {
		if sc.Rate <= 0 || len(users) == 0 {
			return
		}
		wg.Go(func() {
			sr, err := runStream(ctx, c, cfg, start, name, sc.Rate, users, event)
			if err != nil {
				errs <- fmt.Errorf("%s stream: %w", name, err)
			}
			mu.Lock()
			res.Streams = append(res.Streams, sr)
			mu.Unlock()
		})
	}
	run(StreamCache, cfg.Cache, pools.cache, nil)
	run(StreamPopular, cfg.Popular, pools.popular, nil)
	rng := rand.New(rand.NewPCG(cfg.Seed, 2))
	var rngMu sync.Mutex
	run(StreamVector, cfg.Vector, pools.vector, func(seq int) Event {
		rngMu.Lock()
		m := pools.movies[rng.IntN(len(pools.movies))]
		rngMu.Unlock()
		u := pools.vector[seq%len(pools.vector)]
		return Event{EventID: fmt.Sprintf("lg-%s-v-%d", runID, seq), UserID: u, MovieID: m, Type: "view"}
	})
	run(StreamBatch, cfg.Batch, pools.batch, func(seq int) Event {
		u := pools.batch[seq%len(pools.batch)]
		ms := pools.disliked[u]
		m := ms[(seq/len(pools.batch))%len(ms)]
		return Event{EventID: fmt.Sprintf("lg-%s-b-%d", runID, seq), UserID: u, MovieID: m, Type: "dislike"}
	})
	wg.Wait()
	close(errs)
	order := map[string]int{StreamCache: 0, StreamVector: 1, StreamBatch: 2, StreamPopular: 3}
	slices.SortFunc(res.Streams, func(a, b StreamResult) int { return cmp.Compare(order[a.Stream], order[b.Stream]) })
	return res, <-errs
}

// runStream runs one open-loop stream: requests for users in turn at
// rate, each preceded by event(seq) Lead earlier when event is not nil.
func runStream(ctx context.Context, c *Client, cfg ServingConfig, start time.Time, name string, rate float64,
	users []string, event func(seq int) Event) (StreamResult, error) {
	sr := StreamResult{Stream: name, Mode: "open", Offered: rate, Users: len(users)}
	lat, svc := NewRecorder(), NewRecorder()
	reqStart := start
	var events, eventErrs atomic.Int64
	var evWG sync.WaitGroup
	if event != nil {
		reqStart = start.Add(cfg.Lead)
		evWG.Go(func() {
			// Events are fire and forget on their own schedule; their
			// latency is not what this stream measures.
			_, _ = OpenLoop{Rate: rate, Duration: cfg.Duration, Start: start, MaxInFlight: cfg.MaxInFlight}.Run(ctx, NewRecorder(), nil,
				func(ctx context.Context, seq int) (string, error) {
					events.Add(1)
					if _, err := c.Post(ctx, event(seq)); err != nil {
						eventErrs.Add(1)
						return "", err
					}
					return "", nil
				})
		})
	}
	r, err := OpenLoop{Rate: rate, Duration: cfg.Duration, Start: reqStart, MaxInFlight: cfg.MaxInFlight}.Run(ctx, lat, svc,
		func(ctx context.Context, seq int) (string, error) {
			return c.Tier(ctx, users[seq%len(users)], cfg.N)
		})
	evWG.Wait()
	sr.Tiers, sr.Service, sr.Lag = lat.All(r.Elapsed), svc.All(r.Elapsed), r.Lag
	sr.Events, sr.EventErrors = events.Load(), eventErrs.Load()
	return sr, err
}

// prepareServing picks and prepares each stream's users.
func prepareServing(ctx context.Context, c *Client, cfg ServingConfig, runID string) (*servingPools, error) {
	p := &servingPools{disliked: map[string][]string{}}
	next := 0
	take := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = cfg.Users.ID(next)
			next++
		}
		return out
	}
	if cfg.Cache.Rate > 0 || cfg.Closed {
		p.cache = take(cfg.Cache.Users)
		// Twice: the first request computes and caches the list (unless
		// it is cached already), the second must be a hit.
		if err := parallel(ctx, len(p.cache), 16, func(ctx context.Context, i int) error {
			for range 2 {
				if _, err := c.Tier(ctx, p.cache[i], cfg.N); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("warming the cache: %w", err)
		}
	}
	if cfg.Vector.Rate > 0 && !cfg.Closed {
		p.vector = take(cfg.Vector.Users)
		movies, err := c.Movies(ctx, 5000)
		if err != nil {
			return nil, err
		}
		if len(movies) == 0 {
			return nil, fmt.Errorf("the catalog is empty")
		}
		p.movies = movies
	}
	if cfg.Batch.Rate > 0 && !cfg.Closed {
		candidates := take(3 * cfg.Batch.Users)
		var mu sync.Mutex
		err := parallel(ctx, len(candidates), 8, func(ctx context.Context, i int) error {
			mu.Lock()
			enough := len(p.batch) >= cfg.Batch.Users
			mu.Unlock()
			if enough {
				return nil
			}
			u := candidates[i]
			skip := func(why string) {
				mu.Lock()
				p.skipped = append(p.skipped, u+": "+why)
				mu.Unlock()
			}
			movies, err := neutralize(ctx, c, u, 1000, runID)
			if err != nil {
				skip(err.Error())
				return nil
			}
			tier, err := c.Tier(ctx, u, cfg.N)
			if err == nil && tier == StreamCache {
				// Already neutral (an earlier run), so nothing was posted and
				// the list cached then is still cached: one more dislike
				// invalidates it.
				if err := redislike(ctx, c, u, movies[0], "lg-"+runID+"-nz-"+u+"-again"); err != nil {
					skip(err.Error())
					return nil
				}
				tier, err = c.Tier(ctx, u, cfg.N)
			}
			if err != nil {
				return err
			}
			if tier != StreamBatch {
				skip("answered by the " + tier + " tier after its history was cancelled")
				return nil
			}
			mu.Lock()
			if len(p.batch) < cfg.Batch.Users {
				p.batch = append(p.batch, u)
				p.disliked[u] = movies
			}
			mu.Unlock()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("preparing batch users: %w", err)
		}
		if len(p.batch) == 0 {
			return nil, fmt.Errorf("no user could be moved to the batch tier (%d tried): %v", len(candidates), p.skipped[:min(3, len(p.skipped))])
		}
	}
	if cfg.Popular.Rate > 0 || cfg.Closed {
		p.popular = make([]string, cfg.Popular.Users)
		for i := range p.popular {
			p.popular[i] = fmt.Sprintf("lg-%s-new-%d", runID, i)
		}
		// Their first request starts their actor; measure the rest.
		if err := parallel(ctx, len(p.popular), 16, func(ctx context.Context, i int) error {
			_, err := c.Tier(ctx, p.popular[i], cfg.N)
			return err
		}); err != nil {
			return nil, fmt.Errorf("warming new users: %w", err)
		}
	}
	return p, nil
}

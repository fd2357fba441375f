package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Users names a range of existing users: Prefix followed by a number,
// as the demo's user_0, user_1, … and `marquee gen` datasets are.
type Users struct {
	Prefix string
	First  int
	Count  int
}

// ID returns the id of the i-th user of the range.
func (u Users) ID(i int) string { return u.Prefix + strconv.Itoa(u.First+i) }

// parallel runs fn(0) … fn(n-1) on workers goroutines and returns the
// errors joined (at most a few, to keep the message readable).
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

// waitFor polls cond every interval until it holds, fails, or timeout
// passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, what string, cond func(ctx context.Context) (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: %s: not within %s", what, timeout)
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// neutralize posts dislikes until none of the user's hot-table history
// weighs positively: with no positive preference the fold-in gives the
// user no vector, so (if the last training knew the user) the batch tier
// answers. It returns movies the user now dislikes, to dislike again
// later (which changes nothing but invalidates the cache). Events the
// archive holds are not visible over HTTP; a user with positive archived
// history keeps a vector, which the caller detects by the tier.
func neutralize(ctx context.Context, c *Client, user string, maxHistory int, runID string) ([]string, error) {
	dislike := -4.0 // the default weight; learnt from the history after the first round
	var disliked []string
	for round := 0; round < 4; round++ {
		evs, total, err := c.History(ctx, user, 1000)
		if err != nil {
			return nil, err
		}
		if total > maxHistory || total > len(evs) {
			return nil, fmt.Errorf("user %s has %d events, more than the %d this check reads", user, total, min(maxHistory, 1000))
		}
		sum := map[string]float64{}
		var order []string
		for _, ev := range evs {
			if _, ok := sum[ev.MovieID]; !ok {
				order = append(order, ev.MovieID)
			}
			sum[ev.MovieID] += ev.Weight
			if ev.Type == "dislike" && ev.Weight < 0 {
				dislike = ev.Weight
			}
		}
		var post []Event
		disliked = disliked[:0]
		for _, m := range order {
			if sum[m] <= 0 {
				if len(disliked) < 64 {
					disliked = append(disliked, m)
				}
				continue
			}
			for k := 0; k < int(math.Ceil(sum[m]/-dislike)); k++ {
				post = append(post, Event{EventID: fmt.Sprintf("lg-%s-nz-%s-%d-%s-%d", runID, user, round, m, k),
					UserID: user, MovieID: m, Type: "dislike"})
			}
		}
		if len(post) == 0 {
			if len(disliked) == 0 {
				return nil, fmt.Errorf("user %s has no history", user)
			}
			return disliked, nil
		}
		for i := 0; i < len(post); i += 1000 {
			if _, err := c.Post(ctx, post[i:min(i+1000, len(post))]...); err != nil {
				return nil, err
			}
		}
		if err := waitFor(ctx, 30*time.Second, 5*time.Millisecond, "dislikes of "+user+" applied", func(ctx context.Context) (bool, error) {
			_, n, err := c.History(ctx, user, 1)
			return n >= total+len(post), err
		}); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("user %s: history still weighs positively after 4 rounds of dislikes", user)
}

// redislike posts a dislike of a movie the user already dislikes (which
// changes no preference but invalidates the user's cached list) and waits
// until it is stored.
func redislike(ctx context.Context, c *Client, user, movie, eventID string) error {
	_, total, err := c.History(ctx, user, 1)
	if err != nil {
		return err
	}
	if _, err := c.Post(ctx, Event{EventID: eventID, UserID: user, MovieID: movie, Type: "dislike"}); err != nil {
		return err
	}
	return waitFor(ctx, 30*time.Second, 5*time.Millisecond, "dislike of "+user+" applied", func(ctx context.Context) (bool, error) {
		_, n, err := c.History(ctx, user, 1)
		return n > total, err
	})
}

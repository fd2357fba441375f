package actors

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
)

// ingestActor owns the event consumer. The consumer runs on its own
// goroutine (polling blocks, and an actor must not); each batch it hands
// over is split by user, sent to the user actors in order, and reported
// successful only when every user actor has stored its events, so the
// consumer commits offsets only for stored events.
type ingestActor struct {
	env    *env
	cancel context.CancelFunc
	done   chan struct{}
}

// Receive implements actor.Actor.
func (a *ingestActor) Receive(c actor.Context) {
	switch c.Message().(type) {
	case *actor.Started:
		ctx, cancel := context.WithCancel(a.env.base)
		a.cancel, a.done = cancel, make(chan struct{})
		go func() {
			defer close(a.done)
			if err := a.env.Consumer.Consume(ctx, func(_ context.Context, evs []domain.Interaction) error {
				return dispatch(a.env, evs)
			}); err != nil && !errors.Is(err, context.Canceled) {
				a.env.Logger.Error("event consumer stopped", "err", err)
			}
		}()
	case *actor.Stopping, *actor.Restarting:
		// Wait for the consumer to finish its batch and commit, so a
		// restart never runs two consumers at once.
		a.cancel()
		<-a.done
	}
}

// dispatch applies one consumed batch through the user actors and returns
// nil only when every event is stored. Each user's events go in one
// message, in batch order; users proceed in parallel.
func dispatch(e *env, evs []domain.Interaction) error {
	var order []domain.UserID
	byUser := map[domain.UserID][]domain.Interaction{}
	for _, ev := range evs {
		if _, ok := byUser[ev.UserID]; !ok {
			order = append(order, ev.UserID)
		}
		byUser[ev.UserID] = append(byUser[ev.UserID], ev)
	}
	waits := make([]func() (any, error), len(order))
	for i, u := range order {
		waits[i] = e.askUser(&applyEvents{User: u, Events: byUser[u]}, e.cfg.MessageTimeout)
	}
	// Wait for every answer even if ctx ends: the user actors are still
	// running (they stop after ingest), and a batch that completes can be
	// committed instead of redelivered.
	var errs []error
	for i, wait := range waits {
		res, err := wait()
		if err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", order[i], err))
			continue
		}
		if r := res.(*applied); r.Err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", order[i], r.Err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	// One line however many users failed: the first reason and a count
	// (a timeout under overload fails hundreds at once, all alike).
	err := fmt.Errorf("%d of %d users not stored, first %w", len(errs), len(order), errs[0])
	e.Metrics.IngestFailures.Inc()
	e.Logger.Warn("batch not fully stored; it will be retried", "events", len(evs), "err", err)
	return err
}

package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
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
// nil when every event is stored, or a *ports.PartialFailure naming the
// events of the users whose actors did not store theirs: the consumer
// commits the rest and hands only those partitions' events again. Each
// user's events go in one message, in batch order; users proceed in
// parallel.
func dispatch(e *env, evs []domain.Interaction) error {
	var order []domain.UserID
	byUser := map[domain.UserID][]int{} // indexes into evs
	for i, ev := range evs {
		if _, ok := byUser[ev.UserID]; !ok {
			order = append(order, ev.UserID)
		}
		byUser[ev.UserID] = append(byUser[ev.UserID], i)
	}
	waits := make([]func() (any, error), len(order))
	for i, u := range order {
		mine := make([]domain.Interaction, len(byUser[u]))
		for j, k := range byUser[u] {
			mine[j] = evs[k]
		}
		waits[i] = e.askUser(&applyEvents{User: u, Events: mine}, e.cfg.MessageTimeout)
	}
	// Wait for every answer even if ctx ends: the user actors are still
	// running (they stop after ingest), and a batch that completes can be
	// committed instead of redelivered.
	var first error
	var failed []int
	users := 0
	for i, wait := range waits {
		res, err := wait()
		if err == nil {
			err = res.(*applied).Err
		}
		if err == nil {
			continue
		}
		if first == nil {
			first = fmt.Errorf("user %s: %w", order[i], err)
		}
		users++
		failed = append(failed, byUser[order[i]]...)
	}
	if first == nil {
		return nil
	}
	// One line however many users failed: the first reason and a count
	// (a timeout under overload fails hundreds at once, all alike).
	e.Metrics.IngestFailures.Inc()
	e.Logger.Warn("batch not fully stored; the failed users' events will be delivered again",
		"events", len(evs), "failed_events", len(failed), "failed_users", users, "users", len(order), "err", first)
	slices.Sort(failed)
	return &ports.PartialFailure{Failed: failed, Err: fmt.Errorf("%d of %d users not stored, first %w", users, len(order), first)}
}

package porttest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// busWait bounds every wait for a condition. It is generous on purpose: the
// suite must not flake on a loaded CI machine, and a passing run never waits
// for it.
const busWait = 20 * time.Second

// errBusInjected is the failure the suite's handlers return on purpose.
var errBusInjected = errors.New("porttest: injected handler failure")

// EventBus runs the contract of ports.EventPublisher and ports.EventConsumer.
//
// newBus makes a fresh, isolated bus (its own topic and consumer group) and
// returns its publisher plus a factory for consumers of one consumer group:
// each call stands for a (re)started process, which must resume after the
// last committed batch.
//
// Besides the port's documented promises, the suite pins down what the core
// relies on: handle is never called with an empty batch; once handle is
// called with a new batch, the previous successful one is committed; and
// Consume returns within seconds once ctx is cancelled, with nil or an error
// wrapping context.Canceled (Marquee's adapters return nil, because a
// requested shutdown is not a failure).
func EventBus(t *testing.T, newBus func(t *testing.T) (ports.EventPublisher, func(t *testing.T) ports.EventConsumer)) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer)
	}{
		{"delivered exactly once", busDeliveredOnce},
		{"per-user order kept", busOrderKept},
		{"failed batch is retried", busFailedBatchRetried},
		{"a failing user holds back only their partition", busFailingUserHeldAlone},
		{"consumer restarted after committed batches", busRestarted(false)},
		{"consumer restarted after a failed batch", busRestarted(true)},
		{"Consume returns when idle and cancelled", busReturnsOnCancel(false)},
		{"Consume returns when retrying and cancelled", busReturnsOnCancel(true)},
		{"Consume returns at once with a done context", busReturnsWithDoneContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub, newConsumer := newBus(t)
			tt.run(t, pub, newConsumer)
		})
	}
}

// busDeliveredOnce publishes a backlog and a live tail and expects every
// event exactly once, unchanged, when nothing fails.
func busDeliveredOnce(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
	events := busEvents(50, 10)
	var log busLog
	busPublish(t, pub, events[:250], 125)
	stop := busConsume(t, newConsumer(t), log.sink(t))
	busPublish(t, pub, events[250:], 50)
	busWaitFor(t, "all events delivered", func() bool { return log.storedCount() == len(events) })
	busStop(t, stop)

	log.mu.Lock()
	defer log.mu.Unlock()
	want := map[string]domain.Interaction{}
	for _, ev := range events {
		want[ev.EventID] = ev
	}
	for id, n := range log.seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	for id, got := range log.stored {
		if !reflect.DeepEqual(got, want[id]) {
			t.Errorf("event %s arrived changed:\n got %+v\nwant %+v", id, got, want[id])
		}
	}
}

// busOrderKept publishes every user's events in sequence from several
// goroutines at once and expects each user's events in that sequence.
func busOrderKept(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
	const groups, usersPerGroup, perUser, seqsPerCall = 4, 12, 20, 4
	var log busLog
	stop := busConsume(t, newConsumer(t), log.sink(t))
	var wg sync.WaitGroup
	for g := range groups {
		wg.Go(func() {
			for seq := 0; seq < perUser; seq += seqsPerCall {
				var call []domain.Interaction
				for s := seq; s < seq+seqsPerCall; s++ {
					for u := g * usersPerGroup; u < (g+1)*usersPerGroup; u++ {
						call = append(call, busEvent(u, s))
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), busWait)
				err := pub.Publish(ctx, call...)
				cancel()
				if err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := groups * usersPerGroup * perUser
	busWaitFor(t, "all events delivered", func() bool { return log.storedCount() == total })
	busStop(t, stop)
	log.mu.Lock()
	defer log.mu.Unlock()
	log.checkOrderLocked(t)
}

// busFailedBatchRetried fails every batch holding an event never handed
// over before, after storing part of it, and expects every event of a
// failed batch delivered again, nothing lost, and each user's order kept.
func busFailedBatchRetried(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
	events := busEvents(30, 10)
	var (
		log      busLog
		handed   = map[string]bool{} // ever handed over
		failedIn = map[string]bool{} // in a batch that failed
		failures int
	)
	busPublish(t, pub, events[:150], 75)
	stop := busConsume(t, newConsumer(t), func(_ context.Context, batch []domain.Interaction) error {
		log.mu.Lock()
		fail := false
		for _, ev := range batch {
			if !handed[ev.EventID] {
				fail = true
			}
			handed[ev.EventID] = true
		}
		if fail {
			failures++
			for _, ev := range batch {
				failedIn[ev.EventID] = true
			}
		}
		log.mu.Unlock()
		if fail {
			log.store(batch[:len(batch)/2])
			return errBusInjected
		}
		log.deliver(t, batch)
		log.store(batch)
		return nil
	})
	busPublish(t, pub, events[150:], 75)
	busWaitFor(t, "every event of a failed batch delivered again", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		for id := range failedIn {
			if log.seen[id] == 0 {
				return false
			}
		}
		return len(log.stored) == len(events)
	})
	busStop(t, stop)

	log.mu.Lock()
	defer log.mu.Unlock()
	if failures == 0 {
		t.Error("the handler never failed; the test proves nothing")
	}
	for id, n := range log.seen {
		if n != 1 {
			t.Errorf("event %s succeeded %d times, want once", id, n)
		}
	}
	log.checkOrderLocked(t)
}

// busFailingUserHeldAlone has one user whose events the handler keeps
// failing (a *ports.PartialFailure: every other event is stored). While
// that lasts, the other users' events must be committed, so most are
// delivered once: only the partition of the failing user is held back,
// not the whole stream. Once the user heals, everything is stored, in
// each user's order.
func busFailingUserHeldAlone(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
	const users, perUser, failuresBeforeHealing = 40, 10, 4
	events := busEvents(users, perUser)
	bad := busEvent(0, 0).UserID
	var (
		log      busLog
		healed   bool
		failures int
	)
	stop := busConsume(t, newConsumer(t), func(_ context.Context, batch []domain.Interaction) error {
		log.mu.Lock()
		failing := !healed
		log.mu.Unlock()
		var failed []int
		var ok []domain.Interaction
		for i, ev := range batch {
			if failing && ev.UserID == bad {
				failed = append(failed, i)
			} else {
				ok = append(ok, ev)
			}
		}
		if len(ok) > 0 {
			log.deliver(t, ok)
			log.store(ok)
		}
		if len(failed) == 0 {
			return nil
		}
		log.mu.Lock()
		failures++
		log.mu.Unlock()
		return &ports.PartialFailure{Failed: failed, Err: errBusInjected}
	})
	busPublish(t, pub, events, 50)
	busWaitFor(t, "the failing user to fail a few times", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return failures >= failuresBeforeHealing
	})
	log.mu.Lock()
	// Users whose every event was delivered exactly once: committed, not
	// handed again with the failing user's.
	once := 0
	for u := 1; u < users; u++ {
		all := true
		for seq := range perUser {
			if log.seen[busEvent(u, seq).EventID] != 1 {
				all = false
			}
		}
		if all {
			once++
		}
	}
	healed = true
	log.mu.Unlock()
	t.Logf("while user %s failed %d times, %d of %d other users were delivered exactly once", bad, failuresBeforeHealing, once, users-1)
	if once < (users-1)/2 {
		t.Errorf("only %d of %d other users were delivered exactly once while %s failed: the failing user holds back more than their partition", once, users-1, bad)
	}
	busWaitFor(t, "every event stored after the user healed", func() bool { return log.storedCount() == len(events) })
	busStop(t, stop)
	log.mu.Lock()
	defer log.mu.Unlock()
	log.checkFirstStoreOrderLocked(t)
}

// busRestarted stops a consumer mid-stream, from inside its handler after
// a few batches, and starts another one of the same group. With failLast
// the batch in flight fails and must come again; otherwise it succeeds.
// Either way only the batch in flight may be delivered twice.
func busRestarted(failLast bool) func(*testing.T, ports.EventPublisher, func(*testing.T) ports.EventConsumer) {
	return func(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
		const committedBatches, chunk = 3, 40
		events := busEvents(20, 30)
		var (
			mu       sync.Mutex
			first    busLog // deliveries to the first consumer
			second   busLog // deliveries to the second consumer
			store    busLog // the idempotent store both write to
			batches  int
			stopped  bool
			inFlight = map[string]bool{} // ids handed over at or after cancellation
			failedID []string
		)
		ctx1, cancel1 := context.WithCancel(context.Background())
		stop1 := busConsumeCtx(t, ctx1, cancel1, newConsumer(t), func(_ context.Context, batch []domain.Interaction) error {
			first.deliver(t, batch)
			mu.Lock()
			defer mu.Unlock()
			if stopped {
				for _, ev := range batch {
					inFlight[ev.EventID] = true
				}
				return errBusInjected
			}
			if batches++; batches < committedBatches {
				store.store(batch)
				return nil
			}
			stopped = true
			for _, ev := range batch {
				inFlight[ev.EventID] = true
			}
			cancel1()
			if failLast {
				store.store(batch[:len(batch)/2])
				failedID = busIDs(batch)
				return errBusInjected
			}
			store.store(batch)
			return nil
		})
		isStopped := func() bool { mu.Lock(); defer mu.Unlock(); return stopped }
		next := 0
		for next < len(events) && !isStopped() {
			end := min(next+chunk, len(events))
			busPublish(t, pub, events[next:end], chunk)
			next = end
			busWaitFor(t, "the first consumer to take the chunk", func() bool {
				return isStopped() || first.seenAll(events[:next])
			})
		}
		if !busStop(t, stop1) {
			t.FailNow()
		}
		busPublish(t, pub, events[next:], 100)

		stop2 := busConsume(t, newConsumer(t), func(_ context.Context, batch []domain.Interaction) error {
			second.deliver(t, batch)
			store.store(batch)
			return nil
		})
		busWaitFor(t, "every event stored", func() bool { return store.storedCount() == len(events) })
		busStop(t, stop2)

		mu.Lock()
		defer mu.Unlock()
		second.mu.Lock()
		defer second.mu.Unlock()
		first.mu.Lock()
		defer first.mu.Unlock()
		for id, n := range second.seen {
			if n != 1 {
				t.Errorf("event %s delivered %d times to the second consumer, want once", id, n)
			}
			if first.seen[id] > 0 && !inFlight[id] {
				t.Errorf("event %s of a committed batch was delivered again after the restart", id)
			}
		}
		for _, id := range failedID {
			if second.seen[id] == 0 {
				t.Errorf("event %s of the failed, uncommitted batch was not delivered again", id)
			}
		}
		second.checkOrderLocked(t)
	}
}

// busReturnsOnCancel cancels a running Consume, idle or in the middle of
// retrying a failing batch, and expects it to return promptly.
func busReturnsOnCancel(failing bool) func(*testing.T, ports.EventPublisher, func(*testing.T) ports.EventConsumer) {
	return func(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
		called := make(chan struct{}, 100)
		stop := busConsume(t, newConsumer(t), func(context.Context, []domain.Interaction) error {
			select {
			case called <- struct{}{}:
			default:
			}
			if failing {
				return errBusInjected
			}
			return nil
		})
		busPublish(t, pub, busEvents(1, 1), 1)
		calls := 1
		if failing {
			calls = 2 // a retry proves Consume is inside its backoff loop
		}
		for range calls {
			select {
			case <-called:
			case <-time.After(busWait):
				t.Fatal("the handler was not called in time")
			}
		}
		start := time.Now()
		if !busStop(t, stop) {
			t.FailNow()
		}
		t.Logf("Consume returned %v after cancellation", time.Since(start))
	}
}

// busReturnsWithDoneContext calls Consume with a context that is already
// done; it must neither block nor call the handler.
func busReturnsWithDoneContext(t *testing.T, pub ports.EventPublisher, newConsumer func(t *testing.T) ports.EventConsumer) {
	busPublish(t, pub, busEvents(1, 1), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := make(chan struct{}, 1)
	stop := busConsumeCtx(t, ctx, cancel, newConsumer(t), func(context.Context, []domain.Interaction) error {
		called <- struct{}{}
		return nil
	})
	if !busStop(t, stop) {
		t.FailNow()
	}
	select {
	case <-called:
		t.Error("the handler was called with a done context")
	default:
	}
}

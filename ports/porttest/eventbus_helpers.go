package porttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// busLog records what a handler saw (seen) and what it stored; stored is an
// idempotent store keyed by EventID, like the real interaction log.
type busLog struct {
	mu     sync.Mutex
	seen   map[string]int
	stored map[string]domain.Interaction
	order  []domain.Interaction // successful deliveries, in order
	firsts []domain.Interaction // events in the order they were first stored
}

// deliver records a successful delivery and flags an empty batch.
func (l *busLog) deliver(t *testing.T, batch []domain.Interaction) {
	if len(batch) == 0 {
		t.Error("handle was called with an empty batch")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]int{}
	}
	for _, ev := range batch {
		l.seen[ev.EventID]++
	}
	l.order = append(l.order, batch...)
}

// sink returns a handler that records and stores every batch.
func (l *busLog) sink(t *testing.T) ports.EventHandler {
	return func(_ context.Context, batch []domain.Interaction) error {
		l.deliver(t, batch)
		l.store(batch)
		return nil
	}
}

// store writes batch to the idempotent store.
func (l *busLog) store(batch []domain.Interaction) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stored == nil {
		l.stored = map[string]domain.Interaction{}
	}
	for _, ev := range batch {
		if _, ok := l.stored[ev.EventID]; !ok {
			l.stored[ev.EventID] = ev
			l.firsts = append(l.firsts, ev)
		}
	}
}

func (l *busLog) storedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.stored)
}

func (l *busLog) seenAll(events []domain.Interaction) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range events {
		if l.seen[ev.EventID] == 0 {
			return false
		}
	}
	return true
}

// checkOrderLocked expects each user's successful deliveries to be strictly
// increasing in sequence number. It reports at most one error per user.
func (l *busLog) checkOrderLocked(t *testing.T) {
	t.Helper()
	checkOrder(t, l.order)
}

// checkFirstStoreOrderLocked expects each user's events to have been
// stored in sequence (a redelivery of what is stored already may repeat
// an earlier event; what matters is that none was stored before one that
// precedes it).
func (l *busLog) checkFirstStoreOrderLocked(t *testing.T) {
	t.Helper()
	checkOrder(t, l.firsts)
}

func checkOrder(t *testing.T, evs []domain.Interaction) {
	t.Helper()
	last := map[domain.UserID]int{}
	reported := map[domain.UserID]bool{}
	for _, ev := range evs {
		seq := busSeq(t, ev)
		if prev, ok := last[ev.UserID]; ok && seq <= prev && !reported[ev.UserID] {
			t.Errorf("user %s: event %d delivered after event %d", ev.UserID, seq, prev)
			reported[ev.UserID] = true
		}
		last[ev.UserID] = seq
	}
}

// busEvent builds the seq-th event of user u. The sequence number travels
// in the EventID ("e-<user>-<seq>"); some events carry the optional fields
// so that adapters must preserve them.
func busEvent(u, seq int) domain.Interaction {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(u) * time.Microsecond)
	ev := domain.Interaction{
		EventID:    fmt.Sprintf("e-%d-%d", u, seq),
		UserID:     domain.UserID(fmt.Sprintf("user_%d", u)),
		MovieID:    domain.MovieID(fmt.Sprintf("m%d", (u*31+seq)%997)),
		Type:       domain.EventClick,
		Weight:     2,
		Time:       base.Add(time.Duration(seq) * time.Second).Truncate(time.Microsecond),
		IngestedAt: base.Add(time.Duration(seq)*time.Second + 1500*time.Microsecond).Truncate(time.Microsecond),
	}
	if seq%4 == 1 {
		v := float64(seq) + 0.25
		ev.Value = &v
	}
	if seq%5 == 2 {
		ev.RecLogID = fmt.Sprintf("r-%d-%d", u, seq)
	}
	return ev
}

// busEvents builds perUser events for each of users, interleaved across
// users and in sequence per user, as a busy stream would carry them.
func busEvents(users, perUser int) []domain.Interaction {
	out := make([]domain.Interaction, 0, users*perUser)
	for seq := range perUser {
		for u := range users {
			out = append(out, busEvent(u, seq))
		}
	}
	return out
}

func busSeq(t *testing.T, ev domain.Interaction) int {
	t.Helper()
	i := strings.LastIndexByte(ev.EventID, '-')
	seq, err := strconv.Atoi(ev.EventID[i+1:])
	if err != nil {
		t.Fatalf("event id %q carries no sequence number", ev.EventID)
	}
	return seq
}

func busIDs(batch []domain.Interaction) []string {
	ids := make([]string, len(batch))
	for i, ev := range batch {
		ids[i] = ev.EventID
	}
	return ids
}

func busKey(batch []domain.Interaction) string { return strings.Join(busIDs(batch), ",") }

// busPublish publishes events in calls of at most per events each.
func busPublish(t *testing.T, pub ports.EventPublisher, events []domain.Interaction, per int) {
	t.Helper()
	for i := 0; i < len(events); i += per {
		ctx, cancel := context.WithTimeout(context.Background(), busWait)
		err := pub.Publish(ctx, events[i:min(i+per, len(events))]...)
		cancel()
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
}

// busConsume runs Consume in the background until the returned stop
// function (or the test's cleanup) cancels it.
func busConsume(t *testing.T, c ports.EventConsumer, h ports.EventHandler) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	return busConsumeCtx(t, ctx, cancel, c, h)
}

// busConsumeCtx is busConsume with the caller's context. The stop function
// cancels ctx and waits for Consume; it fails when Consume takes longer
// than busWait or returns anything but nil or context.Canceled.
func busConsumeCtx(t *testing.T, ctx context.Context, cancel context.CancelFunc, c ports.EventConsumer, h ports.EventHandler) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Consume(ctx, h) }()
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					result = fmt.Errorf("porttest: Consume returned %w, want nil or context.Canceled", err)
				}
			case <-time.After(busWait):
				result = errors.New("porttest: Consume did not return after its context was cancelled")
			}
		})
		return result
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return stop
}

// busStop stops a consumer, reports its error and says whether all went
// well.
func busStop(t *testing.T, stop func() error) bool {
	t.Helper()
	if err := stop(); err != nil {
		t.Error(err)
		return false
	}
	return true
}

// busWaitFor polls cond until it holds or busWait passes.
func busWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(busWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", busWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

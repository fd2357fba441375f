package memory

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ErrConsumerRunning is returned by EventBus.Consume while another Consume
// runs: the bus has one implicit consumer group with a single member, so a
// second one would see the same uncommitted events.
var ErrConsumerRunning = errors.New("memory: event bus already has a running consumer")

var (
	_ ports.EventPublisher = (*EventBus)(nil)
	_ ports.EventConsumer  = (*EventBus)(nil)
)

// EventBus is an in-process event stream with the delivery semantics of a
// Kafka topic consumed by one consumer group: events are partitioned by
// user, each partition is an ordered log, and the group's committed offset
// per partition advances only after the handler stored a batch. It is the
// embedded mode's event bus and the reference model the Kafka adapter is
// tested against, so it implements those semantics exactly rather than
// approximately.
//
// Committed events are dropped, so memory is bounded by the backlog; events
// do not survive the process, which is the embedded mode's contract.
type EventBus struct {
	partitions int
	maxBatch   int
	minBackoff time.Duration
	maxBackoff time.Duration
	logger     *slog.Logger

	mu sync.Mutex
	// logs[p] holds partition p's uncommitted events in order: the
	// committed offset is the start of the slice.
	logs [][]domain.Interaction
	// wake is closed (and replaced) by every Publish, so an idle consumer
	// sleeps on a channel instead of polling.
	wake      chan struct{}
	consuming bool
	// first is the partition the next batch starts from, rotated so that a
	// busy partition cannot starve the others when batches are full.
	first int
}

// EventBusOption configures an EventBus.
type EventBusOption func(*EventBus)

// WithEventBusPartitions sets the number of partitions (default 8). Only
// events of one partition are ordered, as in Kafka; values below 1 are
// ignored.
func WithEventBusPartitions(n int) EventBusOption {
	return func(b *EventBus) {
		if n > 0 {
			b.partitions = n
		}
	}
}

// WithEventBusMaxBatch bounds how many events one handler call receives
// (default 1000), which bounds a retried batch's cost; values below 1 are
// ignored.
func WithEventBusMaxBatch(n int) EventBusOption {
	return func(b *EventBus) {
		if n > 0 {
			b.maxBatch = n
		}
	}
}

// WithEventBusRetryBackoff sets the wait before a failed batch is handed
// again: first initial, doubling up to limit (default 50ms to 5s), so that
// a store that is down is not hammered.
func WithEventBusRetryBackoff(initial, limit time.Duration) EventBusOption {
	return func(b *EventBus) {
		if initial > 0 && limit >= initial {
			b.minBackoff, b.maxBackoff = initial, limit
		}
	}
}

// WithEventBusLogger sets where failed batches are reported (default:
// nowhere).
func WithEventBusLogger(l *slog.Logger) EventBusOption {
	return func(b *EventBus) {
		if l != nil {
			b.logger = l
		}
	}
}

// NewEventBus returns an empty EventBus.
func NewEventBus(opts ...EventBusOption) *EventBus {
	b := &EventBus{
		partitions: 8,
		maxBatch:   1000,
		minBackoff: 50 * time.Millisecond,
		maxBackoff: 5 * time.Second,
		logger:     slog.New(slog.DiscardHandler),
		wake:       make(chan struct{}),
	}
	for _, opt := range opts {
		opt(b)
	}
	b.logs = make([][]domain.Interaction, b.partitions)
	return b
}

// Publish appends events to their users' partitions. It returns ctx.Err()
// if ctx is already done; otherwise the events are accepted atomically.
func (b *EventBus) Publish(ctx context.Context, events ...domain.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ev := range events {
		if ev.Value != nil {
			v := *ev.Value // the log must not share memory with the caller
			ev.Value = &v
		}
		p := busPartitionOf(ev.UserID, b.partitions)
		b.logs[p] = append(b.logs[p], ev)
	}
	close(b.wake)
	b.wake = make(chan struct{})
	return nil
}

// Pending returns how many published events are not yet committed: the
// consumer lag, for metrics and readiness.
func (b *EventBus) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range b.logs {
		n += len(l)
	}
	return n
}

// Consume hands batches of uncommitted events to handle until ctx is done,
// then returns nil. A batch holds at most the configured maximum; within it
// each partition's events, and so each user's, are in publish order. After
// handle returns nil the batch is committed. After a *ports.PartialFailure
// each partition is committed up to its first event not stored, and a
// partition that had one is left out of batches for a backoff (doubling
// while it keeps failing) and then delivered again from that event; after
// any other error every partition of the batch is. A Consume started after
// the previous one returned resumes at the committed offsets, so an
// uncommitted event is delivered again. Only one Consume may run at a
// time: another concurrent call returns ErrConsumerRunning at once.
func (b *EventBus) Consume(ctx context.Context, handle ports.EventHandler) error {
	b.mu.Lock()
	if b.consuming {
		b.mu.Unlock()
		return ErrConsumerRunning
	}
	b.consuming = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.consuming = false
		b.mu.Unlock()
	}()

	held := make([]busHold, b.partitions)
	for ctx.Err() == nil {
		batch, taken, wake, next := b.busNextBatch(held)
		if len(batch) == 0 {
			b.busIdle(ctx, wake, next)
			continue
		}
		err := handle(ctx, slices.Clone(batch))
		if err != nil && ctx.Err() != nil {
			break // shutting down: the batch stays uncommitted
		}
		b.busSettle(ctx, held, taken, err)
	}
	return nil
}

// busIdle waits for a Publish, for the first held partition to be due
// (next, if not zero) or for ctx to end.
func (b *EventBus) busIdle(ctx context.Context, wake <-chan struct{}, next time.Time) {
	var due <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		defer t.Stop()
		due = t.C
	}
	select {
	case <-ctx.Done():
	case <-wake:
	case <-due:
	}
}

// busTake is what a batch holds of one partition: its first n events.
type busTake struct{ p, n int }

// busHold is the retry state of one partition: left out of batches until
// until, after failing with backoff.
type busHold struct {
	until   time.Time
	backoff time.Duration
}

// busNextBatch copies up to maxBatch uncommitted events, the partitions'
// heads in the order taken lists them, leaving out partitions held after a
// failure. With nothing to deliver it returns the channel the next Publish
// closes and the time the first held partition is due (zero if none is).
func (b *EventBus) busNextBatch(held []busHold) (batch []domain.Interaction, taken []busTake, wake <-chan struct{}, next time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for i := range b.partitions {
		p := (b.first + i) % b.partitions
		if h := held[p].until; now.Before(h) {
			if len(b.logs[p]) > 0 && (next.IsZero() || h.Before(next)) {
				next = h
			}
			continue
		}
		if n := min(len(b.logs[p]), b.maxBatch-len(batch)); n > 0 {
			batch = append(batch, b.logs[p][:n]...)
			taken = append(taken, busTake{p, n})
		}
	}
	b.first = (b.first + 1) % b.partitions
	return batch, taken, b.wake, next
}

// busSettle commits what handle stored of batch (the partitions' heads as
// taken lists them) and holds back the partitions it did not fully store.
func (b *EventBus) busSettle(ctx context.Context, held []busHold, taken []busTake, err error) {
	// stored[k] is how many of taken[k]'s events may be committed.
	stored := make([]int, len(taken))
	var partial *ports.PartialFailure
	switch {
	case err == nil:
		for k, t := range taken {
			stored[k] = t.n
		}
	case errors.As(err, &partial):
		failed := make(map[int]bool, len(partial.Failed))
		for _, i := range partial.Failed {
			failed[i] = true
		}
		start := 0
		for k, t := range taken {
			stored[k] = t.n
			for j := range t.n {
				if failed[start+j] {
					stored[k] = j
					break
				}
			}
			start += t.n
		}
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, t := range taken {
		if stored[k] == t.n {
			held[t.p] = busHold{}
		} else {
			h := &held[t.p]
			h.backoff = min(max(2*h.backoff, b.minBackoff), b.maxBackoff)
			h.until = now.Add(h.backoff)
			b.logger.WarnContext(ctx, "events not stored; their partition is held back, then delivered again",
				"partition", t.p, "stored", stored[k], "events", t.n, "backoff", h.backoff, "err", err)
		}
		// Commit: drop the stored head, letting the collector reclaim it.
		clear(b.logs[t.p][:stored[k]])
		b.logs[t.p] = b.logs[t.p][stored[k]:]
		if len(b.logs[t.p]) == 0 {
			b.logs[t.p] = nil
		}
	}
}

// busPartitionOf maps a user to a partition with 32-bit FNV-1a, inlined
// because it runs for every published event.
func busPartitionOf(user domain.UserID, partitions int) int {
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for i := 0; i < len(user); i++ {
		h ^= uint32(user[i])
		h *= prime32
	}
	return int(h % uint32(partitions))
}

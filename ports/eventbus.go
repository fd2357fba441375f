package ports

import (
	"context"
	"fmt"

	"github.com/marquee-recsys/marquee/domain"
)

// EventPublisher hands accepted events to the durable event stream.
type EventPublisher interface {
	// Publish returns nil only once every event is durably accepted (for
	// Kafka: acknowledged by all in-sync replicas). Events of one user are
	// delivered to consumers in the order they were published.
	Publish(ctx context.Context, events ...domain.Interaction) error
}

// EventHandler processes one batch of consumed events. It returns nil
// only when every event is durably stored; a *PartialFailure when only
// some were not (the others were stored); any other error when none may
// be counted as stored.
type EventHandler func(ctx context.Context, events []domain.Interaction) error

// PartialFailure is the error of a handler that stored all but some
// events of its batch: one user's store failing must not hold back every
// other user's events.
type PartialFailure struct {
	// Failed are the indexes, in the batch the handler was given, of the
	// events that were not stored.
	Failed []int
	// Err is why (the first failure's reason).
	Err error
}

// Error implements error.
func (e *PartialFailure) Error() string {
	return fmt.Sprintf("%d events not stored: %v", len(e.Failed), e.Err)
}

// Unwrap returns the reason.
func (e *PartialFailure) Unwrap() error { return e.Err }

// EventConsumer delivers the event stream to a handler.
type EventConsumer interface {
	// Consume runs until ctx is done. It calls handle with batches in which
	// each user's events keep their published order, and commits, in each
	// partition of the stream, the events before the first one the handler
	// did not store. The events it did not store, and those after them in
	// their partition, are handed to handle again (after a backoff that
	// grows while they keep failing) until they are stored or ctx ends;
	// meanwhile the other partitions go on. Events never committed are
	// delivered again to the next consumer, so handlers must be idempotent
	// (events carry EventID).
	Consume(ctx context.Context, handle EventHandler) error
}

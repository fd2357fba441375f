package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// EventPublisher hands accepted events to the durable event stream.
type EventPublisher interface {
	// Publish returns nil only once every event is durably accepted (for
	// Kafka: acknowledged by all in-sync replicas). Events of one user are
	// delivered to consumers in the order they were published.
	Publish(ctx context.Context, events ...domain.Interaction) error
}

// EventHandler processes one batch of consumed events. It returns nil only
// when every event is durably stored; the consumer then commits the batch.
type EventHandler func(ctx context.Context, events []domain.Interaction) error

// EventConsumer delivers the event stream to a handler.
type EventConsumer interface {
	// Consume runs until ctx is done. It calls handle with batches in which
	// each user's events keep their published order, and commits a batch
	// only after handle returned nil; a failed batch is handed to handle
	// again (after a backoff) until it succeeds or ctx ends. Events of a
	// batch that was never committed are delivered again to the next
	// consumer, so handlers must be idempotent (events carry EventID).
	Consume(ctx context.Context, handle EventHandler) error
}

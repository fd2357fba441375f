package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// InteractionLog is the hot table of recent interactions
// (rt_user_interactions in the seed design).
type InteractionLog interface {
	// Append stores ev unless an event with the same EventID is already
	// stored; inserted says which. Appending twice is how redelivery after
	// a crash stays harmless.
	Append(ctx context.Context, ev domain.Interaction) (inserted bool, err error)
	// UserHistory returns the user's stored interactions, oldest first.
	UserHistory(ctx context.Context, user domain.UserID) ([]domain.Interaction, error)
	// Scan calls fn for every stored interaction, in no particular order,
	// stopping at the first error.
	Scan(ctx context.Context, fn func(domain.Interaction) error) error
}

// BatchAppender is an InteractionLog that stores several events in one
// round trip (the PostgreSQL log). Callers with many events at hand (a
// user actor's message, a bulk import) use it when the log offers it.
type BatchAppender interface {
	// AppendBatch stores evs in order, as Append would one by one, and
	// reports for each whether it was new (a repeat of an earlier event
	// in evs is not).
	AppendBatch(ctx context.Context, evs []domain.Interaction) ([]bool, error)
}

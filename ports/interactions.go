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
	// DeleteUser deletes every stored interaction of the user and returns
	// their event ids (none: an empty slice, no error).
	DeleteUser(ctx context.Context, user domain.UserID) ([]string, error)
	// DeleteEvent deletes the event if it is stored as the user's, and
	// reports whether it was.
	DeleteEvent(ctx context.Context, user domain.UserID, eventID string) (bool, error)
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

// EventLookup is an InteractionLog that can say which of some event ids it
// holds (the in-memory and PostgreSQL logs). The HTTP edge uses it to tell
// an identical resend of a stored event from a reused event_id carrying a
// different event, which it refuses. It sees only the hot table: an event
// already archived is not found.
type EventLookup interface {
	// Lookup returns the stored events among ids, keyed by event id; an id
	// the log does not hold is absent from the map (which is never nil).
	Lookup(ctx context.Context, ids []string) (map[string]domain.Interaction, error)
}

package ports

import (
	"context"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Tombstones remember the users who were deleted (the right to be
// forgotten), so that what of them was still on its way when they were
// deleted never comes back: their events still in the event stream, a
// training that loaded them before. Each tombstone holds the instant of
// the deletion; events ingested after it are the user's new activity, as
// anyone's. A store keeps domain.UserDigest of each user, never the id:
// the tombstone is what is left of them once the deletion is done.
type Tombstones interface {
	// Bury records that the user is deleted at at (a later instant when
	// they were deleted before), not yet done, and returns the instant
	// kept.
	Bury(ctx context.Context, user domain.UserID, at time.Time) (time.Time, error)
	// Buried returns the instant the user was deleted, or ErrNotFound.
	Buried(ctx context.Context, user domain.UserID) (time.Time, error)
	// All returns every tombstone.
	All(ctx context.Context) (domain.Graves, error)
	// Done records that the deletion at at is complete: everything of the
	// user is gone. A tombstone not done is never pruned.
	Done(ctx context.Context, user domain.UserID, at time.Time) error
	// Prune deletes the tombstones that are done and older than before,
	// and returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
}

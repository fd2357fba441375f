package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// ProfileStore keeps user profiles (user_profiles in the seed design).
type ProfileStore interface {
	// Get returns the user's profile or ErrNotFound.
	Get(ctx context.Context, user domain.UserID) (domain.Profile, error)
	// Put stores the profile, replacing any earlier one, unless its vector
	// was computed from a model that is not the registry's serving one
	// (a node that has not switched yet): then nothing is written and the
	// error wraps ErrStaleModel. A profile without a model version (no
	// vector) is always stored.
	Put(ctx context.Context, p domain.Profile) error
	// PutTrained stores profiles computed by training, except where the
	// stored profile has a larger InteractionCount: that one was updated
	// by events the training did not see, and is newer.
	PutTrained(ctx context.Context, ps []domain.Profile) error
	// Delete deletes the user's profile; a user without one is not an
	// error.
	Delete(ctx context.Context, user domain.UserID) error
}

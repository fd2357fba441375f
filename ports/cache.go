package ports

import (
	"context"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// RecommendationCache holds computed lists per user for a short time.
//
// Invalidation must be race-free: a list computed before an Invalidate
// must never be served after it. Implementations therefore version each
// user's entries with a generation: Get returns the current generation
// even on a miss, the caller computes a list and hands that generation
// back to Put, and Put stores nothing if the generation moved meanwhile.
type RecommendationCache interface {
	// Get returns the cached list and the user's generation; on a miss it
	// returns ErrNotFound together with the generation to pass to Put.
	Get(ctx context.Context, user domain.UserID) (domain.RecList, uint64, error)
	// Put caches list for ttl if gen is still the user's generation.
	Put(ctx context.Context, user domain.UserID, gen uint64, list domain.RecList, ttl time.Duration) error
	// Invalidate drops the user's cached list in O(1) by moving to a new generation.
	Invalidate(ctx context.Context, user domain.UserID) error
	// Forget deletes everything cached for the user, the generation
	// included (a Put under an earlier generation stores nothing after
	// it); the next Get starts a new generation.
	Forget(ctx context.Context, user domain.UserID) error
}

package actors

import (
	"sync"

	"github.com/marquee-recsys/marquee/domain"
)

// cacheTrust is the set of users whose cached list may be served straight
// from the HTTP goroutine, without a hop through their actor.
//
// A user is in it while that user's actor, live in this process, has
// loaded the user's state and invalidated the cache successfully after
// every event it stored. Then the generation-keyed cache holds only lists
// that account for every stored event, so reading it needs nothing the
// actor owns. The actor leaves the set before each invalidation it
// attempts (a failed one makes the cache stale for the user) and when it
// stops; a new incarnation enters only after its own first invalidation.
//
// Entries are keyed by user and hold the incarnation that set them, so an
// old incarnation stopping late cannot remove its successor's entry.
type cacheTrust struct{ m sync.Map } // domain.UserID → *userActor

func (t *cacheTrust) trust(u domain.UserID, by *userActor) { t.m.Store(u, by) }

func (t *cacheTrust) distrust(u domain.UserID, by *userActor) { t.m.CompareAndDelete(u, by) }

func (t *cacheTrust) trusted(u domain.UserID) bool {
	_, ok := t.m.Load(u)
	return ok
}

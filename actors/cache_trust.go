package actors

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
// Each entry also keeps the head of the user's current cached list, a
// near copy that answers without a cache round trip. It is exact for the
// same reason: an entry is made by an invalidation and dropped before the
// next, so whatever list it holds was computed (or read from the cache)
// after the user's last stored event.
//
// Entries hold the incarnation that made them, so an old incarnation
// stopping late cannot remove its successor's entry.
type cacheTrust struct{ m sync.Map } // domain.UserID → *trustEntry

// nearDepth is how many items of a list the near copy keeps: enough for
// most requests, small enough (about 2 KB) to keep for every live user.
const nearDepth = 20

type trustEntry struct {
	by   *userActor
	near atomic.Pointer[nearList]
}

// nearList is the head of a cached list and when it expires.
type nearList struct {
	list  domain.RecList
	until time.Time
}

// trust enters the user with a new entry (and no near copy).
func (t *cacheTrust) trust(u domain.UserID, by *userActor) { t.m.Store(u, &trustEntry{by: by}) }

// distrust removes the user's entry if by made it.
func (t *cacheTrust) distrust(u domain.UserID, by *userActor) {
	if v, ok := t.m.Load(u); ok && v.(*trustEntry).by == by {
		t.m.CompareAndDelete(u, v)
	}
}

// entry returns the user's entry, nil when the user is not trusted.
func (t *cacheTrust) entry(u domain.UserID) *trustEntry {
	v, ok := t.m.Load(u)
	if !ok {
		return nil
	}
	return v.(*trustEntry)
}

func (t *cacheTrust) trusted(u domain.UserID) bool { return t.entry(u) != nil }

// remember keeps the head of list as e's near copy, unless e is no longer
// the user's entry (an invalidation came in between: the list may be
// older than it).
func (t *cacheTrust) remember(u domain.UserID, e *trustEntry, list domain.RecList, ttl time.Duration) {
	if e == nil || t.entry(u) != e {
		return
	}
	head := list
	head.Items = slices.Clone(list.Items[:min(len(list.Items), nearDepth)])
	e.near.Store(&nearList{list: head, until: list.GeneratedAt.Add(ttl)})
}

// rememberOwn is remember for the user's own actor, whose entry is current
// by construction.
func (t *cacheTrust) rememberOwn(u domain.UserID, by *userActor, list domain.RecList, ttl time.Duration) {
	if e := t.entry(u); e != nil && e.by == by {
		t.remember(u, e, list, ttl)
	}
}

// nearList returns the first n items of the near copy that are not in
// hidden, if it holds that many and has not expired.
func (e *trustEntry) nearList(n int, now time.Time, hidden domain.MovieSet) (domain.RecList, bool) {
	nl := e.near.Load()
	if nl == nil || len(nl.list.Items) < n || !now.Before(nl.until) {
		return domain.RecList{}, false
	}
	l := nl.list
	var ok bool
	l.Items, ok = firstUnseen(l.Items, hidden, n)
	return l, ok
}

package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Recommend returns a list of n movies for the user. A cache hit for a
// user in the cache trust is served here, in the caller's goroutine; every
// other request goes to the user's actor, which walks the tiers.
func (s *System) Recommend(ctx context.Context, user domain.UserID, n int) (domain.Served, error) {
	return s.RecommendFiltered(ctx, user, n, domain.Filter{}, false)
}

// RecommendFiltered is Recommend narrowed by f. A filtered request always
// goes to the user's actor: the walk decides there whether the cached
// list has enough items that pass (it never caches a filtered list).
//
// With explain, each item of a list computed from the serving model
// carries the history movies behind it (userActor.explain): such a
// request goes to the actor too, which holds the history.
func (s *System) RecommendFiltered(ctx context.Context, user domain.UserID, n int, f domain.Filter, explain bool) (domain.Served, error) {
	cacheFailed := false
	if e := s.env.trust.entry(user); e != nil && f.Empty() && !explain {
		sv, err := s.env.serveCached(ctx, user, n, e)
		if err == nil {
			return sv, nil
		}
		cacheFailed = !errors.Is(err, ports.ErrNotFound)
	}
	res, err := s.request(ctx, &recommend{User: user, N: n, CacheFailed: cacheFailed, Filter: f, Explain: explain})
	if err != nil {
		return domain.Served{}, err
	}
	r := res.(*recommended)
	return r.Served, r.Err
}

// serveCached answers from the user's near copy or the cache, without the
// user's actor: the request costs no round trip, or one cache read,
// instead of two goroutine hand-offs and the actor's mailbox. ErrNotFound
// means a miss (or a list too short for n); another error means the cache
// failed and was counted as skipped.
//
// The user's seen movies are owned by the actor and not consulted: the
// cache trust guarantees every cached list was written after the last
// invalidation for a stored event (see cacheTrust). Unservable movies are
// left out here, from the near copy as from the cache.
func (e *env) serveCached(ctx context.Context, user domain.UserID, n int, entry *trustEntry) (domain.Served, error) {
	start := e.Now()
	list, ok := entry.nearList(n, start, e.walker.Unservable.Set())
	if !ok || !e.walker.current(list) {
		var err error
		if list, err = e.fromCache(ctx, user, n, entry); err != nil {
			return domain.Served{}, err
		}
	}
	s, err := e.served(user, list, domain.TierCache, start, n)
	if err != nil {
		return domain.Served{}, err
	}
	e.logServed(s)
	return s, nil
}

// fromCache reads the user's list from the cache and keeps its head as
// the entry's near copy.
func (e *env) fromCache(ctx context.Context, user domain.UserID, n int, entry *trustEntry) (domain.RecList, error) {
	list, _, err := e.walker.cached(ctx, user)
	if err != nil {
		if !errors.Is(err, ports.ErrNotFound) {
			e.walker.skip(ctx, domain.TierCache, user, err)
		}
		return domain.RecList{}, err
	}
	if !e.walker.current(list) {
		return domain.RecList{}, ports.ErrNotFound // a retired model's list: the actor recomputes it
	}
	e.trust.remember(user, entry, list, e.cfg.CacheTTL)
	items, ok := firstUnseen(list.Items, e.walker.Unservable.Set(), n)
	if !ok {
		return domain.RecList{}, ports.ErrNotFound
	}
	list.Items = items
	return list, nil
}

// served builds the record of a list served: a new rec_log_id and the
// latency since start.
func (e *env) served(user domain.UserID, list domain.RecList, tier domain.Tier, start time.Time, n int) (domain.Served, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return domain.Served{}, fmt.Errorf("rec_log_id: %w", err)
	}
	return domain.Served{
		RecLogID: id.String(), UserID: user, List: list, ServedBy: tier,
		Latency: e.Now().Sub(start), ServedAt: start, Requested: n,
	}, nil
}

// logServed counts a served list and hands it to the analytics actor
// (which never blocks the sender).
func (e *env) logServed(s domain.Served) {
	e.Metrics.RecsServed.WithLabelValues(string(s.ServedBy)).Inc()
	e.Metrics.TierLatency.WithLabelValues(string(s.ServedBy)).Observe(s.Latency.Seconds())
	e.root.Send(e.analytics, &served{s})
}

package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/domain/als"
	"github.com/marquee-recsys/marquee/ports"
)

// userActor owns one user. It is the only writer of the user's history,
// profile and cache entry, which is what makes its in-memory state safe to
// trust between messages.
type userActor struct {
	id    domain.UserID
	env   *env
	prefs *domain.Preferences
	seen  domain.MovieSet
	prof  domain.Profile
	// loaded is false until the state was read from the ports; a failed
	// load is retried on the next message.
	loaded bool
	// dirty means stored events are not yet reflected in the stored
	// profile or the cache; the next message retries the sync.
	dirty bool
	// foldedFor is the model version prof.Vector was folded against ("" for
	// none), even when the fold-in produced no vector.
	foldedFor string
	// cacheStale means an invalidation may have been missed (the cache was
	// down, or an earlier incarnation may have failed to invalidate): the
	// cache is not read for this user until an invalidation succeeds.
	cacheStale bool
	// afterReply holds work the current message does once it answered.
	afterReply []func()
	// row is prefs translated for the serving model's folder, kept up to
	// date event by event (nil until the first fold-in, after a load, and
	// when an update failed): the fold-in after an event then costs no
	// walk over the history's movie ids.
	row *als.FoldRow
	// buriedAt is when the user was deleted (zero: never; from their
	// tombstone, or the reset that forgot them): events ingested before
	// it were on their way when the user was deleted, and are dropped.
	buriedAt time.Time
	// forgotten means the user was deleted and nothing of theirs stored
	// since: the actor writes nothing for them, not even a cache
	// generation, so that what the deletion removed stays removed.
	forgotten bool
}

func newUserActor(id domain.UserID, e *env) *userActor { return &userActor{id: id, env: e} }

// Receive implements actor.Actor.
func (a *userActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.env.Metrics.UserActors.Inc()
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		if err := a.load(ctx); err != nil {
			a.env.Logger.Warn("loading user state failed; will retry on next message", "user_id", a.id, "err", err)
		}
	case *actor.Restarting, *actor.Stopped:
		a.env.trust.distrust(a.id, a)
		a.env.Metrics.UserActors.Dec()
	case *applyEvents:
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		c.Respond(a.apply(ctx, c, m.Events))
	case *recommend:
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		r := a.recommend(ctx, m.N, m.CacheFailed, m.Filter)
		if m.Explain && r.Err == nil {
			a.explain(ctx, &r.Served.List)
		}
		c.Respond(r)
		a.runAfterReply()
	case *resetUser:
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		c.Respond(&userReset{Err: a.reset(ctx, m.BuriedAt)})
	}
}

// reset forgets the user, deleted at buriedAt, or (buriedAt zero)
// reloads them from the stores and stores their recomputed profile.
func (a *userActor) reset(ctx context.Context, buriedAt time.Time) error {
	a.env.trust.distrust(a.id, a)
	if !buriedAt.IsZero() {
		if buriedAt.After(a.buriedAt) {
			a.buriedAt = buriedAt
		}
		a.prefs, a.seen, a.row = domain.NewPreferences(), domain.MovieSet{}, nil
		a.prof = domain.Profile{UserID: a.id}
		a.loaded, a.dirty, a.cacheStale, a.foldedFor, a.forgotten = true, false, false, "", true
		return nil
	}
	a.loaded = false
	if err := a.load(ctx); err != nil {
		return err
	}
	if a.forgotten {
		return nil
	}
	a.dirty = true
	return a.sync(ctx)
}

// unburied returns events without those ingested before the user was
// deleted (all of them when the user never was).
func (a *userActor) unburied(events []domain.Interaction) []domain.Interaction {
	if a.buriedAt.IsZero() {
		return events
	}
	kept := make([]domain.Interaction, 0, len(events))
	for _, ev := range events {
		if ev.IngestedAt.After(a.buriedAt) {
			kept = append(kept, ev)
		}
	}
	if n := len(events) - len(kept); n > 0 {
		a.env.Logger.Debug("dropped events of a deleted user ingested before the deletion", "user_id", a.id, "events", n)
	}
	return kept
}

// load reads the user's history and profile, and repairs the profile if an
// earlier incarnation stored events but crashed before updating it.
func (a *userActor) load(ctx context.Context) error {
	if a.env.Tombstones != nil {
		at, err := a.env.Tombstones.Buried(ctx, a.id)
		switch {
		case err == nil:
			a.buriedAt = at
		case !errors.Is(err, ports.ErrNotFound):
			return fmt.Errorf("tombstone: %w", err)
		}
	}
	hist, err := a.env.Log.UserHistory(ctx, a.id)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	var archived []domain.MovieTotal
	if a.env.Ledger != nil {
		if archived, err = a.env.Ledger.ArchivedTotals(ctx, a.id); err != nil {
			return fmt.Errorf("archived history: %w", err)
		}
	}
	prof, err := a.env.Profiles.Get(ctx, a.id)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("profile: %w", err)
	}
	a.prefs, a.seen, a.row = domain.NewPreferences(), domain.MovieSet{}, nil
	for _, t := range archived {
		a.prefs.AddTotal(t)
		a.seen[t.MovieID] = struct{}{}
	}
	for _, ev := range hist {
		a.prefs.Add(ev)
		a.seen[ev.MovieID] = struct{}{}
	}
	a.prof, a.loaded, a.foldedFor, a.cacheStale = prof, true, prof.ModelVersion, true
	// A deleted user with nothing stored since: nothing to write, the
	// cache included (whose invalidation would make a key of them again).
	a.forgotten = !a.buriedAt.IsZero() && a.prefs.Events == 0
	if a.forgotten {
		a.cacheStale = false
	}
	if prof.InteractionCount != a.prefs.Events {
		a.dirty = true
		return a.sync(ctx)
	}
	return nil
}

// apply stores events in order and updates the user's state. Events
// already stored (redelivered after a crash) change nothing.
func (a *userActor) apply(ctx context.Context, c actor.Context, events []domain.Interaction) *applied {
	if !a.loaded {
		if err := a.load(ctx); err != nil {
			return &applied{Err: err}
		}
	}
	if events = a.unburied(events); len(events) == 0 {
		return &applied{}
	}
	// Out of the cache trust while events are being stored: from the moment
	// an event can be read back until the cache is invalidated, a request
	// must wait for this message rather than get a list from before it.
	a.env.trust.distrust(a.id, a)
	res := &applied{}
	var stored []domain.Interaction
	var popular []ports.PopularEvent
	inserted, err := a.appendAll(ctx, events)
	if err != nil {
		res.Err = err
	}
	for i, ev := range events[:len(inserted)] {
		if !inserted[i] {
			a.env.Metrics.EventsDup.Inc()
			continue
		}
		res.Inserted++
		stored = append(stored, ev)
		a.dirty, a.forgotten = true, false
		a.prefs.Add(ev)
		a.seen[ev.MovieID] = struct{}{}
		if a.row != nil && a.row.Set(ev.MovieID, a.prefs.Weights[ev.MovieID]) != nil {
			a.row = nil // the next fold-in rebuilds it and reports the error
		}
		a.env.Metrics.EventsApplied.Inc()
		popular = append(popular, ports.PopularEvent{Movie: ev.MovieID, Weight: ev.Weight, Time: ev.Time})
		if ev.RecLogID != "" {
			c.Send(a.env.analytics, &feedbackEvent{ev})
		}
	}
	// One write for the message's events where the store takes batches.
	if err := ports.RecordPopular(ctx, a.env.Popular, popular); err != nil {
		a.env.Logger.Warn("recording popularity failed", "user", a.id, "events", len(popular), "err", err)
	}
	if a.dirty {
		res.Err = errors.Join(res.Err, a.sync(ctx))
	}
	if !a.dirty && len(stored) > 0 {
		a.recordFreshness(c, stored)
	}
	if !a.dirty && !a.cacheStale && !a.env.trust.trusted(a.id) {
		// Every stored event is reflected and invalidated (or none was new):
		// back in the trust, unless the invalidation already did it.
		a.env.trust.trust(a.id, a)
	}
	return res
}

// appendAll stores events in order and reports which were new. On an error
// it returns the results of the events stored before it, if any.
func (a *userActor) appendAll(ctx context.Context, events []domain.Interaction) ([]bool, error) {
	// A message's events in one write and one commit when the log can.
	if b, ok := a.env.Log.(ports.BatchAppender); ok && len(events) > 1 {
		inserted, err := b.AppendBatch(ctx, events)
		if err != nil {
			return nil, fmt.Errorf("store %d events: %w", len(events), err)
		}
		return inserted, nil
	}
	inserted := make([]bool, 0, len(events))
	for _, ev := range events {
		ins, err := a.env.Log.Append(ctx, ev)
		if err != nil {
			return inserted, fmt.Errorf("store event %s: %w", ev.EventID, err)
		}
		inserted = append(inserted, ins)
	}
	return inserted, nil
}

// recordFreshness measures, for each newly stored event, the time from its
// arrival at the HTTP edge to the user's updated preference vector.
func (a *userActor) recordFreshness(c actor.Context, evs []domain.Interaction) {
	now := a.env.Now()
	samples := make([]domain.FreshnessSample, 0, len(evs))
	for _, ev := range evs {
		if ev.IngestedAt.IsZero() || ev.IngestedAt.After(now) {
			continue
		}
		d := now.Sub(ev.IngestedAt)
		a.env.Metrics.Freshness.Observe(d.Seconds())
		samples = append(samples, domain.FreshnessSample{At: now, EventID: ev.EventID, Delay: d, UserID: a.id})
	}
	if len(samples) > 0 {
		c.Send(a.env.analytics, &freshness{samples: samples})
	}
}

// sync recomputes the preference vector, stores the profile and
// invalidates the cache. A failed profile write leaves dirty set and fails
// the message (the event is redelivered and the write retried); a failed
// invalidation only marks the cache stale for this user, so that a down
// cache never stops ingestion.
func (a *userActor) sync(ctx context.Context) error {
	prof := domain.Profile{
		UserID: a.id, InteractionCount: a.prefs.Events, LastEventAt: a.prefs.LastEventAt, UpdatedAt: a.env.Now(),
	}
	a.invalidate(ctx)
	errPut := a.foldAndPut(ctx, &prof)
	a.prof = prof
	if errPut != nil {
		return fmt.Errorf("store profile of %s: %w", a.id, errPut)
	}
	a.dirty = false
	return nil
}

// foldAndPut folds the user in against the serving model, into prof, and
// stores prof. When the store refuses it because another model serves now
// (a promotion this node has not followed yet), the node switches to that
// model and folds again: a profile is never stored from a model older
// than the registry's.
func (a *userActor) foldAndPut(ctx context.Context, prof *domain.Profile) error {
	for attempt := 0; ; attempt++ {
		sm := a.env.Models.Current()
		prof.Vector, prof.ModelVersion = a.foldIn(sm)
		a.foldedFor = versionOf(sm)
		err := a.env.Profiles.Put(ctx, *prof)
		if !errors.Is(err, ports.ErrStaleModel) || attempt > 0 {
			return err
		}
		if changed, rerr := a.env.Models.Refresh(ctx); rerr != nil || !changed {
			return errors.Join(err, rerr)
		}
	}
}

// invalidate drops the user's cached list, or marks the cache stale. The
// user leaves the cache trust until it succeeds (see cacheTrust).
func (a *userActor) invalidate(ctx context.Context) {
	a.env.trust.distrust(a.id, a)
	if err := a.env.Cache.Invalidate(ctx, a.id); err != nil {
		a.cacheStale = true
		a.env.Metrics.TierErrors.WithLabelValues(string(domain.TierCache)).Inc()
		a.env.Logger.Warn("cache invalidation failed; the cache is bypassed for this user until it succeeds", "user_id", a.id, "err", err)
		return
	}
	a.cacheStale = false
	if a.loaded {
		a.env.trust.trust(a.id, a)
	}
}

// foldIn computes the exact ALS fold-in of the user's preferences against
// sm; nil when there is no model or no overlap with it.
func (a *userActor) foldIn(sm *ServingModel) ([]float32, string) {
	if sm == nil || a.prefs.Events == 0 {
		return nil, ""
	}
	start := time.Now()
	var err error
	if a.row == nil || a.row.Folder() != sm.Folder {
		a.row, err = sm.Folder.NewRow(a.prefs.Weights)
	}
	var vec []float32
	if err == nil {
		vec, err = a.row.FoldIn()
	}
	a.env.Metrics.FoldIn.Observe(time.Since(start).Seconds())
	if err != nil {
		if !errors.Is(err, als.ErrNoPreference) {
			a.env.Logger.Error("fold-in failed", "user_id", a.id, "model_version", sm.Model.Version, "err", err)
		}
		return nil, ""
	}
	return vec, sm.Model.Version
}

// vector returns the preference vector for the serving model, folding in
// again (and storing the result) when a new model was published since.
// Cached lists of the old model stay until their TTL: they are still good
// lists, and dropping every user's cache at once would stampede the tiers.
func (a *userActor) vector(ctx context.Context) ([]float32, string) {
	sm := a.env.Models.Current()
	if sm == nil || a.forgotten {
		return nil, ""
	}
	if a.foldedFor != sm.Model.Version {
		a.prof.UpdatedAt = a.env.Now()
		if err := a.foldAndPut(ctx, &a.prof); err != nil {
			a.env.Logger.Warn("storing refolded profile failed", "user_id", a.id, "err", err)
		}
	}
	return a.prof.Vector, a.prof.ModelVersion
}

func versionOf(sm *ServingModel) string {
	if sm == nil {
		return ""
	}
	return sm.Model.Version
}

// recommend serves n movies that pass f; cacheFailed skips the cache (the
// caller's read of it just failed).
func (a *userActor) recommend(ctx context.Context, n int, cacheFailed bool, f domain.Filter) *recommended {
	start := a.env.Now()
	if !a.loaded {
		if err := a.load(ctx); err != nil {
			// Degraded: without the user's history nothing personal can be
			// served and seen movies cannot be left out; answer from what is
			// reachable (a cached list, popular in memory at worst) rather
			// than not at all, and load again on the next message.
			a.env.Logger.Warn("serving without the user's history", "user_id", a.id, "err", err)
			return a.serve(ctx, n, start, WalkRequest{User: a.id, N: n, SkipCache: cacheFailed, Filter: f})
		}
	}
	vec, version := a.vector(ctx)
	if a.cacheStale {
		a.invalidate(ctx)
	}
	return a.serve(ctx, n, start, WalkRequest{
		User: a.id, N: n, Seen: a.seen, Vector: vec, ModelVersion: version, SkipCache: a.cacheStale || cacheFailed || a.forgotten,
		Cached: func(l domain.RecList) { a.env.trust.rememberOwn(a.id, a, l, a.env.cfg.CacheTTL) },
		Later:  func(put func()) { a.afterReply = append(a.afterReply, put) },
		Filter: f,
	})
}

// runAfterReply runs (and forgets) the work the message left for after
// its answer.
func (a *userActor) runAfterReply() {
	for _, f := range a.afterReply {
		f()
	}
	clear(a.afterReply)
	a.afterReply = a.afterReply[:0]
}

// serve walks the tiers for req and records the served list.
func (a *userActor) serve(ctx context.Context, n int, start time.Time, req WalkRequest) *recommended {
	list, tier, err := a.env.walker.Walk(ctx, req)
	if err != nil {
		return &recommended{Err: fmt.Errorf("every tier failed for %s: %w: %w", a.id, ports.ErrUnavailable, err)}
	}
	s, err := a.env.served(a.id, list, tier, start, n)
	if err != nil {
		return &recommended{Err: err}
	}
	a.env.logServed(s)
	return &recommended{Served: s}
}

package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// ErrErasureDisabled means this node cannot delete users (no tombstone
// store was configured).
var ErrErasureDisabled = errors.New("user deletion is not available on this node")

// ErasureReport is what DeleteUser removed.
type ErasureReport struct {
	UserID string `json:"user_id"`
	// DeletedAt is the instant of the deletion: events of the user
	// ingested before it never come back, whenever they arrive.
	DeletedAt time.Time `json:"deleted_at"`
	// HotEvents and ArchivedEvents are the user's interactions deleted
	// from the hot table and from the archive files.
	HotEvents      int `json:"hot_events"`
	ArchivedEvents int `json:"archived_events"`
	// FilesRewritten is how many archive files were rewritten without
	// the user's rows (or removed, when nothing else was in them).
	FilesRewritten int `json:"files_rewritten"`
}

// DeleteUser deletes everything Marquee holds of the user (the right to
// be forgotten), in this order:
//
//  1. a tombstone with the instant of the deletion, first, so that what
//     is still on its way stays out from now on: the user actor drops
//     every event of theirs ingested before it (those still in the event
//     stream), the training loader skips them, and a training that loaded
//     them before scrubs what it publishes of them;
//  2. the user's actor (grain, wherever it runs) forgets its state and
//     writes nothing for them, not even a cache generation, until a new
//     event of theirs arrives; the near copy of the fast path goes with it;
//  3. their hot rows, profile and precomputed list;
//  4. their rows in the archive: every file holding one is rewritten
//     without them, verified and swapped in (RewriteArchive), and their
//     archived totals;
//  5. their served lists, feedback and freshness samples, from the
//     analytics actor's buffers and from the store;
//  6. their cached list and generation;
//  7. the tombstone is marked done (training prunes it
//     training.TombstoneRetention later).
//
// Every step is idempotent, so a deletion that failed midway (the error
// says where) is completed by calling it again; meanwhile the tombstone
// already keeps the user's rows out of serving and training.
// Popularity is an aggregate over all users and keeps their part.
func (s *System) DeleteUser(ctx context.Context, user domain.UserID) (ErasureReport, error) {
	e := s.env
	rep := ErasureReport{UserID: string(user)}
	if e.Tombstones == nil {
		return rep, ErrErasureDisabled
	}
	at, err := e.Tombstones.Bury(ctx, user, deletionInstant(e.Now()))
	if err != nil {
		return rep, fmt.Errorf("bury %s: %w", user, err)
	}
	rep.DeletedAt = at
	if err := s.resetUser(ctx, user, at); err != nil {
		return rep, fmt.Errorf("forget the actor of %s: %w", user, err)
	}
	ids, err := e.Log.DeleteUser(ctx, user)
	if err != nil {
		return rep, fmt.Errorf("delete hot rows of %s: %w", user, err)
	}
	rep.HotEvents = len(ids)
	if err := errors.Join(e.Profiles.Delete(ctx, user), e.Batch.Delete(ctx, user)); err != nil {
		return rep, fmt.Errorf("delete profile and precomputed list of %s: %w", user, err)
	}
	if e.Archive != nil && e.Ledger != nil {
		rw, err := RewriteArchive(ctx, e.Ledger, e.Archive, func(ev domain.Interaction) bool { return ev.UserID == user }, e.Logger)
		rep.ArchivedEvents, rep.FilesRewritten = len(rw.Removed), rw.Files
		if err != nil {
			return rep, fmt.Errorf("rewrite the archive without %s: %w", user, err)
		}
		for _, ev := range rw.Removed {
			ids = append(ids, ev.EventID)
		}
		if err := e.Ledger.ForgetTotals(ctx, user); err != nil {
			return rep, fmt.Errorf("delete archived totals of %s: %w", user, err)
		}
	}
	if err := s.forgetAnalytics(ctx, &forgetAnalytics{User: user, Events: set(ids)}); err != nil {
		return rep, err
	}
	if err := e.Analytics.ForgetUser(ctx, user, ids); err != nil {
		return rep, fmt.Errorf("delete analytics of %s: %w", user, err)
	}
	if err := e.Cache.Forget(ctx, user); err != nil {
		return rep, fmt.Errorf("delete cached list of %s: %w", user, err)
	}
	if err := e.Tombstones.Done(ctx, user, at); err != nil {
		return rep, fmt.Errorf("tombstone of %s: %w", user, err)
	}
	e.Logger.Info("user deleted", "user_id", user, "hot_events", rep.HotEvents, "archived_events", rep.ArchivedEvents,
		"files_rewritten", rep.FilesRewritten)
	return rep, nil
}

// deletionInstant is now rounded up to the microsecond the tombstone
// stores keep (PostgreSQL's timestamptz): truncated, an event ingested in
// the same microsecond just before the deletion would compare after it and
// be stored.
func deletionInstant(now time.Time) time.Time {
	at := now.UTC().Truncate(time.Microsecond)
	if at.Before(now) {
		at = at.Add(time.Microsecond)
	}
	return at
}

// DeleteEvent deletes one event of the user, from the hot table and from
// the archive (an event can be in both: one stored again after it was
// archived), with its feedback and freshness sample, and has the user's
// actor reload the user and store their recomputed profile (seen set,
// preference vector) and invalidate their cache. It reports whether the
// event was found; deleting one that is gone is not an error. The event's
// part in popularity stays (an aggregate over all users).
func (s *System) DeleteEvent(ctx context.Context, user domain.UserID, eventID string) (bool, error) {
	e := s.env
	found, err := e.Log.DeleteEvent(ctx, user, eventID)
	if err != nil {
		return false, fmt.Errorf("delete event %s: %w", eventID, err)
	}
	if e.Archive != nil && e.Ledger != nil {
		rw, err := RewriteArchive(ctx, e.Ledger, e.Archive, func(ev domain.Interaction) bool {
			return ev.EventID == eventID && ev.UserID == user
		}, e.Logger)
		if err != nil {
			return false, fmt.Errorf("rewrite the archive without event %s: %w", eventID, err)
		}
		found = found || len(rw.Removed) > 0
	}
	if err := s.forgetAnalytics(ctx, &forgetAnalytics{Events: set([]string{eventID})}); err != nil {
		return false, err
	}
	if err := e.Analytics.ForgetEvents(ctx, []string{eventID}); err != nil {
		return false, fmt.Errorf("delete analytics of event %s: %w", eventID, err)
	}
	if err := s.resetUser(ctx, user, time.Time{}); err != nil {
		return false, fmt.Errorf("recompute %s: %w", user, err)
	}
	return found, nil
}

// resetUser asks the user's actor to forget (buriedAt set) or reload them.
func (s *System) resetUser(ctx context.Context, user domain.UserID, buriedAt time.Time) error {
	res, err := s.request(ctx, &resetUser{User: user, BuriedAt: buriedAt})
	if err != nil {
		return err
	}
	return res.(*userReset).Err
}

// forgetAnalytics has this node's analytics actor drop what it buffers of
// m and wait for its write in flight. Clustered, another node's analytics
// actor may still hold a list it was sent before the user actor forgot
// the user: each writes what it holds within flushEvery, so the deletion
// waits that long again before it deletes from the store.
func (s *System) forgetAnalytics(ctx context.Context, m *forgetAnalytics) error {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if _, err := s.as.Root.RequestFuture(s.env.analytics, m, timeout).Result(); err != nil {
		return fmt.Errorf("analytics did not answer: %w: %w", ports.ErrUnavailable, err)
	}
	if s.cluster != nil {
		sleep(ctx, 3*flushEvery)
	}
	return nil
}

func set(ids []string) map[string]bool {
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

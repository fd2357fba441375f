package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// The deletions of every in-memory store (the right to be forgotten).

// DeleteUser implements ports.InteractionLog.
func (l *InteractionLog) DeleteUser(ctx context.Context, user domain.UserID) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byUser[user]
	ids := make([]string, 0, len(h))
	for _, ev := range h {
		ids = append(ids, ev.EventID)
		delete(l.ids, ev.EventID)
	}
	delete(l.byUser, user)
	l.count -= len(h)
	return ids, nil
}

// DeleteEvent implements ports.InteractionLog.
func (l *InteractionLog) DeleteEvent(ctx context.Context, user domain.UserID, eventID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if owner, ok := l.ids[eventID]; !ok || owner != user {
		return false, nil
	}
	h := slices.DeleteFunc(l.byUser[user], func(ev domain.Interaction) bool { return ev.EventID == eventID })
	if len(h) == 0 {
		delete(l.byUser, user)
	} else {
		l.byUser[user] = h
	}
	delete(l.ids, eventID)
	l.count--
	return true, nil
}

// Replace implements ports.ArchiveLedger.
func (l *InteractionLog) Replace(ctx context.Context, old string, rewrite ports.ArchiveFile, removed []domain.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.manifest[old]; !ok {
		return fmt.Errorf("replace %s: not in the manifest: %w", old, ports.ErrConflict)
	}
	delete(l.manifest, old)
	if rewrite.Key != "" {
		l.manifest[rewrite.Key] = rewrite
	}
	if l.retired == nil {
		l.retired = map[string]struct{}{}
	}
	l.retired[old] = struct{}{}
	for _, ev := range removed {
		t := l.totals[ev.UserID][ev.MovieID]
		if t == nil {
			continue
		}
		t.Weight -= ev.Weight
		if t.Events--; t.Events <= 0 {
			delete(l.totals[ev.UserID], ev.MovieID)
		}
	}
	return nil
}

// Retired implements ports.ArchiveLedger.
func (l *InteractionLog) Retired(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.retired))
	for k := range l.retired {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// Purged implements ports.ArchiveLedger.
func (l *InteractionLog) Purged(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.retired, key)
	return nil
}

// ForgetTotals implements ports.ArchiveLedger.
func (l *InteractionLog) ForgetTotals(ctx context.Context, user domain.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.totals, user)
	return nil
}

// Delete implements ports.ProfileStore.
func (s *ProfileStore) Delete(ctx context.Context, user domain.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.profiles, user)
	return nil
}

// Delete implements ports.BatchStore.
func (s *BatchStore) Delete(ctx context.Context, user domain.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.lists, user)
	return nil
}

// Forget implements ports.RecommendationCache. The next generation of the
// user starts past every earlier one, so a Put under one of those stores
// nothing.
func (c *Cache) Forget(ctx context.Context, user domain.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.users[user]; e != nil {
		c.forgotten = max(c.forgotten, e.gen)
	}
	delete(c.users, user)
	return nil
}

// ForgetUser implements ports.AnalyticsSink.
func (a *Analytics) ForgetUser(ctx context.Context, user domain.UserID, eventIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, s := range a.served {
		if s.UserID == user {
			delete(a.served, id)
		}
	}
	a.forget(func(fb domain.Feedback) bool { return fb.UserID == user }, eventIDs)
	a.freshness = slices.DeleteFunc(a.freshness, func(s domain.FreshnessSample) bool { return s.UserID == user })
	return nil
}

// ForgetEvents implements ports.AnalyticsSink.
func (a *Analytics) ForgetEvents(ctx context.Context, eventIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forget(func(domain.Feedback) bool { return false }, eventIDs)
	return nil
}

// forget drops the feedback drop selects or of eventIDs, and the
// freshness samples of eventIDs; a.mu is held.
func (a *Analytics) forget(drop func(domain.Feedback) bool, eventIDs []string) {
	ids := make(map[string]bool, len(eventIDs))
	for _, id := range eventIDs {
		ids[id] = true
	}
	a.feedback = slices.DeleteFunc(a.feedback, func(fb domain.Feedback) bool {
		gone := drop(fb) || ids[fb.EventID]
		if gone {
			delete(a.fbIDs, fb.EventID)
		}
		return gone
	})
	a.freshness = slices.DeleteFunc(a.freshness, func(s domain.FreshnessSample) bool { return ids[s.EventID] })
}

var _ ports.Tombstones = (*Tombstones)(nil)

// Tombstones is an in-memory ports.Tombstones, keyed by digest.
type Tombstones struct {
	mu    sync.Mutex
	users map[string]tombstone
}

type tombstone struct {
	at   time.Time
	done bool
}

// NewTombstones returns an empty set.
func NewTombstones() *Tombstones { return &Tombstones{users: map[string]tombstone{}} }

// Bury implements ports.Tombstones.
func (s *Tombstones) Bury(ctx context.Context, user domain.UserID, at time.Time) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at = at.UTC().Truncate(time.Microsecond)
	d := domain.UserDigest(user)
	if old, ok := s.users[d]; ok && old.at.After(at) {
		at = old.at
	}
	s.users[d] = tombstone{at: at}
	return at, nil
}

// Buried implements ports.Tombstones.
func (s *Tombstones) Buried(ctx context.Context, user domain.UserID) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.users[domain.UserDigest(user)]
	if !ok {
		return time.Time{}, fmt.Errorf("tombstone of %s: %w", user, ports.ErrNotFound)
	}
	return t.at, nil
}

// All implements ports.Tombstones.
func (s *Tombstones) All(ctx context.Context) (domain.Graves, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(domain.Graves, len(s.users))
	for u, t := range s.users {
		out[u] = t.at
	}
	return out, nil
}

// Done implements ports.Tombstones.
func (s *Tombstones) Done(ctx context.Context, user domain.UserID, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := domain.UserDigest(user)
	if t, ok := s.users[d]; ok && t.at.Equal(at.UTC().Truncate(time.Microsecond)) {
		t.done = true
		s.users[d] = t
	}
	return nil
}

// Prune implements ports.Tombstones.
func (s *Tombstones) Prune(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for u, t := range s.users {
		if t.done && t.at.Before(before) {
			delete(s.users, u)
			n++
		}
	}
	return n, nil
}

package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var (
	_ ports.InteractionLog = (*InteractionLog)(nil)
	_ ports.ArchiveLedger  = (*InteractionLog)(nil)
	_ ports.EventLookup    = (*InteractionLog)(nil)
)

// InteractionLog is an in-memory hot interaction table. It is also the
// archive ledger: it holds the manifest of archived files, so that Commit
// records a file and deletes its rows under one lock.
type InteractionLog struct {
	mu       sync.RWMutex
	ids      map[string]domain.UserID // event id → its user, to find the row again
	byUser   map[domain.UserID][]domain.Interaction
	count    int
	manifest map[string]ports.ArchiveFile
	// totals are the archived interactions, summed per user and movie.
	totals map[domain.UserID]map[domain.MovieID]*domain.MovieTotal
	// retired are files Replace took out of the manifest, not yet purged.
	retired map[string]struct{}
}

// NewInteractionLog returns an empty log.
func NewInteractionLog() *InteractionLog {
	return &InteractionLog{ids: map[string]domain.UserID{}, byUser: map[domain.UserID][]domain.Interaction{},
		manifest: map[string]ports.ArchiveFile{}}
}

// Append implements ports.InteractionLog.
func (l *InteractionLog) Append(ctx context.Context, ev domain.Interaction) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.ids[ev.EventID]; dup {
		return false, nil
	}
	l.ids[ev.EventID] = ev.UserID
	ev.Value = cloneValue(ev.Value)
	h := l.byUser[ev.UserID]
	// Keep history ordered by time; events almost always arrive in order,
	// so this is an append, and an insertion for the rare late event.
	i := len(h)
	for i > 0 && h[i-1].Time.After(ev.Time) {
		i--
	}
	h = append(h, domain.Interaction{})
	copy(h[i+1:], h[i:])
	h[i] = ev
	l.byUser[ev.UserID] = h
	l.count++
	return true, nil
}

// UserHistory implements ports.InteractionLog.
func (l *InteractionLog) UserHistory(ctx context.Context, user domain.UserID) ([]domain.Interaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	h := l.byUser[user]
	out := make([]domain.Interaction, len(h))
	for i, ev := range h {
		ev.Value = cloneValue(ev.Value)
		out[i] = ev
	}
	return out, nil
}

// Scan implements ports.InteractionLog. It works on a snapshot, so fn may
// call back into the log.
func (l *InteractionLog) Scan(ctx context.Context, fn func(domain.Interaction) error) error {
	l.mu.RLock()
	snap := make([]domain.Interaction, 0, l.count)
	for _, h := range l.byUser {
		snap = append(snap, h...)
	}
	l.mu.RUnlock()
	for _, ev := range snap {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev.Value = cloneValue(ev.Value)
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

// Lookup implements ports.EventLookup. Each id costs a walk of its
// user's history, which is short in the embedded mode this log serves.
func (l *InteractionLog) Lookup(ctx context.Context, ids []string) (map[string]domain.Interaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]domain.Interaction, len(ids))
	for _, id := range ids {
		user, ok := l.ids[id]
		if !ok {
			continue
		}
		for _, ev := range l.byUser[user] {
			if ev.EventID == id {
				ev.Value = cloneValue(ev.Value)
				out[id] = ev
				break
			}
		}
	}
	return out, nil
}

// Len returns the number of stored interactions.
func (l *InteractionLog) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.count
}

// Pending implements ports.ArchiveLedger. It scans the whole table: the
// in-memory log serves the embedded mode and tests, not large histories.
func (l *InteractionLog) Pending(ctx context.Context, before time.Time, limit int) ([]domain.Interaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("pending: limit %d: %w", limit, domain.ErrInvalid)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var oldest time.Time
	found := false
	for _, h := range l.byUser {
		for _, ev := range h {
			if ev.Time.Before(before) && (!found || ev.Time.Before(oldest)) {
				oldest, found = ev.Time, true
			}
		}
	}
	if !found {
		return []domain.Interaction{}, nil
	}
	day := oldest.UTC().Truncate(24 * time.Hour)
	end := day.Add(24 * time.Hour)
	if before.Before(end) {
		end = before
	}
	var out []domain.Interaction
	for _, h := range l.byUser {
		for _, ev := range h {
			if !ev.Time.Before(day) && ev.Time.Before(end) {
				ev.Value = cloneValue(ev.Value)
				out = append(out, ev)
			}
		}
	}
	slices.SortFunc(out, func(a, b domain.Interaction) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.EventID, b.EventID))
	})
	return out[:min(limit, len(out))], nil
}

// Commit implements ports.ArchiveLedger.
func (l *InteractionLog) Commit(ctx context.Context, f ports.ArchiveFile, eventIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.Key == "" {
		return fmt.Errorf("commit: file without a key: %w", domain.ErrInvalid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, done := l.manifest[f.Key]; done {
		return nil
	}
	del := make(map[string]struct{}, len(eventIDs))
	touched := map[domain.UserID]struct{}{}
	if l.totals == nil {
		l.totals = map[domain.UserID]map[domain.MovieID]*domain.MovieTotal{}
	}
	for _, id := range eventIDs {
		user, ok := l.ids[id]
		if !ok {
			return fmt.Errorf("commit %s: event %s is not in the hot table: %w", f.Key, id, ports.ErrConflict)
		}
		if _, dup := del[id]; dup {
			return fmt.Errorf("commit %s: event %s listed twice: %w", f.Key, id, domain.ErrInvalid)
		}
		del[id] = struct{}{}
		touched[user] = struct{}{}
	}
	for user := range touched {
		h := slices.DeleteFunc(l.byUser[user], func(ev domain.Interaction) bool {
			_, gone := del[ev.EventID]
			if gone {
				l.addTotal(ev)
			}
			return gone
		})
		if len(h) == 0 {
			delete(l.byUser, user)
		} else {
			l.byUser[user] = h
		}
	}
	for id := range del {
		delete(l.ids, id)
	}
	l.count -= len(del)
	l.manifest[f.Key] = f
	return nil
}

// Files implements ports.ArchiveLedger.
func (l *InteractionLog) Files(ctx context.Context) ([]ports.ArchiveFile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	out := make([]ports.ArchiveFile, 0, len(l.manifest))
	for _, f := range l.manifest {
		out = append(out, f)
	}
	l.mu.RUnlock()
	slices.SortFunc(out, compareFiles)
	return out, nil
}

// compareFiles orders the manifest: by day, then by when written.
func compareFiles(a, b ports.ArchiveFile) int {
	return cmp.Or(a.Day.Compare(b.Day), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Key, b.Key))
}

func cloneValue(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// addTotal adds an archived event to its user's totals; l.mu is held.
func (l *InteractionLog) addTotal(ev domain.Interaction) {
	m := l.totals[ev.UserID]
	if m == nil {
		m = map[domain.MovieID]*domain.MovieTotal{}
		l.totals[ev.UserID] = m
	}
	t := m[ev.MovieID]
	if t == nil {
		t = &domain.MovieTotal{MovieID: ev.MovieID}
		m[ev.MovieID] = t
	}
	t.Weight += ev.Weight
	t.Events++
	if ev.Time.After(t.Last) {
		t.Last = ev.Time
	}
}

// ArchivedTotals implements ports.ArchiveLedger.
func (l *InteractionLog) ArchivedTotals(ctx context.Context, user domain.UserID) ([]domain.MovieTotal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]domain.MovieTotal, 0, len(l.totals[user]))
	for _, t := range l.totals[user] {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b domain.MovieTotal) int { return strings.Compare(string(a.MovieID), string(b.MovieID)) })
	return out, nil
}

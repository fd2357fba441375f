package memory

import (
	"context"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.InteractionLog = (*InteractionLog)(nil)

// InteractionLog is an in-memory hot interaction table.
type InteractionLog struct {
	mu     sync.RWMutex
	ids    map[string]struct{}
	byUser map[domain.UserID][]domain.Interaction
	count  int
}

// NewInteractionLog returns an empty log.
func NewInteractionLog() *InteractionLog {
	return &InteractionLog{ids: map[string]struct{}{}, byUser: map[domain.UserID][]domain.Interaction{}}
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
	l.ids[ev.EventID] = struct{}{}
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

// Len returns the number of stored interactions.
func (l *InteractionLog) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.count
}

func cloneValue(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

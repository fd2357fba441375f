package memory

import (
	"context"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var (
	_ ports.AnalyticsSink  = (*Analytics)(nil)
	_ ports.AnalyticsQuery = (*Analytics)(nil)
)

// maxFreshness bounds the freshness samples kept (the oldest are dropped):
// the embedded mode must not grow without bound.
const maxFreshness = 1 << 20

// Analytics keeps served lists, feedback and freshness in memory.
type Analytics struct {
	mu        sync.RWMutex
	served    map[string]domain.Served
	feedback  []domain.Feedback
	fbIDs     map[string]struct{}
	freshness []domain.FreshnessSample
}

// NewAnalytics returns an empty sink.
func NewAnalytics() *Analytics {
	return &Analytics{served: map[string]domain.Served{}, fbIDs: map[string]struct{}{}}
}

// LogServed implements ports.AnalyticsSink.
func (a *Analytics) LogServed(ctx context.Context, lists ...domain.Served) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range lists {
		s.List = copyList(s.List)
		a.served[s.RecLogID] = s
	}
	return nil
}

// ServedList implements ports.AnalyticsSink.
func (a *Analytics) ServedList(ctx context.Context, id string) (domain.Served, error) {
	if err := ctx.Err(); err != nil {
		return domain.Served{}, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	s, ok := a.served[id]
	if !ok {
		return domain.Served{}, ports.ErrNotFound
	}
	s.List = copyList(s.List)
	return s, nil
}

// RecordFeedback implements ports.AnalyticsSink.
func (a *Analytics) RecordFeedback(ctx context.Context, fbs ...domain.Feedback) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, fb := range fbs {
		if _, dup := a.fbIDs[fb.EventID]; dup {
			continue
		}
		a.fbIDs[fb.EventID] = struct{}{}
		a.feedback = append(a.feedback, fb)
	}
	return nil
}

// Counts returns how many lists were served and how much feedback came back.
func (a *Analytics) Counts() (served, feedback int) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.served), len(a.feedback)
}

// Feedback returns a copy of the recorded feedback, in arrival order.
func (a *Analytics) Feedback() []domain.Feedback {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return append([]domain.Feedback(nil), a.feedback...)
}

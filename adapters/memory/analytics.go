package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var (
	_ ports.AnalyticsSink  = (*Analytics)(nil)
	_ ports.AnalyticsQuery = (*Analytics)(nil)
)

// The embedded mode must not grow without bound: the oldest freshness
// samples, served lists and feedback are dropped past these. A served
// list of 10 movies takes about 1 KB here, and a saturated node serves
// 10-17K a second: without a bound, a node under load grew by gigabytes
// and its GC marked them all (BENCHMARKS.md "Tail latency at
// saturation"). The analytics of the embedded mode then cover the last
// maxServed lists (at a demo's ten lists a second, the last three hours).
const (
	maxFreshness = 1 << 20
	maxServed    = 100_000
	maxFeedback  = 1 << 20
)

// Analytics keeps served lists, feedback and freshness in memory.
type Analytics struct {
	mu     sync.RWMutex
	served map[string]domain.Served
	// order holds served's ids oldest first, for eviction (ids deleted
	// since are skipped then).
	order     []string
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
		if _, again := a.served[s.RecLogID]; !again {
			a.order = append(a.order, s.RecLogID)
		}
		a.served[s.RecLogID] = s
	}
	for len(a.served) > maxServed && len(a.order) > 0 {
		delete(a.served, a.order[0])
		a.order[0] = ""
		a.order = a.order[1:]
	}
	if len(a.order) > 2*maxServed { // mostly ids deleted since (ForgetUser)
		a.order = slices.DeleteFunc(a.order, func(id string) bool { _, ok := a.served[id]; return !ok })
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
	// Dropped an eighth at a time, so that the copy is amortized.
	if over := len(a.feedback) - maxFeedback; over > maxFeedback/8 {
		for _, fb := range a.feedback[:over] {
			delete(a.fbIDs, fb.EventID)
		}
		a.feedback = slices.Delete(a.feedback, 0, over)
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

package actors

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// Batching of analytics writes: a flush starts when this many records are
// waiting or flushEvery has passed, one flush at a time.
const (
	flushAt    = 512
	flushEvery = 100 * time.Millisecond
	// recentLists are the served lists kept in memory for attributing
	// feedback: about 5 MB, the last 10 s at 1,000 lists/s, where most
	// clicks fall; feedback on older lists reads them from the store.
	recentLists = 10_000
)

type flushTick struct{}

type flushed struct {
	err   error
	count int
}

// freshness carries the event-to-vector delays of one applied message.
type freshness struct{ samples []domain.FreshnessSample }

// analyticsActor writes served lists, attributed feedback and freshness
// samples in batches. Serving and user actors send to it and never wait:
// writes happen on a writer goroutine, one batch at a time, while the
// actor keeps collecting. Messages from one user actor arrive in order, so
// a list is always known before feedback that names it; recently served
// lists are kept in memory so attribution rarely reads the store.
type analyticsActor struct {
	env     *env
	served  []domain.Served
	fbs     []domain.Feedback
	fresh   []domain.FreshnessSample
	busy    bool
	recent  map[string]domain.Served
	order   []string // insertion order of recent, for eviction
	stopped chan struct{}
	// waiting are forgets answered once the write in flight is done.
	waiting []*actor.PID
}

// forgetAnalytics asks the analytics actor to drop what it holds of a
// user (or, with User empty, of events): buffered records and recent
// lists. It answers (with itself) once no write that could still hold
// them is in flight, so that a deletion from the store that follows
// removes everything.
type forgetAnalytics struct {
	User   domain.UserID
	Events map[string]bool
}

// Receive implements actor.Actor.
func (a *analyticsActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		a.recent = map[string]domain.Served{}
		a.stopped = make(chan struct{})
		root, self, stop := c.ActorSystem().Root, c.Self(), a.stopped
		go func() {
			t := time.NewTicker(flushEvery)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					root.Send(self, &flushTick{})
				case <-stop:
					return
				}
			}
		}()
	case *actor.Stopping:
		close(a.stopped)
		a.flushNow() // drain what is left, synchronously
	case *served:
		a.remember(m.Served)
		if a.admit(1) {
			a.served = append(a.served, m.Served)
		}
		a.maybeFlush(c)
	case *feedbackEvent:
		a.attribute(m.Interaction)
		a.maybeFlush(c)
	case *freshness:
		if a.admit(len(m.samples)) {
			a.fresh = append(a.fresh, m.samples...)
		}
	case *flushTick:
		if a.pending() > 0 {
			a.flush(c)
		}
	case *forgetAnalytics:
		a.forget(m)
		if !a.busy {
			c.Respond(m)
			return
		}
		a.waiting = append(a.waiting, c.Sender())
	case *flushed:
		for _, w := range a.waiting {
			c.Send(w, &forgetAnalytics{})
		}
		a.waiting = nil
		a.busy = false
		if m.err != nil {
			a.env.Metrics.AnalyticsErrs.Inc()
			a.env.Logger.Warn("writing analytics failed; the batch is lost", "records", m.count, "err", m.err)
		}
	}
}

// forget drops the buffered records and recent lists m names.
func (a *analyticsActor) forget(m *forgetAnalytics) {
	mine := func(u domain.UserID) bool { return m.User != "" && u == m.User }
	a.served = slices.DeleteFunc(a.served, func(s domain.Served) bool { return mine(s.UserID) })
	a.fbs = slices.DeleteFunc(a.fbs, func(f domain.Feedback) bool { return mine(f.UserID) || m.Events[f.EventID] })
	a.fresh = slices.DeleteFunc(a.fresh, func(f domain.FreshnessSample) bool { return mine(f.UserID) || m.Events[f.EventID] })
	if m.User == "" {
		return
	}
	for id, s := range a.recent {
		if s.UserID == m.User {
			delete(a.recent, id) // its place in order is skipped at eviction
		}
	}
}

func (a *analyticsActor) pending() int { return len(a.served) + len(a.fbs) + len(a.fresh) }

// admit reports whether n more records fit the buffer, counting drops.
func (a *analyticsActor) admit(n int) bool {
	if a.pending()+n <= a.env.cfg.AnalyticsBuffer {
		return true
	}
	a.env.Metrics.AnalyticsDropped.Add(float64(n))
	a.env.Logger.Warn("analytics buffer full; records dropped", "dropped", n, "buffered", a.pending())
	return false
}

func (a *analyticsActor) maybeFlush(c actor.Context) {
	if a.pending() >= flushAt {
		a.flush(c)
	}
}

// flush hands the buffer to a writer goroutine unless one is running.
func (a *analyticsActor) flush(c actor.Context) {
	if a.busy {
		return
	}
	a.busy = true
	served, fbs, fresh := a.served, a.fbs, a.fresh
	// The next batch starts at this one's size (up to a flush's): growing
	// a slice of 512 lists from nil at every flush was 5% of the node's
	// allocations at saturation.
	a.served = make([]domain.Served, 0, min(len(served), flushAt))
	a.fbs, a.fresh = nil, nil
	root, self, sink, base := c.ActorSystem().Root, c.Self(), a.env.Analytics, a.env.base
	go func() {
		ctx, cancel := context.WithTimeout(base, 30*time.Second)
		defer cancel()
		err := writeAnalytics(ctx, sink, served, fbs, fresh)
		root.Send(self, &flushed{err: err, count: len(served) + len(fbs) + len(fresh)})
	}()
}

// flushNow writes the buffer on the actor's goroutine (at shutdown).
func (a *analyticsActor) flushNow() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := writeAnalytics(ctx, a.env.Analytics, a.served, a.fbs, a.fresh); err != nil {
		a.env.Metrics.AnalyticsErrs.Inc()
		a.env.Logger.Warn("final analytics flush failed", "err", err)
	}
	a.served, a.fbs, a.fresh = nil, nil, nil
}

func writeAnalytics(ctx context.Context, sink ports.AnalyticsSink, served []domain.Served, fbs []domain.Feedback, fresh []domain.FreshnessSample) error {
	var errs []error
	if len(served) > 0 {
		errs = append(errs, sink.LogServed(ctx, served...))
	}
	if len(fbs) > 0 {
		errs = append(errs, sink.RecordFeedback(ctx, fbs...))
	}
	if len(fresh) > 0 {
		errs = append(errs, sink.RecordFreshness(ctx, fresh...))
	}
	return errors.Join(errs...)
}

// remember keeps s for attribution, compacted: its items are copied
// without titles, so that the kept list does not pin the deeper list it
// was cut from (a vector or cached list of 100 items behind 10 served)
// nor the titles' strings. 50,000 lists of 10 then hold ~20 MB; keeping
// the slices as served held ~300 MB (found by make soak).
func (a *analyticsActor) remember(s domain.Served) {
	items := make([]domain.ScoredMovie, len(s.List.Items))
	for i, it := range s.List.Items {
		items[i] = domain.ScoredMovie{MovieID: it.MovieID, Score: it.Score}
	}
	s.List.Items = items
	if _, ok := a.recent[s.RecLogID]; !ok {
		a.order = append(a.order, s.RecLogID)
	}
	a.recent[s.RecLogID] = s
	if len(a.order) > recentLists {
		delete(a.recent, a.order[0])
		a.order[0] = ""
		a.order = a.order[1:]
	}
}

// attribute links a feedback event to its list (from memory, else from the
// store) and queues the feedback.
func (a *analyticsActor) attribute(ev domain.Interaction) {
	s, ok := a.recent[ev.RecLogID]
	if !ok {
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		var err error
		s, err = a.env.Analytics.ServedList(ctx, ev.RecLogID)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			a.unattributed(ev, "unknown rec_log_id")
			return
		case err != nil:
			a.env.Metrics.AnalyticsErrs.Inc()
			a.env.Logger.Warn("reading served list failed", "rec_log_id", ev.RecLogID, "err", err)
			return
		}
	}
	fb, ok := domain.Attribute(s, ev, a.env.cfg.AttributionWindow)
	if !ok {
		a.unattributed(ev, "outside the attribution window or another user's list")
		return
	}
	a.env.Metrics.Feedback.WithLabelValues("true").Inc()
	if a.admit(1) {
		a.fbs = append(a.fbs, fb)
	}
}

func (a *analyticsActor) unattributed(ev domain.Interaction, why string) {
	a.env.Metrics.Feedback.WithLabelValues("false").Inc()
	a.env.Logger.Debug("feedback not attributed", "event_id", ev.EventID, "rec_log_id", ev.RecLogID, "reason", why)
}

package actors

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// analyticsActor writes served lists and attributes feedback. Serving
// sends to it and never waits, so analytics can never slow a response.
// Messages from one user actor arrive in order, so a list is always logged
// before feedback that names it.
type analyticsActor struct {
	env *env
}

// Receive implements actor.Actor.
func (a *analyticsActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *served:
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		if err := a.env.Analytics.LogServed(ctx, m.Served); err != nil {
			a.env.Metrics.AnalyticsErrs.Inc()
			a.env.Logger.Warn("logging served list failed", "rec_log_id", m.RecLogID, "err", err)
		}
	case *feedbackEvent:
		ctx, cancel := a.env.msgCtx()
		defer cancel()
		s, err := a.env.Analytics.ServedList(ctx, m.RecLogID)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			a.unattributed(m.Interaction, "unknown rec_log_id")
			return
		case err != nil:
			a.env.Metrics.AnalyticsErrs.Inc()
			a.env.Logger.Warn("reading served list failed", "rec_log_id", m.RecLogID, "err", err)
			return
		}
		fb, ok := domain.Attribute(s, m.Interaction, a.env.cfg.AttributionWindow)
		if !ok {
			a.unattributed(m.Interaction, "outside the attribution window or another user's list")
			return
		}
		a.env.Metrics.Feedback.WithLabelValues("true").Inc()
		if err := a.env.Analytics.RecordFeedback(ctx, fb); err != nil {
			a.env.Metrics.AnalyticsErrs.Inc()
			a.env.Logger.Warn("recording feedback failed", "rec_log_id", m.RecLogID, "err", err)
		}
	}
}

func (a *analyticsActor) unattributed(ev domain.Interaction, why string) {
	a.env.Metrics.Feedback.WithLabelValues("false").Inc()
	a.env.Logger.Debug("feedback not attributed", "event_id", ev.EventID, "rec_log_id", ev.RecLogID, "reason", why)
}

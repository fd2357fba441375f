package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultThrottleInterval is how often a repeated warning gets through.
const DefaultThrottleInterval = 10 * time.Second

// maxThrottled bounds the warnings a Throttle remembers; past it, those
// seen longer than an interval ago are forgotten, and if all are recent a
// new one goes through unthrottled.
const maxThrottled = 4096

// ThrottleDependencyKey is the attribute that, with the message, tells
// one warning from another: the same message about two dependencies is
// two warnings.
const ThrottleDependencyKey = "dependency"

// ThrottleSuppressedKey is the attribute of a warning let through that
// counts the ones like it suppressed since the previous one.
const ThrottleSuppressedKey = "suppressed"

// Throttle is a slog.Handler that rate-limits warnings: of the records at
// WARN or above with one message (and one "dependency" attribute, when
// they have one), it lets through at most one per interval, and the next
// one it lets through carries, as attribute "suppressed", how many it
// dropped meanwhile. An outage that fails every request thus logs a line
// per interval instead of one per request. Records below WARN pass
// untouched. A count is reported only with the next record let through:
// when the warnings stop, the last count is never written.
//
// Handlers derived with WithAttrs and WithGroup share the parent's
// memory, so a message is limited across every logger of the process
// that derives from one Throttle. A "dependency" attribute is seen when
// it is given outside any group.
type Throttle struct {
	next    slog.Handler
	state   *throttleState
	dep     string // the dependency attribute given with WithAttrs
	grouped bool   // a group is open: record attributes are nested
}

type throttleKey struct{ msg, dep string }

type throttleEntry struct {
	last       time.Time // when one was let through
	suppressed int
}

type throttleState struct {
	every time.Duration
	mu    sync.Mutex
	seen  map[throttleKey]*throttleEntry
}

// NewThrottle wraps next; every is the interval (DefaultThrottleInterval
// when not positive).
func NewThrottle(next slog.Handler, every time.Duration) *Throttle {
	if every <= 0 {
		every = DefaultThrottleInterval
	}
	return &Throttle{next: next, state: &throttleState{every: every, seen: map[throttleKey]*throttleEntry{}}}
}

// Enabled implements slog.Handler.
func (h *Throttle) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle implements slog.Handler. The record's time is the clock, so that
// a flood of records is judged by when they were made.
func (h *Throttle) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	key := throttleKey{msg: r.Message, dep: h.dep}
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == ThrottleDependencyKey {
				key.dep = a.Value.String()
				return false
			}
			return true
		})
	}
	at := r.Time
	if at.IsZero() {
		at = time.Now()
	}
	suppressed, pass := h.state.admit(key, at)
	if !pass {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int(ThrottleSuppressedKey, suppressed))
	}
	return h.next.Handle(ctx, r)
}

// admit decides on one record of key made at at, and returns how many
// were suppressed before it when it passes.
func (s *throttleState) admit(key throttleKey, at time.Time) (suppressed int, pass bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.seen[key]
	if e != nil && at.Sub(e.last) < s.every {
		e.suppressed++
		return 0, false
	}
	if e == nil {
		if len(s.seen) >= maxThrottled {
			for k, old := range s.seen {
				if at.Sub(old.last) >= s.every {
					delete(s.seen, k)
				}
			}
			if len(s.seen) >= maxThrottled {
				return 0, true
			}
		}
		e = &throttleEntry{}
		s.seen[key] = e
	}
	suppressed, e.suppressed, e.last = e.suppressed, 0, at
	return suppressed, true
}

// WithAttrs implements slog.Handler.
func (h *Throttle) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			if a.Key == ThrottleDependencyKey {
				c.dep = a.Value.String()
			}
		}
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Throttle) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next, c.grouped = h.next.WithGroup(name), true
	return &c
}

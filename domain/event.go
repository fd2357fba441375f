package domain

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// EventType is the kind of an interaction between a user and a movie.
type EventType string

// The interaction kinds Marquee understands. Every kind marks the movie as
// seen by the user, so it is never recommended to them again; dislike is
// also negative evidence for the model.
const (
	EventView          EventType = "view"
	EventClick         EventType = "click"
	EventLike          EventType = "like"
	EventDislike       EventType = "dislike"
	EventRating        EventType = "rating"
	EventWatchComplete EventType = "watch_complete"
	EventAddToList     EventType = "add_to_list"
)

// EventTypes lists every valid EventType in a stable order (for docs and enums).
var EventTypes = []EventType{
	EventView, EventClick, EventLike, EventDislike, EventRating, EventWatchComplete, EventAddToList,
}

// ParseEventType validates s as an event type.
func ParseEventType(s string) (EventType, error) {
	for _, t := range EventTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", &FieldError{Field: "type", Message: fmt.Sprintf("unknown event type %q; expected one of %v", s, EventTypes), Value: s}
}

// Bounds on event values and times. Ratings use the MovieLens scale; a time
// far in the future is a clock bug on the client, one before 1995 predates
// any catalog Marquee serves.
const (
	MinRating       = 0.5
	MaxRating       = 5.0
	MaxEventValue   = 1e9
	MaxFutureSkew   = 5 * time.Minute
	MaxRecLogIDSize = MaxIDLength
	// MaxAbsWeight bounds the weight of one event, whichever door it came
	// through: the configured weights keep every type within it (a rating
	// weighs at most its multiplier times MaxRating), and a record that
	// claims more (say 1e300, which would put one movie at the top of
	// every popular list and overflow the model's float32 confidences) is
	// refused.
	MaxAbsWeight = 100.0
)

// EarliestEventTime is the oldest timestamp an event may carry.
var EarliestEventTime = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)

// EventInput is an interaction as a client states it, before validation.
// Empty strings and nil pointers mean "absent".
type EventInput struct {
	EventID   string
	UserID    string
	MovieID   string
	Type      string
	Value     *float64
	Timestamp *time.Time
	RecLogID  string
}

// Interaction is a validated, weighted event. It is what travels through
// Kafka, what user actors store, and what the archive and the trainer read.
type Interaction struct {
	EventID    string    `json:"event_id"`
	UserID     UserID    `json:"user_id"`
	MovieID    MovieID   `json:"movie_id"`
	Type       EventType `json:"type"`
	Value      *float64  `json:"value,omitempty"`
	Weight     float64   `json:"weight"`
	Time       time.Time `json:"ts"`
	RecLogID   string    `json:"rec_log_id,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
}

// NewInteraction validates in and weighs it with w. now is the server clock:
// it bounds the timestamp and stands in for a missing one. Every problem is
// reported, each naming its JSON field.
func NewInteraction(in EventInput, w Weights, now time.Time) (Interaction, error) {
	var errs FieldErrors
	if err := checkID(in.EventID); err != nil {
		errs = errs.add("event_id", err.Error(), in.EventID)
	}
	if err := checkID(in.UserID); err != nil {
		errs = errs.add("user_id", err.Error(), in.UserID)
	}
	if err := checkID(in.MovieID); err != nil {
		errs = errs.add("movie_id", err.Error(), in.MovieID)
	}
	typ, err := ParseEventType(in.Type)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			errs = append(errs, fe)
		}
	}
	errs = checkValue(errs, typ, in.Value)
	ts := now
	if in.Timestamp != nil {
		ts = *in.Timestamp
		switch {
		case ts.After(now.Add(MaxFutureSkew)):
			errs = errs.add("timestamp", fmt.Sprintf("is more than %s in the future", MaxFutureSkew), ts)
		case ts.Before(EarliestEventTime):
			errs = errs.add("timestamp", "is before "+EarliestEventTime.Format(time.DateOnly), ts)
		}
	}
	if in.RecLogID != "" {
		if err := checkID(in.RecLogID); err != nil {
			errs = errs.add("rec_log_id", err.Error(), in.RecLogID)
		}
	}
	if len(errs) > 0 {
		return Interaction{}, errs
	}
	ev := Interaction{
		EventID:    in.EventID,
		UserID:     UserID(in.UserID),
		MovieID:    MovieID(in.MovieID),
		Type:       typ,
		Value:      in.Value,
		Weight:     w.For(typ, in.Value),
		Time:       ts.UTC(),
		RecLogID:   in.RecLogID,
		IngestedAt: now.UTC(),
	}
	// The weight comes from configured weights, which are bounded at start;
	// checking it here too keeps the one rule of Validate in force.
	if err := ev.Validate(); err != nil {
		return Interaction{}, err
	}
	return ev, nil
}

// Validate checks an interaction that did not come from NewInteraction (a
// record read from the event stream, an imported row) by the rules every
// interaction obeys, whichever door it entered by: valid ids, a known type,
// a value the type allows, a finite weight of the type's sign within
// ±MaxAbsWeight, and a time from EarliestEventTime to MaxFutureSkew past
// its ingestion. Each problem names its JSON field.
func (ev Interaction) Validate() error {
	var errs FieldErrors
	for _, f := range []struct{ name, id string }{
		{"event_id", ev.EventID}, {"user_id", string(ev.UserID)}, {"movie_id", string(ev.MovieID)},
	} {
		if err := checkID(f.id); err != nil {
			errs = errs.add(f.name, err.Error(), f.id)
		}
	}
	if ev.RecLogID != "" {
		if err := checkID(ev.RecLogID); err != nil {
			errs = errs.add("rec_log_id", err.Error(), ev.RecLogID)
		}
	}
	if _, err := ParseEventType(string(ev.Type)); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			errs = append(errs, fe)
		}
	} else {
		errs = checkValue(errs, ev.Type, ev.Value)
		errs = checkWeight(errs, ev.Type, ev.Weight)
	}
	switch {
	case ev.Time.IsZero():
		errs = errs.add("ts", "is required", nil)
	case ev.Time.Before(EarliestEventTime):
		errs = errs.add("ts", "is before "+EarliestEventTime.Format(time.DateOnly), ev.Time)
	case !ev.IngestedAt.IsZero() && ev.Time.After(ev.IngestedAt.Add(MaxFutureSkew)):
		errs = errs.add("ts", fmt.Sprintf("is more than %s after the event was ingested", MaxFutureSkew), ev.Time)
	}
	return errs.err()
}

// checkWeight enforces the weight rules: finite, within ±MaxAbsWeight,
// negative for a dislike, zero or positive for a rating (zero: below
// Weights.PositiveMinRating, seen but no preference) and positive for
// every other type (a record whose weight contradicts its type would
// teach the model the opposite of what the user did).
func checkWeight(errs FieldErrors, typ EventType, w float64) FieldErrors {
	switch {
	case math.IsNaN(w) || math.IsInf(w, 0):
		return errs.add("weight", "must be a finite number", w)
	case math.Abs(w) > MaxAbsWeight:
		return errs.add("weight", fmt.Sprintf("must be between %g and %g", -MaxAbsWeight, MaxAbsWeight), w)
	case typ == EventDislike && w >= 0:
		return errs.add("weight", "must be negative for a dislike", w)
	case typ == EventRating && w < 0:
		return errs.add("weight", "must not be negative for a rating", w)
	case typ != EventDislike && typ != EventRating && w <= 0:
		return errs.add("weight", fmt.Sprintf("must be positive for %s", typ), w)
	}
	return errs
}

// checkValue enforces the value rules: a rating needs one on the rating
// scale; other kinds may carry a non-negative number (seconds watched, say)
// that Marquee stores but does not weigh.
func checkValue(errs FieldErrors, typ EventType, v *float64) FieldErrors {
	if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
		return errs.add("value", "must be a finite number", *v)
	}
	if typ == EventRating {
		switch {
		case v == nil:
			return errs.add("value", "is required for a rating", nil)
		case *v < MinRating || *v > MaxRating:
			return errs.add("value", fmt.Sprintf("a rating must be between %g and %g", MinRating, MaxRating), *v)
		}
		return errs
	}
	if v != nil && (*v < 0 || *v > MaxEventValue) {
		return errs.add("value", fmt.Sprintf("must be between 0 and %g", MaxEventValue), *v)
	}
	return errs
}

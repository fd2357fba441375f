package domain

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Weights maps each event type to its implicit-feedback strength. A user's
// preference for a movie is the sum of the weights of their events on it:
// positive sums are liking with confidence growing with the sum, negative
// sums (dislikes) are confident non-preference, and a zero sum is seen but
// no evidence either way. A rating weighs its value times Rating, so five
// stars count more than one — unless it is below PositiveMinRating.
type Weights struct {
	View          float64
	Click         float64
	Like          float64
	Dislike       float64
	WatchComplete float64
	AddToList     float64
	Rating        float64
	// PositiveMinRating, when > 0, is the lowest rating that counts as a
	// preference: a rating below it weighs 0. The movie is then seen —
	// kept in the user's history and never recommended to them — but
	// adds nothing to the model: in implicit ALS a zero weight is
	// preference 0 at the baseline confidence 1, exactly what every movie
	// the user never touched gets (Hu, Koren and Volinsky 2008), not the
	// confident rejection a dislike is. This is how explicit ratings are
	// usually turned into implicit feedback (Liang et al. 2018 keep the
	// ratings of four stars and up); the dislike event is there for
	// rejection. 0 (the default) makes every rating a preference.
	PositiveMinRating float64
}

// DefaultWeights orders the signals by how much effort and intent each
// takes: finishing a film says more than opening its page.
func DefaultWeights() Weights {
	return Weights{View: 1, Click: 2, Like: 4, Dislike: -4, WatchComplete: 5, AddToList: 3, Rating: 1}
}

// For returns the weight of one event.
func (w Weights) For(t EventType, value *float64) float64 {
	switch t {
	case EventView:
		return w.View
	case EventClick:
		return w.Click
	case EventLike:
		return w.Like
	case EventDislike:
		return w.Dislike
	case EventWatchComplete:
		return w.WatchComplete
	case EventAddToList:
		return w.AddToList
	case EventRating:
		if value == nil || w.PositiveMinRating > 0 && *value < w.PositiveMinRating {
			return 0
		}
		return w.Rating * *value
	}
	return 0
}

// ParseWeights reads overrides of the default weights in the form
// "view=1,click=2,dislike=-4". Unknown names and non-finite numbers are
// errors; a dislike must stay negative and every other kind positive, or
// the model would learn the opposite of what users said; and every event
// must weigh at most MaxAbsWeight either way, so a rating's multiplier is
// at most MaxAbsWeight / MaxRating.
func ParseWeights(s string) (Weights, error) {
	w := DefaultWeights()
	if strings.TrimSpace(s) == "" {
		return w, nil
	}
	fields := map[string]*float64{
		string(EventView): &w.View, string(EventClick): &w.Click, string(EventLike): &w.Like,
		string(EventDislike): &w.Dislike, string(EventWatchComplete): &w.WatchComplete,
		string(EventAddToList): &w.AddToList, string(EventRating): &w.Rating,
	}
	for _, part := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return w, fmt.Errorf("weight %q: want name=number", part)
		}
		dst, known := fields[strings.TrimSpace(name)]
		if !known {
			return w, fmt.Errorf("weight %q: unknown event type", name)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return w, fmt.Errorf("weight %q: not a finite number", part)
		}
		*dst = v
	}
	if w.Dislike >= 0 {
		return w, fmt.Errorf("weight dislike=%g: must be negative", w.Dislike)
	}
	for _, t := range EventTypes {
		v := *fields[string(t)]
		if t != EventDislike && v <= 0 {
			return w, fmt.Errorf("weight %s=%g: must be positive", t, v)
		}
		limit := MaxAbsWeight
		if t == EventRating {
			limit = MaxAbsWeight / MaxRating // the weight of a rating is this times its value
		}
		if math.Abs(v) > limit {
			return w, fmt.Errorf("weight %s=%g: must be at most %g in absolute value (an event weighs at most %g)", t, v, limit, MaxAbsWeight)
		}
	}
	return w, nil
}

package domain

import (
	"math"
	"time"
)

// Popularity scores movies by exponentially time-decayed interest: every
// positive event adds its weight, and a contribution halves every HalfLife.
//
// Scores are kept in log space as a time-invariant key
//
//	key = log Σ w·exp(λ·(t − epoch)),   λ = ln 2 / HalfLife,
//
// so that the score at any time now is exp(key − λ·(now − epoch)). Because
// every movie's score shrinks by the same factor as time passes, ordering
// by key is ordering by current score: stores never rescan to decay, a
// new event only raises one key, and old data cannot underflow to zero.
type Popularity struct {
	HalfLife time.Duration
}

// PopularityEpoch anchors keys. Keys computed with different half-lives are
// not comparable; changing the half-life means recomputing them.
var PopularityEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultPopularity uses a one-week half-life: a catalog's trending list
// should move within days, not hours.
func DefaultPopularity() Popularity { return Popularity{HalfLife: 7 * 24 * time.Hour} }

func (p Popularity) lambda() float64 { return math.Ln2 / p.HalfLife.Seconds() }

// Contribution returns the log-space term an event adds to its movie's key,
// and false for events that carry no positive interest (dislikes).
func (p Popularity) Contribution(weight float64, t time.Time) (float64, bool) {
	if weight <= 0 || math.IsNaN(weight) {
		return 0, false
	}
	return math.Log(weight) + p.lambda()*t.Sub(PopularityEpoch).Seconds(), true
}

// ScoreAt turns a key into the decayed score at now.
func (p Popularity) ScoreAt(key float64, now time.Time) float64 {
	return math.Exp(key - p.lambda()*now.Sub(PopularityEpoch).Seconds())
}

// EmptyPopularityKey is the key of a movie with no positive events.
var EmptyPopularityKey = math.Inf(-1)

// AddLogKeys returns log(exp(a)+exp(b)) without overflow: the key of the
// union of two sets of contributions.
func AddLogKeys(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

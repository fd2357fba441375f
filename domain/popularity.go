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

// PopularitySum adds up positive events per movie, so that a bulk path can
// record one event per movie instead of one per event: Each yields, for
// every movie, a (weight, time) whose Contribution is exactly the sum of
// the movie's contributions.
type PopularitySum struct {
	p    Popularity
	keys map[MovieID]float64
	last map[MovieID]time.Time
}

// NewSum returns an empty PopularitySum under p.
func (p Popularity) NewSum() *PopularitySum {
	return &PopularitySum{p: p, keys: map[MovieID]float64{}, last: map[MovieID]time.Time{}}
}

// Add counts one event; events without positive interest change nothing.
func (s *PopularitySum) Add(movie MovieID, weight float64, t time.Time) {
	term, ok := s.p.Contribution(weight, t)
	if !ok {
		return
	}
	if k, seen := s.keys[movie]; seen {
		s.keys[movie] = AddLogKeys(k, term)
		if t.After(s.last[movie]) {
			s.last[movie] = t
		}
		return
	}
	s.keys[movie], s.last[movie] = term, t
}

// Each calls fn once per movie with its equivalent event: at the movie's
// latest event time, and the weight Σ wᵢ·2^(−(t−tᵢ)/HalfLife), which is at
// most the plain sum of the weights, so it neither overflows nor vanishes.
func (s *PopularitySum) Each(fn func(movie MovieID, weight float64, t time.Time) error) error {
	for m, key := range s.keys {
		t := s.last[m]
		if err := fn(m, math.Exp(key-s.p.lambda()*t.Sub(PopularityEpoch).Seconds()), t); err != nil {
			return err
		}
	}
	return nil
}

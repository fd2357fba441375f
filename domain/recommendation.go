package domain

import (
	"fmt"
	"time"
)

// Tier names the source a recommendation list came from. The walk tries
// them in this order and answers from the first that can serve.
type Tier string

// The four serving tiers of the seed design.
const (
	TierCache   Tier = "cache"   // a list computed earlier by another tier, still valid
	TierVector  Tier = "vector"  // nearest movies to the user's real-time preference vector
	TierBatch   Tier = "batch"   // the list precomputed for the user by the last training
	TierPopular Tier = "popular" // time-decayed popular movies the user has not seen
)

// Tiers lists the tiers in walk order.
var Tiers = []Tier{TierCache, TierVector, TierBatch, TierPopular}

// TierSession marks a list served to an anonymous session (the fold-in of
// the session's interactions, without a user): it is logged and measured
// as a tier of its own, though it walks no cache and no batch list.
const TierSession Tier = "session"

// Limits on the size of a requested list.
const (
	MinListSize     = 1
	MaxListSize     = 100
	DefaultListSize = 10
)

// CheckListSize validates a requested list length n.
func CheckListSize(n int) error {
	if n < MinListSize || n > MaxListSize {
		return &FieldError{Field: "n", Message: fmt.Sprintf("must be between %d and %d", MinListSize, MaxListSize), Value: n}
	}
	return nil
}

// ScoredMovie is one recommended movie. Score is comparable only within
// one list: an inner product for vector and batch lists, a decayed
// popularity for popular ones.
type ScoredMovie struct {
	MovieID MovieID `json:"movie_id"`
	Score   float64 `json:"score"`
	Title   string  `json:"title,omitempty"`
	// Because, when an explanation was asked for, are the movies of the
	// user's history that contributed most to Score (never cached).
	Because []Reason `json:"because,omitempty"`
}

// Reason is a movie of the user's history behind a recommendation: its
// share of the recommended movie's score under the serving model.
type Reason struct {
	MovieID MovieID `json:"movie_id"`
	Title   string  `json:"title,omitempty"`
	Share   float64 `json:"share"`
}

// RecList is a ranked list as a tier computed it. Tier is the tier that
// computed it, so a cached list still says where it came from.
type RecList struct {
	Items        []ScoredMovie `json:"items"`
	Tier         Tier          `json:"tier"`
	ModelVersion string        `json:"model_version,omitempty"`
	GeneratedAt  time.Time     `json:"generated_at"`
}

// Truncate returns the list cut to at most n items, sharing storage.
func (l RecList) Truncate(n int) RecList {
	if len(l.Items) > n {
		l.Items = l.Items[:n]
	}
	return l
}

// Without returns the list minus the movies in seen, keeping order. Stored
// lists (cache, batch) can predate the user's latest events; filtering at
// serve time keeps the rule "seen is never recommended" exact.
func (l RecList) Without(seen MovieSet) RecList {
	if len(seen) == 0 {
		return l
	}
	kept := make([]ScoredMovie, 0, len(l.Items))
	for _, it := range l.Items {
		if !seen.Has(it.MovieID) {
			kept = append(kept, it)
		}
	}
	l.Items = kept
	return l
}

// Served is one list as it was served: the impression analytics counts.
type Served struct {
	RecLogID  string        `json:"rec_log_id"`
	UserID    UserID        `json:"user_id"`
	List      RecList       `json:"list"`
	ServedBy  Tier          `json:"served_by"`
	Latency   time.Duration `json:"latency"`
	ServedAt  time.Time     `json:"served_at"`
	Requested int           `json:"requested"`
}

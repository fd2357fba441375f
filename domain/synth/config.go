package synth

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// ErrConfig is wrapped by every configuration error of New, so callers can
// tell a bad Config from a bad catalog with errors.Is.
var ErrConfig = errors.New("synth: invalid config")

// Config shapes a synthetic interaction history. The zero value is not
// usable; start from DefaultConfig and change what the run needs.
type Config struct {
	// Users is the number of users; they are named user_0 … user_{Users-1}.
	Users int
	// Seed selects the random world: the same Seed, config and catalog give
	// the same stream, byte for byte, on every platform and Go release.
	Seed int64
	// Start is the earliest time an event may carry. It must not precede
	// domain.EarliestEventTime, or the events would not validate.
	Start time.Time
	// Span is the length of the history; every event lies in
	// [Start, Start+Span]. Each user is active during a random sub-window
	// of it, so arrivals and departures are staggered.
	Span time.Duration
	// MeanEventsPerUser is the average number of events per user. Users
	// with more history than the catalog allows stop early, so the
	// realised mean can fall below it on a very small catalog.
	MeanEventsPerUser float64
	// ActivityExponent is the Pareto tail index α of events per user:
	// P(events > n) falls like n^-α. It must exceed 1 so the mean exists;
	// values near 1 give a few extremely heavy users, large ones a crowd
	// of near-average users. No user gets more than MaxActivityFactor
	// times the mean, nor more than twice as many events as the catalog
	// has movies; the other users make up the difference.
	ActivityExponent float64
	// PopularityExponent is the Zipf exponent s of item popularity: the
	// movie of popularity rank r is drawn in proportion to r^-s (0 gives
	// every movie the same appeal). Ranks are a seeded permutation of the
	// catalog, independent of its order.
	PopularityExponent float64
	// GenreAffinity is how strongly taste follows genres: a movie's
	// appeal to a user is (Curiosity + t)^GenreAffinity, where t is the
	// user's total weight on the movie's genres. Appeal multiplies the
	// chance of picking the movie and raises enthusiasm once picked
	// (watching to the end, liking, rating high rather than disliking).
	// 0 removes taste altogether, a control world where popularity alone
	// decides; 2 makes favourite genres dominate while users still stray.
	GenreAffinity float64
	// Weights turns event types into implicit-feedback weights, exactly as
	// the server would weigh the same events (domain.NewInteraction).
	Weights domain.Weights
}

// Bounds of the model that are not configuration, exported so tests and
// docs can reason about the output.
const (
	// Curiosity is the base appeal of a movie outside every favourite
	// genre: with GenreAffinity 2 such a movie is (0.2/1.2)² ≈ 1/36 as
	// appealing as one squarely in a single favourite genre.
	Curiosity = 0.2
	// MaxActivityFactor caps the heaviest user at this multiple of
	// MeanEventsPerUser, so one user cannot take over a scale run.
	MaxActivityFactor = 50
	// MaxFavourites is the most favourite genres a user has.
	MaxFavourites = 3
)

// DefaultConfig is a demo-sized history with clear structure: 2,000 users
// with about 40 events each (80K events, heavy-tailed per user), Zipf
// popularity, and tastes that follow genres strongly, over the 90 days
// from 1 January 2025.
func DefaultConfig() Config {
	return Config{
		Users:              2000,
		Seed:               1,
		Start:              time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Span:               90 * 24 * time.Hour,
		MeanEventsPerUser:  40,
		ActivityExponent:   1.5,
		PopularityExponent: 1.0,
		GenreAffinity:      2.0,
		Weights:            domain.DefaultWeights(),
	}
}

// Validate reports every problem of c, each naming its field and wrapping
// ErrConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrConfig, field, fmt.Sprintf(format, args...)))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if c.Users <= 0 {
		bad("Users", "must be positive, got %d", c.Users)
	}
	if c.Start.Before(domain.EarliestEventTime) {
		bad("Start", "must not be before %s, got %s", domain.EarliestEventTime.Format(time.DateOnly), c.Start)
	}
	if c.Span < time.Second {
		bad("Span", "must be at least 1s, got %s", c.Span)
	}
	if !finite(c.MeanEventsPerUser) || c.MeanEventsPerUser < 1 {
		bad("MeanEventsPerUser", "must be a finite number of at least 1, got %g", c.MeanEventsPerUser)
	}
	if !finite(c.ActivityExponent) || c.ActivityExponent <= 1 {
		bad("ActivityExponent", "must be a finite number above 1 (the mean must exist), got %g", c.ActivityExponent)
	}
	if !finite(c.PopularityExponent) || c.PopularityExponent < 0 || c.PopularityExponent > 10 {
		bad("PopularityExponent", "must be between 0 and 10, got %g", c.PopularityExponent)
	}
	if !finite(c.GenreAffinity) || c.GenreAffinity < 0 || c.GenreAffinity > 20 {
		bad("GenreAffinity", "must be between 0 and 20, got %g", c.GenreAffinity)
	}
	errs = append(errs, checkWeights(c.Weights)...)
	return errors.Join(errs...)
}

// checkWeights applies the rule of domain.ParseWeights: a dislike must
// weigh negative and everything else positive, or a model trained on the
// output would learn the opposite of what the simulated users did. It
// catches the easy mistake of leaving Weights at its zero value.
func checkWeights(w domain.Weights) []error {
	var errs []error
	fields := []struct {
		name string
		v    float64
		neg  bool
	}{
		{"View", w.View, false}, {"Click", w.Click, false}, {"Like", w.Like, false},
		{"Dislike", w.Dislike, true}, {"WatchComplete", w.WatchComplete, false},
		{"AddToList", w.AddToList, false}, {"Rating", w.Rating, false},
	}
	for _, f := range fields {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0):
			errs = append(errs, fmt.Errorf("%w: Weights.%s must be finite, got %g", ErrConfig, f.name, f.v))
		case f.neg && f.v >= 0:
			errs = append(errs, fmt.Errorf("%w: Weights.%s must be negative, got %g", ErrConfig, f.name, f.v))
		case !f.neg && f.v <= 0:
			errs = append(errs, fmt.Errorf("%w: Weights.%s must be positive, got %g", ErrConfig, f.name, f.v))
		}
	}
	return errs
}

package domain

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Granularity is the period of an analytics time series.
type Granularity string

// The periods a summary can be broken into.
const (
	Hourly Granularity = "hour"
	Daily  Granularity = "day"
)

// Truncate returns the start of t's period (UTC).
func (g Granularity) Truncate(t time.Time) time.Time {
	if g == Hourly {
		return t.UTC().Truncate(time.Hour)
	}
	return t.UTC().Truncate(24 * time.Hour)
}

// Step is the length of one period.
func (g Granularity) Step() time.Duration {
	if g == Hourly {
		return time.Hour
	}
	return 24 * time.Hour
}

// ParseGranularity validates s.
func ParseGranularity(s string) (Granularity, error) {
	switch Granularity(s) {
	case Hourly, Daily:
		return Granularity(s), nil
	}
	return "", &FieldError{Field: "granularity", Message: "must be hour or day", Value: s}
}

// CTR counts impressions (served lists) and clicks. A list counts as
// clicked when at least one interaction came back from it on a movie it
// showed (an attributed feedback event with a position); CTR is
// clicks / impressions, 0 when nothing was served.
type CTR struct {
	Impressions int     `json:"impressions"`
	Clicks      int     `json:"clicks"`
	CTR         float64 `json:"ctr"`
}

// Add counts one impression, clicked or not.
func (c *CTR) Add(clicked bool) {
	c.Impressions++
	if clicked {
		c.Clicks++
	}
	c.CTR = float64(c.Clicks) / float64(c.Impressions)
}

// Latency are percentiles in milliseconds over Count samples.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
}

// LatencyOf computes nearest-rank percentiles of samples (in ms); it sorts
// samples in place.
func LatencyOf(samples []float64) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	sort.Float64s(samples)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(samples)))) - 1
		return samples[max(0, min(i, len(samples)-1))]
	}
	return Latency{Count: len(samples), P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

// TierStats is the traffic a tier answered.
type TierStats struct {
	Tier Tier `json:"tier"`
	CTR
	// Share is the fraction of all requests this tier answered.
	Share   float64 `json:"share"`
	Latency Latency `json:"latency"`
}

// ModelStats is the traffic served from one model version's lists.
type ModelStats struct {
	ModelVersion string `json:"model_version"`
	CTR
}

// PeriodStats is one point of the time series.
type PeriodStats struct {
	Period time.Time `json:"period"`
	CTR
	ByTier map[Tier]CTR `json:"by_tier"`
}

// SummaryTotals are the figures of the whole window.
type SummaryTotals struct {
	CTR
	// Coverage is DistinctRecommended / CatalogSize.
	Coverage            float64 `json:"coverage"`
	CatalogSize         int     `json:"catalog_size"`
	DistinctRecommended int     `json:"distinct_recommended"`
	// Diversity is the mean intra-list diversity by genre: for each list,
	// the mean Jaccard distance between the genre sets of its movies.
	Diversity float64 `json:"diversity"`
	// Novelty is the mean popularity rank of recommended movies (1 = the
	// most popular; higher means less obvious recommendations).
	Novelty float64 `json:"novelty"`
	// ListsSampled is how many lists Diversity and Novelty were measured
	// on (the most recent ones, up to a cap).
	ListsSampled int `json:"lists_sampled"`
}

// Summary is the analytics of a time window.
type Summary struct {
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	Granularity Granularity   `json:"granularity"`
	Totals      SummaryTotals `json:"totals"`
	ByTier      []TierStats   `json:"by_tier"`
	ByModel     []ModelStats  `json:"by_model"`
	Series      []PeriodStats `json:"series"`
	// Freshness is the time from an event's arrival to the user's updated
	// preference vector.
	Freshness Latency `json:"freshness"`
}

// FreshnessSample is one measured event-to-vector delay.
type FreshnessSample struct {
	At      time.Time     `json:"at"`
	EventID string        `json:"event_id"`
	Delay   time.Duration `json:"delay"`
	// UserID is the event's user, so that deleting the user deletes the
	// sample whatever became of the event.
	UserID UserID `json:"user_id,omitempty"`
}

// SummaryQuery selects the window of a summary.
type SummaryQuery struct {
	From, To    time.Time
	Granularity Granularity
}

// Validate checks the window: From before To, at most 10,000 periods.
func (q SummaryQuery) Validate() error {
	var errs FieldErrors
	if !q.From.Before(q.To) {
		errs = errs.add("from", "must be before to", q.From)
	}
	if _, err := ParseGranularity(string(q.Granularity)); err != nil {
		errs = append(errs, err.(*FieldError)) //nolint:errorlint // ParseGranularity returns *FieldError
	}
	if q.Granularity != "" && q.To.Sub(q.From)/q.Granularity.Step() > 10000 {
		errs = errs.add("to", fmt.Sprintf("the window holds more than 10000 %ss", q.Granularity), q.To)
	}
	return errs.err()
}

// GenreDiversity is the mean Jaccard distance between the genre sets of
// every pair of movies in a list (0 for lists under two movies); genres
// maps a movie to its genres.
func GenreDiversity(list []MovieID, genres func(MovieID) []string) float64 {
	if len(list) < 2 {
		return 0
	}
	sets := make([][]string, len(list))
	for i, m := range list {
		sets[i] = slices.Sorted(slices.Values(genres(m)))
	}
	total, pairs := 0.0, 0
	for i := range sets {
		for j := i + 1; j < len(sets); j++ {
			total += 1 - jaccard(sets[i], sets[j])
			pairs++
		}
	}
	return total / float64(pairs)
}

// jaccard of two sorted sets; two empty sets are identical.
func jaccard(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

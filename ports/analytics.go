package ports

import (
	"context"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// AnalyticsSink stores served lists and the feedback that comes back
// (recommendation_logs and recommendation_feedback in the seed design).
type AnalyticsSink interface {
	// LogServed stores served lists.
	LogServed(ctx context.Context, lists ...domain.Served) error
	// ServedList returns one served list by its rec_log_id or ErrNotFound.
	ServedList(ctx context.Context, recLogID string) (domain.Served, error)
	// RecordFeedback stores attributed feedback; a repeated EventID is ignored.
	RecordFeedback(ctx context.Context, fb ...domain.Feedback) error
	// RecordFreshness stores event-to-vector delays.
	RecordFreshness(ctx context.Context, samples ...domain.FreshnessSample) error
	// ForgetUser deletes every served list, feedback record and freshness
	// sample of the user, and the feedback and freshness samples of
	// eventIDs (the user's events: samples stored before they named their
	// user name only the event).
	ForgetUser(ctx context.Context, user domain.UserID, eventIDs []string) error
	// ForgetEvents deletes the feedback and freshness samples of eventIDs.
	ForgetEvents(ctx context.Context, eventIDs []string) error
}

// AnalyticsQuery aggregates what the sink stored.
type AnalyticsQuery interface {
	// Summary aggregates the lists served in [q.From, q.To): impressions,
	// clicks and CTR in total, by answering tier (with the tier's share of
	// requests and its latency percentiles), by model version and per
	// period; the number of distinct movies recommended; and the freshness
	// percentiles of the samples in the window. Catalog size, coverage,
	// diversity and novelty need the catalog and are left zero.
	Summary(ctx context.Context, q domain.SummaryQuery) (domain.Summary, error)
	// RecentLists returns the movies of up to limit of the most recent
	// lists served in [from, to), newest first.
	RecentLists(ctx context.Context, from, to time.Time, limit int) ([][]domain.MovieID, error)
}

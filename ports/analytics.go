package ports

import (
	"context"

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
}

package ports

import (
	"context"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// PopularStore keeps the time-decayed popularity of every movie (see
// domain.Popularity) and answers the top of it.
type PopularStore interface {
	// Record adds one positive event on movie at time t with weight w;
	// non-positive weights change nothing.
	Record(ctx context.Context, movie domain.MovieID, w float64, t time.Time) error
	// Top returns up to n movies by descending popularity, none in exclude,
	// scored as of now.
	Top(ctx context.Context, n int, exclude domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error)
}

// PopularEvent is one event's part in popularity.
type PopularEvent struct {
	Movie  domain.MovieID
	Weight float64
	Time   time.Time
}

// PopularBatchRecorder is a PopularStore that records many events in one
// write (PostgreSQL: one statement, so one commit instead of one each).
type PopularBatchRecorder interface {
	// RecordAll has the effect of Record on every event of evs.
	RecordAll(ctx context.Context, evs []PopularEvent) error
}

// RecordPopular records evs in s, in one write when s takes batches.
func RecordPopular(ctx context.Context, s PopularStore, evs []PopularEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if b, ok := s.(PopularBatchRecorder); ok && len(evs) > 1 {
		return b.RecordAll(ctx, evs)
	}
	for _, ev := range evs {
		if err := s.Record(ctx, ev.Movie, ev.Weight, ev.Time); err != nil {
			return err
		}
	}
	return nil
}

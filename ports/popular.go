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

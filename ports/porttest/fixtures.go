package porttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// ctx returns a context that ends with the test.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// baseTime is a fixed, microsecond-aligned instant: real stores keep
// microseconds, so fixtures never carry more precision than that.
var baseTime = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// uniq returns a name unique to this test, so suites can share one real
// database or broker without seeing each other's rows.
func uniq(t *testing.T, prefix string) string {
	t.Helper()
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

func list(tier domain.Tier, ids ...domain.MovieID) domain.RecList {
	l := domain.RecList{Tier: tier, ModelVersion: "v1", GeneratedAt: baseTime}
	for i, id := range ids {
		l.Items = append(l.Items, domain.ScoredMovie{MovieID: id, Score: float64(len(ids) - i), Title: "T " + string(id)})
	}
	return l
}

func ids(ms []domain.ScoredMovie) []domain.MovieID {
	out := make([]domain.MovieID, len(ms))
	for i, m := range ms {
		out[i] = m.MovieID
	}
	return out
}

func interaction(user domain.UserID, movie domain.MovieID, id string, at time.Time) domain.Interaction {
	v := 4.0
	return domain.Interaction{
		EventID: id, UserID: user, MovieID: movie, Type: domain.EventRating, Value: &v,
		Weight: 4, Time: at, RecLogID: "rl-" + id, IngestedAt: at.Add(time.Second),
	}
}

// contextWithCancel is a context ended by cancel or the test's end.
func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return c, cancel
}

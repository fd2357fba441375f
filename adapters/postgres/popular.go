package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var (
	_ ports.PopularStore         = (*PopularStore)(nil)
	_ ports.PopularBatchRecorder = (*PopularStore)(nil)
)

// PopularStore keeps each movie's time-invariant popularity key (see
// domain.Popularity) in table popular_movies, indexed by key descending,
// so Top is a walk down the index that skips excluded movies: it never
// starves and never sorts.
//
// Updates are group-committed: the events of concurrent Record and
// RecordAll calls raise the keys in one statement (see groupCommit).
type PopularStore struct {
	pool    *pgxpool.Pool
	pop     domain.Popularity
	records *groupCommit[[]ports.PopularEvent, struct{}]
}

func newPopularStore(pool *pgxpool.Pool, pop domain.Popularity, flushers int) *PopularStore {
	s := &PopularStore{pool: pool, pop: pop}
	s.records = newGroupCommit(flushers, groupLimit, s.recordGroup)
	return s
}

// Record implements ports.PopularStore.
func (s *PopularStore) Record(ctx context.Context, movie domain.MovieID, w float64, t time.Time) error {
	_, err := s.records.do(ctx, []ports.PopularEvent{{Movie: movie, Weight: w, Time: t}})
	return err
}

// RecordAll implements ports.PopularBatchRecorder.
func (s *PopularStore) RecordAll(ctx context.Context, evs []ports.PopularEvent) error {
	if len(evs) == 0 {
		return nil
	}
	_, err := s.records.do(ctx, evs)
	return err
}

// recordGroup raises the keys for the events of several calls at once:
// they are summed per movie first (domain.PopularitySum, exact), then
// every movie's key is raised by one atomic upsert that computes
// log(exp(a)+exp(b)) stably, as domain.AddLogKeys does:
// greatest(a,b) + ln(1 + exp(-|a-b|)), where the correction is skipped
// once it is below double precision (PostgreSQL's exp() raises an error
// rather than underflow to 0).
func (s *PopularStore) recordGroup(ctx context.Context, calls [][]ports.PopularEvent) ([]struct{}, error) {
	sum := s.pop.NewSum()
	for _, evs := range calls {
		for _, ev := range evs {
			sum.Add(ev.Movie, ev.Weight, ev.Time)
		}
	}
	var movies []string
	var terms []float64
	_ = sum.Each(func(m domain.MovieID, w float64, t time.Time) error {
		if term, ok := s.pop.Contribution(w, t); ok {
			movies, terms = append(movies, string(m)), append(terms, term)
		}
		return nil
	})
	if len(movies) == 0 {
		return make([]struct{}, len(calls)), nil
	}
	// Rows are locked in movie order, the same in every statement, so two
	// batches sharing movies wait for each other instead of deadlocking.
	_, err := s.pool.Exec(ctx, `
		INSERT INTO popular_movies AS p (movie_id, key)
		SELECT m, k FROM unnest($1::text[], $2::double precision[]) AS u(m, k) ORDER BY m
		ON CONFLICT (movie_id) DO UPDATE SET key =
			greatest(p.key, excluded.key) + CASE WHEN abs(p.key - excluded.key) < 700
				THEN ln(1 + exp(-abs(p.key - excluded.key))) ELSE 0 END`,
		movies, terms)
	if err != nil {
		return nil, wrap("popular record", err)
	}
	return make([]struct{}, len(calls)), nil
}

// Top implements ports.PopularStore. Equal keys are ordered by movie id,
// as in the in-memory store.
func (s *PopularStore) Top(ctx context.Context, n int, exclude domain.MovieSet, now time.Time) ([]domain.ScoredMovie, error) {
	if n <= 0 {
		return []domain.ScoredMovie{}, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT movie_id, key FROM popular_movies
		WHERE movie_id <> ALL($1::text[])
		ORDER BY key DESC, movie_id
		LIMIT $2`, setStrings(exclude), n)
	if err != nil {
		return nil, wrap("popular top", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ScoredMovie, error) {
		var id string
		var key float64
		err := row.Scan(&id, &key)
		return domain.ScoredMovie{MovieID: domain.MovieID(id), Score: s.pop.ScoreAt(key, now)}, err
	})
	return out, wrap("popular top", err)
}

// setStrings lists a movie set for an SQL text[] parameter (never nil:
// x <> ALL('{}') is true, x <> ALL(NULL) is not).
func setStrings(set domain.MovieSet) []string {
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, string(id))
	}
	return out
}

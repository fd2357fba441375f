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
type PopularStore struct {
	pool *pgxpool.Pool
	pop  domain.Popularity
}

// Record implements ports.PopularStore. The key update is one atomic
// upsert computing log(exp(a)+exp(b)) stably, as domain.AddLogKeys does:
// greatest(a,b) + ln(1 + exp(-|a-b|)), where the correction is skipped
// once it is below double precision (PostgreSQL's exp() raises an error
// rather than underflow to 0).
func (s *PopularStore) Record(ctx context.Context, movie domain.MovieID, w float64, t time.Time) error {
	term, ok := s.pop.Contribution(w, t)
	if !ok {
		return nil
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO popular_movies AS p (movie_id, key) VALUES ($1, $2)
		ON CONFLICT (movie_id) DO UPDATE SET key =
			greatest(p.key, excluded.key) + CASE WHEN abs(p.key - excluded.key) < 700
				THEN ln(1 + exp(-abs(p.key - excluded.key))) ELSE 0 END`,
		string(movie), term)
	return wrap("popular record", err)
}

// RecordAll implements ports.PopularBatchRecorder: the events are summed
// per movie first (domain.PopularitySum, exact), then every movie's key
// is raised by one statement, so a user actor's message or an import batch
// costs one commit.
func (s *PopularStore) RecordAll(ctx context.Context, evs []ports.PopularEvent) error {
	sum := s.pop.NewSum()
	for _, ev := range evs {
		sum.Add(ev.Movie, ev.Weight, ev.Time)
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
		return nil
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
	return wrap("popular record all", err)
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

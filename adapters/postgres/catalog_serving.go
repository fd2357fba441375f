package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.CatalogWatcher = (*Catalog)(nil)

// SetHidden implements ports.Catalog; it is announced in the same
// statement (always: telling a node of no change costs it one read).
func (c *Catalog) SetHidden(ctx context.Context, id domain.MovieID, hidden bool) (domain.Movie, error) {
	rows, err := c.pool.Query(ctx, `
		WITH up AS (UPDATE movies SET hidden = $2 WHERE movie_id = $1 RETURNING `+movieColumns+`),
		told AS (SELECT pg_notify($3, $1) FROM up)
		SELECT up.*, (SELECT count(*) FROM told) FROM up`, string(id), hidden, c.channel)
	if err != nil {
		return domain.Movie{}, wrap("catalog set hidden", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (domain.Movie, error) {
		var told int64
		var m domain.Movie
		var mid string
		var year int32
		err := row.Scan(&mid, &m.Title, &year, &m.Genres, &m.Hidden, &told)
		m.ID, m.Year = domain.MovieID(mid), int(year)
		if len(m.Genres) == 0 {
			m.Genres = nil
		}
		return m, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Movie{}, fmt.Errorf("movie %s: %w", id, ports.ErrNotFound)
	}
	return m, wrap("catalog set hidden", err)
}

// Delete implements ports.Catalog in one statement: the row goes, the id
// is remembered as deleted and the change is announced.
func (c *Catalog) Delete(ctx context.Context, id domain.MovieID) error {
	_, err := c.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM movies WHERE movie_id = $1),
		kept AS (INSERT INTO deleted_movies (movie_id) VALUES ($1) ON CONFLICT (movie_id) DO NOTHING RETURNING 1)
		SELECT pg_notify($2, $1) FROM kept`, string(id), c.channel)
	return wrap("catalog delete", err)
}

// Unservable implements ports.Catalog: the hidden movies (a partial index
// holds them) and the deleted ones.
func (c *Catalog) Unservable(ctx context.Context) (domain.MovieSet, error) {
	rows, err := c.pool.Query(ctx, `SELECT movie_id FROM movies WHERE hidden UNION ALL SELECT movie_id FROM deleted_movies`)
	if err != nil {
		return nil, wrap("catalog unservable", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("catalog unservable", err)
	}
	out := make(domain.MovieSet, len(ids))
	for _, id := range ids {
		out[domain.MovieID(id)] = struct{}{}
	}
	return out, nil
}

// catalogGenreClause is the genre filter ($2, lower case) on the movies
// row m (through the GIN index on genre_keys).
const catalogGenreClause = `(cardinality($2::text[]) = 0 OR m.genre_keys && $2::text[])`

// Latest implements ports.Catalog: a walk down index movies_latest.
func (c *Catalog) Latest(ctx context.Context, n int, f domain.Filter) ([]domain.Movie, error) {
	if n <= 0 {
		return []domain.Movie{}, nil
	}
	rows, err := c.pool.Query(ctx, `SELECT `+movieColumns+` FROM movies m
		WHERE NOT hidden AND movie_id <> ALL($3::text[]) AND `+catalogGenreClause+`
		ORDER BY year DESC, added_at DESC, movie_id LIMIT $1`, n, f.LowerGenres(), setStrings(f.Exclude))
	if err != nil {
		return nil, wrap("catalog latest", err)
	}
	ms, err := pgx.CollectRows(rows, scanMovie)
	if err != nil {
		return nil, wrap("catalog latest", err)
	}
	if ms == nil {
		ms = []domain.Movie{}
	}
	return ms, nil
}

// Similar implements ports.Catalog in SQL, in the order of
// domain.CompareBySimilarity: the Jaccard index of the lower-cased genre
// sets, the year gap (an unknown year as far as domain.YearGap puts it),
// the popularity key of popular_movies, the id.
func (c *Catalog) Similar(ctx context.Context, id domain.MovieID, k int, f domain.Filter) ([]domain.ScoredMovie, error) {
	target, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return []domain.ScoredMovie{}, nil
	}
	// The target's genres as a set, in lower case. Movies sharing one of
	// them come first whatever else (their Jaccard index is above 0), so
	// they are ranked on their own, found through the GIN index on
	// genre_keys; only if they are fewer than k do the others follow, by
	// year gap and popularity.
	targetGenres := slices.Compact(slices.Sorted(slices.Values(domain.Filter{Genres: target.Genres}.LowerGenres())))
	query := func(shared string, limit int) ([]domain.ScoredMovie, error) {
		rows, err := c.pool.Query(ctx, `
			SELECT m.movie_id, m.title, coalesce(s.inter / nullif(cardinality(m.genre_keys) + cardinality($4::text[]) - s.inter, 0), 0) AS j FROM movies m
			LEFT JOIN popular_movies p ON p.movie_id = m.movie_id
			CROSS JOIN LATERAL (SELECT count(*)::float8 AS inter FROM unnest(m.genre_keys) g WHERE g = ANY($4::text[])) s
			WHERE m.movie_id <> $1 AND NOT m.hidden AND m.movie_id <> ALL($3::text[]) AND `+catalogGenreClause+` AND `+shared+`
			ORDER BY j DESC,
				CASE WHEN m.year = 0 OR $5::int = 0 THEN 65536 ELSE abs(m.year - $5::int) END,
				coalesce(p.key, '-Infinity'::float8) DESC, m.movie_id
			LIMIT $6`, string(id), f.LowerGenres(), setStrings(f.Exclude), targetGenres, target.Year, limit)
		if err != nil {
			return nil, wrap("catalog similar", err)
		}
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ScoredMovie, error) {
			var s domain.ScoredMovie
			var mid string
			err := row.Scan(&mid, &s.Title, &s.Score)
			s.MovieID = domain.MovieID(mid)
			return s, err
		})
		return out, wrap("catalog similar", err)
	}
	out, err := query("m.genre_keys && $4::text[]", k)
	if err != nil {
		return nil, err
	}
	if len(out) < k {
		rest, err := query("NOT (m.genre_keys && $4::text[])", k-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	if out == nil {
		out = []domain.ScoredMovie{}
	}
	return out, nil
}

// WatchUnservable implements ports.CatalogWatcher with LISTEN on a
// connection taken out of the pool for as long as the watch lasts.
func (c *Catalog) WatchUnservable(ctx context.Context, fn func()) error {
	return listen(ctx, c.pool, c.channel, fn)
}

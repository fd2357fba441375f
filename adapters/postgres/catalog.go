package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

var _ ports.Catalog = (*Catalog)(nil)

// Catalog is the movie catalog in table movies, with the deleted movies
// in deleted_movies. Every change to what is unservable is announced on
// channel (NOTIFY in the changing statement, delivered at its commit).
type Catalog struct {
	pool    *pgxpool.Pool
	channel string // "marquee.catalog.<schema>": one per schema
}

// Put implements ports.Catalog in one statement, whatever the number of
// movies: the rows travel as parallel arrays (genres as JSON arrays, since
// SQL arrays cannot be ragged). When an id repeats, the last one wins.
func (c *Catalog) Put(ctx context.Context, movies ...domain.Movie) error {
	if len(movies) == 0 {
		return nil
	}
	movies = lastByKey(movies, func(m domain.Movie) domain.MovieID { return m.ID })
	ids := make([]string, len(movies))
	titles := make([]string, len(movies))
	years := make([]int32, len(movies))
	genres := make([]string, len(movies))
	for i, m := range movies {
		ids[i], titles[i], years[i] = string(m.ID), m.Title, int32(m.Year)
		g, err := json.Marshal(append([]string{}, m.Genres...)) // [] rather than null
		if err != nil {
			return fmt.Errorf("postgres: catalog put %s: %w", m.ID, err)
		}
		genres[i] = string(g)
	}
	// One statement: the upsert (which keeps hidden and added_at), the
	// deleted movies created again, and their announcement.
	_, err := c.pool.Exec(ctx, `
		WITH up AS (
			INSERT INTO movies (movie_id, title, year, genres, genre_keys)
			SELECT m.id, m.title, m.year, ARRAY(SELECT jsonb_array_elements_text(m.genres)),
				ARRAY(SELECT DISTINCT lower(g) FROM jsonb_array_elements_text(m.genres) g)
			FROM unnest($1::text[], $2::text[], $3::integer[], $4::jsonb[]) AS m(id, title, year, genres)
			ON CONFLICT (movie_id) DO UPDATE
			SET title = excluded.title, year = excluded.year, genres = excluded.genres, genre_keys = excluded.genre_keys
			RETURNING 1),
		back AS (DELETE FROM deleted_movies WHERE movie_id = ANY($1::text[]) RETURNING 1)
		SELECT pg_notify($5, 'put') FROM (SELECT 1 FROM back LIMIT 1) AS b`,
		ids, titles, years, genres, c.channel)
	return wrap("catalog put", err)
}

// Get implements ports.Catalog.
func (c *Catalog) Get(ctx context.Context, id domain.MovieID) (domain.Movie, error) {
	rows, err := c.pool.Query(ctx, `SELECT `+movieColumns+` FROM movies WHERE movie_id = $1`, string(id))
	if err != nil {
		return domain.Movie{}, wrap("catalog get", err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMovie)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Movie{}, fmt.Errorf("movie %s: %w", id, ports.ErrNotFound)
	}
	return m, wrap("catalog get", err)
}

// GetMany implements ports.Catalog.
func (c *Catalog) GetMany(ctx context.Context, ids []domain.MovieID) (map[domain.MovieID]domain.Movie, error) {
	out := make(map[domain.MovieID]domain.Movie, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := c.pool.Query(ctx, `SELECT `+movieColumns+` FROM movies WHERE movie_id = ANY($1::text[])`, movieIDStrings(ids))
	if err != nil {
		return nil, wrap("catalog get many", err)
	}
	ms, err := pgx.CollectRows(rows, scanMovie)
	if err != nil {
		return nil, wrap("catalog get many", err)
	}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

// List implements ports.Catalog. Ids are COLLATE "C": they compare
// bytewise, as Go strings do, whatever the server's locale.
func (c *Catalog) List(ctx context.Context, after domain.MovieID, limit int) ([]domain.Movie, error) {
	if limit <= 0 {
		return []domain.Movie{}, nil
	}
	rows, err := c.pool.Query(ctx, `
		SELECT `+movieColumns+` FROM movies
		WHERE movie_id > $1
		ORDER BY movie_id
		LIMIT $2`, string(after), limit)
	if err != nil {
		return nil, wrap("catalog list", err)
	}
	ms, err := pgx.CollectRows(rows, scanMovie)
	return ms, wrap("catalog list", err)
}

// Count implements ports.Catalog.
func (c *Catalog) Count(ctx context.Context) (int, error) {
	var n int
	err := c.pool.QueryRow(ctx, `SELECT count(*) FROM movies`).Scan(&n)
	return n, wrap("catalog count", err)
}

const movieColumns = "movie_id, title, year, genres, hidden"

func scanMovie(row pgx.CollectableRow) (domain.Movie, error) {
	var m domain.Movie
	var id string
	var year int32
	if err := row.Scan(&id, &m.Title, &year, &m.Genres, &m.Hidden); err != nil {
		return m, err
	}
	m.ID, m.Year = domain.MovieID(id), int(year)
	if len(m.Genres) == 0 {
		m.Genres = nil
	}
	return m, nil
}

func movieIDStrings(ids []domain.MovieID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// lastByKey drops every element whose key appears again later, keeping
// order: the semantics of applying the elements one after another, which
// a single INSERT ... ON CONFLICT DO UPDATE cannot do by itself (it
// refuses to touch a row twice).
func lastByKey[T any, K comparable](xs []T, key func(T) K) []T {
	last := make(map[K]int, len(xs))
	for i, x := range xs {
		last[key(x)] = i
	}
	if len(last) == len(xs) {
		return xs
	}
	out := make([]T, 0, len(last))
	for i, x := range xs {
		if last[key(x)] == i {
			out = append(out, x)
		}
	}
	return out
}

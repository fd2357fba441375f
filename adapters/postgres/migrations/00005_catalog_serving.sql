-- What the catalog owner decides is served: a hidden movie stays in the
-- catalog (hidden) but is never served; a deleted one leaves the catalog
-- and is remembered in deleted_movies, because its events, item vectors
-- and precomputed lists outlive it, until a PUT creates it again. Every
-- change to either is announced (NOTIFY) so that every node stops serving
-- the movie at once. added_at is when the catalog first had the movie
-- (GET /api/latest orders by year, then by it); rows that predate this
-- migration share the migration's time. genre_keys are the movie's genres
-- in lower case, each once, kept by every write: genre filters and the
-- metadata similarity of similar movies compare them (indexed).

-- +goose Up
ALTER TABLE movies ADD COLUMN hidden boolean NOT NULL DEFAULT false;
ALTER TABLE movies ADD COLUMN added_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE movies ADD COLUMN genre_keys text[] NOT NULL DEFAULT '{}';
UPDATE movies SET genre_keys = ARRAY(SELECT DISTINCT lower(g) FROM unnest(genres) g);
CREATE INDEX movies_genre_keys ON movies USING gin (genre_keys);
CREATE INDEX movies_hidden ON movies (movie_id) WHERE hidden;
CREATE INDEX movies_latest ON movies (year DESC, added_at DESC, movie_id) WHERE NOT hidden;

CREATE TABLE deleted_movies (
    movie_id   text COLLATE "C" PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE deleted_movies;
DROP INDEX movies_latest;
DROP INDEX movies_hidden;
DROP INDEX movies_genre_keys;
ALTER TABLE movies DROP COLUMN genre_keys;
ALTER TABLE movies DROP COLUMN added_at;
ALTER TABLE movies DROP COLUMN hidden;

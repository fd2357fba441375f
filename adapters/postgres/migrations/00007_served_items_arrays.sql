-- The movies of each served list as three arrays (ids, scores, titles; a
-- movie's position is its index, from 1) instead of a jsonb document.
-- Every list served is logged, and PostgreSQL parsed each document into
-- jsonb on the cores that serve: loadgen/log-items.sql measured 27 s per
-- million lists of 10 movies as jsonb with titles against 7-9 s as two
-- arrays without titles, with a quarter of the WAL (BENCHMARKS.md "Where
-- PostgreSQL's time goes"; what these three arrays bought is in "The
-- served lists as arrays"). A movie without a title has ''. The lists
-- logged before are converted in place. Going down, a score that is not
-- finite (which jsonb cannot hold as a number) becomes null.

-- +goose Up
ALTER TABLE recommendation_logs
    ADD COLUMN movie_ids text[] COLLATE "C",
    ADD COLUMN scores double precision[],
    ADD COLUMN titles text[];
UPDATE recommendation_logs SET
    movie_ids = ARRAY(SELECT e->>'movie_id' FROM jsonb_array_elements(items) WITH ORDINALITY AS t(e, n) ORDER BY n),
    scores = ARRAY(SELECT (e->>'score')::double precision FROM jsonb_array_elements(items) WITH ORDINALITY AS t(e, n) ORDER BY n),
    titles = ARRAY(SELECT coalesce(e->>'title', '') FROM jsonb_array_elements(items) WITH ORDINALITY AS t(e, n) ORDER BY n);
ALTER TABLE recommendation_logs
    ALTER COLUMN movie_ids SET NOT NULL,
    ALTER COLUMN scores SET NOT NULL,
    ALTER COLUMN titles SET NOT NULL,
    DROP COLUMN items;

-- +goose Down
ALTER TABLE recommendation_logs ADD COLUMN items jsonb;
UPDATE recommendation_logs SET items = coalesce(
    (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('position', n, 'movie_id', m,
        'score', CASE WHEN s IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE s END, 'title', nullif(t, ''))) ORDER BY n)
     FROM unnest(movie_ids, scores, titles) WITH ORDINALITY AS u(m, s, t, n)),
    '[]'::jsonb);
ALTER TABLE recommendation_logs
    ALTER COLUMN items SET NOT NULL,
    DROP COLUMN movie_ids,
    DROP COLUMN scores,
    DROP COLUMN titles;

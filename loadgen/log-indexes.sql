-- log-indexes.sql: what recommendation_logs' indexes cost to write
-- (BENCHMARKS.md "Tail latency at saturation"). Three copies of the table
-- are bulk-loaded with the same 2M served lists of 10 movies, and psql
-- prints each load's time. The copies keep the items as jsonb, the shape
-- before migration 00007 (the indexes are the same since):
--   a: as migrated (primary key, btrees on served_at and (user_id, served_at))
--   b: served_at as a BRIN instead of a btree
--   c: the primary key only
--
--   psql 'postgres://postgres@127.0.0.1:5432/test' -f loadgen/log-indexes.sql
--
-- About 4 minutes and 3 GB here; the schema is dropped at the end.
\timing on
DROP SCHEMA IF EXISTS log_indexes CASCADE;
CREATE SCHEMA log_indexes;
SET search_path = log_indexes;
CREATE TABLE a (rec_log_id text COLLATE "C" PRIMARY KEY, user_id text COLLATE "C" NOT NULL, served_by text NOT NULL,
  source_tier text NOT NULL, model_version text NOT NULL DEFAULT '', generated_at timestamptz NOT NULL, items jsonb NOT NULL,
  latency interval NOT NULL, served_at timestamptz NOT NULL, requested integer NOT NULL DEFAULT 0);
CREATE INDEX ON a (served_at);
CREATE INDEX ON a (user_id, served_at);
CREATE TABLE b (LIKE a);
ALTER TABLE b ADD PRIMARY KEY (rec_log_id);
CREATE INDEX ON b USING brin (served_at);
CREATE INDEX ON b (user_id, served_at);
CREATE TABLE c (LIKE a);
ALTER TABLE c ADD PRIMARY KEY (rec_log_id);
CREATE UNLOGGED TABLE src AS
  SELECT '019a' || lpad(g::text, 12, '0') AS id, 'ml_u' || (g % 943) AS u,
    (SELECT json_agg(json_build_object('position', p, 'movie_id', 'ml_m' || (p * 7 + g % 100), 'score', 1.0 / p,
      'title', 'A title of movie number ' || p)) FROM generate_series(1, 10) p)::jsonb AS items,
    now() - interval '1 hour' + g * interval '1 millisecond' AS ts
  FROM generate_series(1, 2000000) g;
\echo a: as migrated
INSERT INTO a SELECT id, u, 'cache', 'vector', 'als-1', ts, items, '300 microseconds', ts, 10 FROM src;
\echo b: served_at as a BRIN
INSERT INTO b SELECT id, u, 'cache', 'vector', 'als-1', ts, items, '300 microseconds', ts, 10 FROM src;
\echo c: the primary key only
INSERT INTO c SELECT id, u, 'cache', 'vector', 'als-1', ts, items, '300 microseconds', ts, 10 FROM src;
SELECT 'a' AS copy, pg_size_pretty(pg_indexes_size('a')) AS indexes
  UNION ALL SELECT 'b', pg_size_pretty(pg_indexes_size('b'))
  UNION ALL SELECT 'c', pg_size_pretty(pg_indexes_size('c'));
DROP SCHEMA log_indexes CASCADE;

-- log-items.sql: what the shape of recommendation_logs.items costs to
-- write (BENCHMARKS.md "Where PostgreSQL's time goes"). The same 1M served
-- lists of 10 movies go into four copies of the table, each with its
-- primary key only (log-indexes.sql measures the indexes), and psql prints
-- each load's time, then each copy's size and the WAL it wrote:
--   a: items jsonb with titles (as before migration 00007)
--   b: items jsonb without titles
--   c: items json (text, validated only) with titles
--   d: movie ids and scores as two arrays (text[], real[])
-- The text each copy parses is made beforehand, so a load's time is the
-- parsing, the row and the WAL, as in the node's COPY.
--
--   psql 'postgres://postgres@127.0.0.1:5432/test' -f loadgen/log-items.sql
--
-- About 3 minutes and 2 GB here; the schema is dropped at the end.
\timing on
DROP SCHEMA IF EXISTS log_items CASCADE;
CREATE SCHEMA log_items;
SET search_path = log_items;
CREATE TABLE a (rec_log_id text COLLATE "C" PRIMARY KEY, user_id text COLLATE "C" NOT NULL, served_at timestamptz NOT NULL, items jsonb NOT NULL);
CREATE TABLE b (LIKE a INCLUDING ALL);
CREATE TABLE c (rec_log_id text COLLATE "C" PRIMARY KEY, user_id text COLLATE "C" NOT NULL, served_at timestamptz NOT NULL, items json NOT NULL);
CREATE TABLE d (rec_log_id text COLLATE "C" PRIMARY KEY, user_id text COLLATE "C" NOT NULL, served_at timestamptz NOT NULL,
  movie_ids text[] NOT NULL, scores real[] NOT NULL);
CREATE TABLE wal (copy text, bytes numeric);
CREATE UNLOGGED TABLE src AS
  SELECT '019a' || lpad(g::text, 12, '0') AS id, 'ml_u' || (g % 943) AS u,
    now() - interval '1 hour' + g * interval '1 millisecond' AS ts,
    (SELECT json_agg(json_build_object('position', p, 'movie_id', 'ml_m' || (p * 7 + g % 100), 'score', 1.0 / p,
      'title', 'A title of movie number ' || p))::text FROM generate_series(1, 10) p) AS with_titles,
    (SELECT json_agg(json_build_object('position', p, 'movie_id', 'ml_m' || (p * 7 + g % 100), 'score', 1.0 / p))::text
      FROM generate_series(1, 10) p) AS without_titles,
    (SELECT array_agg('ml_m' || (p * 7 + g % 100))::text FROM generate_series(1, 10) p) AS ids,
    (SELECT array_agg((1.0 / p)::real)::text FROM generate_series(1, 10) p) AS scores
  FROM generate_series(1, 1000000) g;
CHECKPOINT;
SELECT pg_current_wal_lsn() AS lsn \gset
\echo a: jsonb with titles
INSERT INTO a SELECT id, u, ts, with_titles::jsonb FROM src;
INSERT INTO wal SELECT 'a', pg_current_wal_lsn() - :'lsn'::pg_lsn;
SELECT pg_current_wal_lsn() AS lsn \gset
\echo b: jsonb without titles
INSERT INTO b SELECT id, u, ts, without_titles::jsonb FROM src;
INSERT INTO wal SELECT 'b', pg_current_wal_lsn() - :'lsn'::pg_lsn;
SELECT pg_current_wal_lsn() AS lsn \gset
\echo c: json with titles
INSERT INTO c SELECT id, u, ts, with_titles::json FROM src;
INSERT INTO wal SELECT 'c', pg_current_wal_lsn() - :'lsn'::pg_lsn;
SELECT pg_current_wal_lsn() AS lsn \gset
\echo d: two arrays
INSERT INTO d SELECT id, u, ts, ids::text[], scores::real[] FROM src;
INSERT INTO wal SELECT 'd', pg_current_wal_lsn() - :'lsn'::pg_lsn;
\timing off
SELECT w.copy, pg_size_pretty(pg_total_relation_size(w.copy::regclass)) AS "table + index", pg_size_pretty(w.bytes) AS wal
FROM wal w ORDER BY 1;
RESET search_path;
DROP SCHEMA log_items CASCADE;

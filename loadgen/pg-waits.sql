-- pg-waits.sql: what PostgreSQL's backends wait on while a node is under
-- load (BENCHMARKS.md "Where PostgreSQL's time goes"). One session samples
-- pg_stat_activity every 50 ms, :samples times (default 400, 20 s), and
-- prints the share of samples each (backend, wait event, statement) had
-- active, then what the table of served lists, the WAL and the
-- checkpointer did over the same time (the tables of served lists of
-- every schema, summed: compare-saturation.sh gives each node its own).
--
--   psql 'postgres://postgres@127.0.0.1:5432/test' -v samples=400 -f loadgen/pg-waits.sql
--
-- Run it while the load runs (e.g. beside make bench-saturation-pair).
\set ON_ERROR_STOP on
\if :{?samples}
\else
\set samples 400
\endif
CREATE TEMP TABLE waits (at timestamptz, backend text, wait text, query text);
CREATE TEMP TABLE before AS
  SELECT (SELECT sum(n_tup_ins) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs') AS ins,
         (SELECT sum(autovacuum_count + autoanalyze_count) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs') AS auto,
         (SELECT wal_bytes FROM pg_stat_wal) AS wal, (SELECT wal_fpi FROM pg_stat_wal) AS fpi,
         (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS ckpt, clock_timestamp() AS t;
SELECT set_config('pgwaits.samples', :'samples', false);
DO $$
BEGIN
  FOR i IN 1..current_setting('pgwaits.samples')::int LOOP
    INSERT INTO waits
      SELECT clock_timestamp(), backend_type, coalesce(wait_event_type || ':' || wait_event, 'CPU'),
             left(regexp_replace(query, '\s+', ' ', 'g'), 60)
      FROM pg_stat_activity
      -- Not this sampler, nor another one running beside it.
      WHERE pid <> pg_backend_pid() AND query NOT LIKE '%pgwaits.samples%'
        AND (state = 'active' OR backend_type <> 'client backend')
        AND coalesce(wait_event_type, '') NOT IN ('Activity', 'Client')
        AND coalesce(wait_event, '') NOT IN ('CheckpointWriteDelay', 'AutoVacuumMain', 'LogicalLauncherMain', 'WalWriterMain', 'CheckpointerMain', 'BgWriterHibernate', 'BgWriterMain');
    PERFORM pg_stat_clear_snapshot();
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
\echo Busy backends: the share of samples each was seen active in (100% = one backend busy in every sample)
SELECT backend, wait, CASE WHEN backend = 'client backend' THEN query ELSE '' END AS statement,
       round(100.0 * count(*) / current_setting('pgwaits.samples')::int, 1) AS "% of samples"
FROM waits GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 15;
\echo Over the same time
SELECT round(((SELECT sum(n_tup_ins) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs') - ins)
             / extract(epoch FROM clock_timestamp() - t)) AS "served lists/s",
       (SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs') AS "rows now",
       pg_size_pretty((SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs')) AS "table + indexes",
       (SELECT sum(autovacuum_count + autoanalyze_count) FROM pg_stat_user_tables WHERE relname = 'recommendation_logs') - auto AS "autovacuum+analyze runs",
       pg_size_pretty(((SELECT wal_bytes FROM pg_stat_wal) - wal) / extract(epoch FROM clock_timestamp() - t)) || '/s' AS "WAL",
       (SELECT wal_fpi FROM pg_stat_wal) - fpi AS "full-page images",
       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) - ckpt AS checkpoints
FROM before;

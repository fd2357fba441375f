#!/usr/bin/env bash
# compare-ingest.sh: ingest end to end on PostgreSQL + Redis, two builds
# side by side on one machine: BEFORE and AFTER each serve the same
# synthetic dataset (20K movies, 1M interactions, imported at start into
# schemas of their own), and `marquee bench -scenario ingest` runs against
# them in turn, ROUNDS times (default 5), so that drift of the machine
# falls on both. Each node's embedded broker keeps its log in a directory
# of its own (a node with a database needs one). AFTER_ENV is added to the
# AFTER node; the BEFORE node gets BEFORE_ENV.
#
#   BEFORE=/tmp/before/bin/marquee AFTER=bin/marquee make bench-ingest-pair
set -euo pipefail
: "${BEFORE:?set BEFORE to the binary of the earlier build}" "${AFTER:?set AFTER to the binary to compare}"
ROUNDS=${ROUNDS:-5}
DATA=${DATA:-/tmp/gen20k}
DB=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
[ -f "$DATA/events.csv" ] || "$AFTER" gen -out "$DATA" -movies 20000 -users 20000 -interactions 1000000
common="MARQUEE_RATE_LIMIT=off MARQUEE_ARCHIVE_EVERY=off MARQUEE_TRAIN_CRON=off MARQUEE_LOG_LEVEL=warn MARQUEE_INSECURE_DEV=true
 MARQUEE_DATABASE_URL=$DB MARQUEE_REDIS_URL=redis://127.0.0.1:6379/0 MARQUEE_DATASET=$DATA MARQUEE_TRAIN_FACTORS=64 MARQUEE_TRAIN_TUNE=false"
psql "$DB" -qc "DROP SCHEMA IF EXISTS bench_before CASCADE; DROP SCHEMA IF EXISTS bench_after CASCADE" >/dev/null 2>&1
kafka=$(mktemp -d)
mkdir -p "$kafka/before" "$kafka/after"
env $common MARQUEE_HTTP_ADDR=127.0.0.1:18091 MARQUEE_DATABASE_SCHEMA=bench_before MARQUEE_REDIS_PREFIX=bench_before \
  MARQUEE_KAFKA_DATA_DIR="$kafka/before" ${BEFORE_ENV:-} \
  "$BEFORE" serve > /tmp/bench-before.log 2>&1 & a=$!
trap 'kill $a ${b:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$kafka"' EXIT
until curl -sf http://127.0.0.1:18091/readyz >/dev/null; do kill -0 $a; sleep 2; done
env $common MARQUEE_HTTP_ADDR=127.0.0.1:18092 MARQUEE_DATABASE_SCHEMA=bench_after MARQUEE_REDIS_PREFIX=bench_after \
  MARQUEE_KAFKA_DATA_DIR="$kafka/after" ${AFTER_ENV:-} "$AFTER" serve > /tmp/bench-after.log 2>&1 & b=$!
until curl -sf http://127.0.0.1:18092/readyz >/dev/null; do kill -0 $b; sleep 2; done
# Both imports leave 1M-row tables to vacuum and analyze: do it now, so
# that autovacuum does not run under the first measured rounds.
psql "$DB" -qc "VACUUM ANALYZE" >/dev/null
sleep 20
echo "| round | build | accepted | applied | stored | lost | events/s end to end | posting s | until applied s | POST p50 ms | POST p99 ms | zero loss |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  for side in before:18091 after:18092; do
    "$AFTER" bench -url "http://127.0.0.1:${side##*:}" -runs 1 -scenario ingest -ingest-duration 10s 2>&1 |
      grep -E '^\| [0-9]' | sed "s/^| 1 |/| $r | ${side%%:*} |/"
  done
done

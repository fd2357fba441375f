#!/usr/bin/env bash
# compare-tiers.sh: the scenarios of `make bench-tiers` (BENCHMARKS.md "Over
# HTTP, per tier") against two builds side by side on PostgreSQL + Redis:
# BEFORE and AFTER each serve the same synthetic dataset (20K movies × 64
# factors, 1M interactions, imported at start into schemas of their own),
# and each scenario runs on one and then the other before the next
# scenario starts, so that drift of the machine falls on both.
#
#   BEFORE=/tmp/before/bin/marquee AFTER=bin/marquee make bench-tiers-pair
#
# While one node is measured the other is stopped (SIGSTOP, then SIGCONT
# and 3 s for its overdue timers), so that its timers and flushes take no
# core from the measured one; PAUSE_OTHER=0 keeps both running.
#
# ONLY (an extended regex) keeps the scenarios whose label matches, e.g.
# ONLY=batch; BENCH_ARGS are added to every bench, last (so they override
# a scenario's own flags, e.g. the vector one's -first-user). The model trained on
# the synthetic data loses to popularity at the gate, and a model promoted
# by hand has no batch lists (training.Promoter), so the batch tier is
# measured on MovieLens-100K, whose model passes the gate and is published
# with its batch lists:
#
#   DATA=../shared/data/ml-100k ONLY=batch BENCH_ARGS='-user-prefix ml_u -first-user 1' make bench-tiers-pair BEFORE=…
set -euo pipefail
: "${BEFORE:?set BEFORE to the binary of the earlier build}" "${AFTER:?set AFTER to the binary to compare}"
DATA=${DATA:-/tmp/gen20k}
DB=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
ONLY=${ONLY:-.}
PAUSE_OTHER=${PAUSE_OTHER:-1}
if [ "$DATA" = /tmp/gen20k ] && [ ! -f "$DATA/events.csv" ]; then
  "$AFTER" gen -out "$DATA" -movies 20000 -users 20000 -interactions 1000000
fi
common="MARQUEE_RATE_LIMIT=off MARQUEE_ARCHIVE_EVERY=off MARQUEE_TRAIN_CRON=off MARQUEE_LOG_LEVEL=warn MARQUEE_INSECURE_DEV=true
 MARQUEE_DATABASE_URL=$DB MARQUEE_REDIS_URL=redis://127.0.0.1:6379/0 MARQUEE_DATASET=$DATA MARQUEE_TRAIN_FACTORS=64 MARQUEE_TRAIN_TUNE=false"
tmp=$(mktemp -d)
pids=()
trap 'kill -CONT "${pids[@]}" 2>/dev/null || true; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
start() { # side port binary
  psql "$DB" -qc "DROP SCHEMA IF EXISTS tiers_$1 CASCADE" >/dev/null 2>&1
  mkdir -p "$tmp/kafka-$1"
  # shellcheck disable=SC2086 # the settings are words on purpose
  env $common MARQUEE_HTTP_ADDR="127.0.0.1:$2" MARQUEE_DATABASE_SCHEMA="tiers_$1" MARQUEE_REDIS_PREFIX="tiers_$1" \
    MARQUEE_KAFKA_DATA_DIR="$tmp/kafka-$1" "$3" serve > "/tmp/bench-tiers-$1.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$2/readyz" >/dev/null; do kill -0 "${pids[-1]}"; sleep 2; done
  # The model trained at start is kept back by the gate on this synthetic
  # data (untuned, it loses to popularity: BENCHMARKS.md "A full training
  # job at scale"); the vector and batch tiers need one: promote it.
  local v=""
  until [ -n "$v" ]; do
    kill -0 "${pids[-1]}"; sleep 2
    v=$(curl -sf "http://127.0.0.1:$2/api/admin/models" | python3 -c 'import json,sys; m=json.load(sys.stdin)["models"]; print(m[0]["version"] if m else "")' || true)
  done
  curl -sf -X POST "http://127.0.0.1:$2/api/admin/models/$v/promote" >/dev/null
  echo "$1: serving $v"
}
start before 18091 "$BEFORE"
start after 18092 "$AFTER"
# The imports leave 1M-row tables to vacuum and analyze: do it now, so
# that autovacuum does not run under the first measured scenarios.
psql "$DB" -qc "VACUUM ANALYZE" >/dev/null
sleep 20
one="-cache-rate 0 -vector-rate 0 -batch-rate 0 -popular-rate 0"
run() { # label, then marquee bench arguments
  local label=$1
  shift
  echo "$label" | grep -qE -- "$ONLY" || return 0
  local i=0 side
  for side in before:18091 after:18092; do
    echo "### $label: ${side%%:*}"
    if [ "$PAUSE_OTHER" = 1 ]; then kill -STOP "${pids[$((1 - i))]}"; fi
    # shellcheck disable=SC2086 # BENCH_ARGS are words on purpose
    "$AFTER" bench -url "http://127.0.0.1:${side##*:}" "$@" ${BENCH_ARGS:-} 2>&1 | grep -E '^\||rror' || true
    if [ "$PAUSE_OTHER" = 1 ]; then kill -CONT "${pids[$((1 - i))]}"; sleep 3; fi
    i=$((i + 1))
  done
}
for tier in "-cache-rate 1000" "-cache-rate 5000" "-vector-rate 100 -first-user 500" "-batch-rate 100" "-popular-rate 200"; do
  # shellcheck disable=SC2086
  run "serving $tier" -runs 3 -duration 8s -scenario serving $one $tier
done
run freshness -runs 3 -scenario freshness
run ingest -runs 3 -scenario ingest -ingest-duration 10s

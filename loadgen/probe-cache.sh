#!/usr/bin/env bash
# probe-cache.sh: one node on PostgreSQL + Redis (MovieLens-100K imported at
# start, as compare-saturation.sh starts one), alone on the machine, with
# the cache tier driven open loop at RATE requests/s (default 5000) for 3
# runs of 8 s after a warm-up; prints the bench's table and the cores of
# the node and of PostgreSQL + Redis over the runs, read from /proc (BENCHMARKS.md "The
# served lists as arrays").
#
#   PROFILE=1 adds a 15 s CPU profile of the node (/tmp/probe-cache.prof),
#   TRACE=1 a 3 s runtime trace (/tmp/probe-cache.trace); NODE_ENV is
#   added to the node's environment, e.g. NODE_ENV='GOMAXPROCS=1', and
#   BENCH_ARGS to the bench's arguments, e.g. BENCH_ARGS='-pin 1'.
#
#   make build && bash loadgen/probe-cache.sh
set -euo pipefail
BIN=${BIN:-bin/marquee}
RATE=${RATE:-5000}
DATA=${DATA:-../shared/data/ml-100k}
DB=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
psql "$DB" -qc "DROP SCHEMA IF EXISTS probe_cache CASCADE" >/dev/null 2>&1
kafka=$(mktemp -d)
# shellcheck disable=SC2086 # NODE_ENV's settings are words on purpose
env MARQUEE_RATE_LIMIT=off MARQUEE_ARCHIVE_EVERY=off MARQUEE_TRAIN_CRON=off MARQUEE_LOG_LEVEL=warn MARQUEE_INSECURE_DEV=true \
  MARQUEE_DATASET="$DATA" MARQUEE_TRAIN_TUNE=false MARQUEE_HTTP_ADDR=127.0.0.1:18097 MARQUEE_PPROF_ADDR=127.0.0.1:18197 \
  MARQUEE_DATABASE_URL="$DB" MARQUEE_DATABASE_SCHEMA=probe_cache MARQUEE_REDIS_URL=redis://127.0.0.1:6379/0 \
  MARQUEE_REDIS_PREFIX=probe_cache MARQUEE_KAFKA_DATA_DIR="$kafka" ${NODE_ENV:-} "$BIN" serve > /tmp/probe-cache-node.log 2>&1 &
node=$!
extra=()
trap 'kill $node "${extra[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$kafka"' EXIT
until curl -sf http://127.0.0.1:18097/readyz >/dev/null; do kill -0 $node; sleep 1; done
sleep 20 # the training at start
bench="$BIN bench -url http://127.0.0.1:18097 -user-prefix ml_u -first-user 1 -scenario serving -cache-rate $RATE -vector-rate 0 -batch-rate 0 -popular-rate 0 ${BENCH_ARGS:-}"
$bench -runs 1 -duration 5s >/dev/null 2>&1 || { echo "the warm-up run failed: $bench -runs 1 -duration 5s"; exit 1; }
# shellcheck source=loadgen/storecpu.sh
. "$(dirname "$0")/storecpu.sh"
nodecpu() { awk '{print $14 + $15}' "/proc/$node/stat"; } # clock ticks
n0=$(nodecpu) s0=$(storecpu) t0=$(date +%s.%N)
if [ "${PROFILE:-0}" = 1 ]; then curl -s -o /tmp/probe-cache.prof "http://127.0.0.1:18197/debug/pprof/profile?seconds=15" & extra+=($!); fi
if [ "${TRACE:-0}" = 1 ]; then (sleep 10; curl -s -o /tmp/probe-cache.trace "http://127.0.0.1:18197/debug/pprof/trace?seconds=3") & extra+=($!); fi
$bench -runs 3 -duration 8s 2>&1 | grep -E '^\|' || true
n1=$(nodecpu) s1=$(storecpu) t1=$(date +%s.%N)
awk -v n="$((n1 - n0))" -v s="$((s1 - s0))" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
  'BEGIN {printf "node cores %.2f, PostgreSQL + Redis cores %.2f (over %.0f s)\n", n / hz / (t1 - t0), s / hz / (t1 - t0), t1 - t0}'
if [ ${#extra[@]} -gt 0 ]; then wait "${extra[@]}"; fi

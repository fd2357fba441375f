#!/usr/bin/env bash
# compare-saturation.sh: the closed-loop saturation scenario of BENCHMARKS.md
# ("Tail latency at saturation"), two nodes side by side on one machine:
# BEFORE and AFTER each import MovieLens-100K at start (all of u.data, the
# untuned default model) into stores of their own, and `marquee bench
# -scenario saturation` (CONNS connections, default 32, users drawn at
# random from the imported ones) runs against them in turn, ROUNDS times
# (default 5), so that drift of the machine falls on both.
#
#   MODE=services (default): PostgreSQL + Redis, the embedded broker on disk
#   MODE=embedded:           no external store (what `make run` starts)
#
# BEFORE and AFTER are binaries (AFTER defaults to bin/marquee, BEFORE to
# AFTER: then BEFORE_ENV and AFTER_ENV compare two settings of one build,
# e.g. AFTER_ENV='GOGC=200'). BENCH_ARGS are added to each bench, e.g.
# BENCH_ARGS='-shed-backoff 1s' for clients that honour Retry-After.
# PG_WAITS=1 (services) samples PostgreSQL's wait events over each run
# (loadgen/pg-waits.sql) and prints them after the tables; DURATION must
# then be in seconds ("20s").
#
#   BEFORE=/tmp/before/bin/marquee make bench-saturation-pair
set -euo pipefail
AFTER=${AFTER:-bin/marquee}
BEFORE=${BEFORE:-$AFTER}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-32}
DURATION=${DURATION:-20s}
MODE=${MODE:-services}
DATA=${DATA:-../shared/data/ml-100k}
DB=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
[ -f "$DATA/u.data" ] || { echo "no MovieLens-100K at $DATA (set DATA)"; exit 1; }
common="MARQUEE_RATE_LIMIT=off MARQUEE_ARCHIVE_EVERY=off MARQUEE_TRAIN_CRON=off MARQUEE_LOG_LEVEL=warn MARQUEE_INSECURE_DEV=true
 MARQUEE_DATASET=$DATA MARQUEE_TRAIN_TUNE=false"
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
start() { # side port binary extra-env
  local env="$common MARQUEE_HTTP_ADDR=127.0.0.1:$2 MARQUEE_PPROF_ADDR=127.0.0.1:$(($2 + 100))"
  if [ "$MODE" = services ]; then
    psql "$DB" -qc "DROP SCHEMA IF EXISTS sat_$1 CASCADE" >/dev/null 2>&1
    mkdir -p "$tmp/kafka-$1"
    env="$env MARQUEE_DATABASE_URL=$DB MARQUEE_DATABASE_SCHEMA=sat_$1 MARQUEE_REDIS_URL=redis://127.0.0.1:6379/0
 MARQUEE_REDIS_PREFIX=sat_$1 MARQUEE_KAFKA_DATA_DIR=$tmp/kafka-$1"
  fi
  # shellcheck disable=SC2086 # the settings are words on purpose
  env $env $4 "$3" serve > "/tmp/bench-sat-$1.log" 2>&1 &
  pids+=($!)
  until curl -sf "http://127.0.0.1:$2/readyz" >/dev/null; do kill -0 "${pids[-1]}"; sleep 2; done
}
start before 18093 "$BEFORE" "${BEFORE_ENV:-}"
start after 18094 "$AFTER" "${AFTER_ENV:-}"
# The users: every rater of MovieLens-100K under the importer's ids.
cut -f1 "$DATA/u.data" | sort -un | sed 's/^/ml_u/' > "$tmp/users.txt"
[ "$MODE" = services ] && psql "$DB" -qc "VACUUM ANALYZE" >/dev/null
sleep 10
# shellcheck source=loadgen/storecpu.sh
. "$(dirname "$0")/storecpu.sh"
hz=$(getconf CLK_TCK)
# -runtime-url for a node whose build serves /debug/runtime (not all do).
runtime() {
  local url="http://127.0.0.1:$(($1 + 100))/debug/runtime"
  if curl -sf "$url" >/dev/null; then echo "-runtime-url $url"; fi
}
for r in $(seq "$ROUNDS"); do
  for side in before:18093 after:18094; do
    s0=$(storecpu) t0=$(date +%s.%N)
    if [ "$MODE" = services ] && [ -n "${PG_WAITS:-}" ]; then
      [[ $DURATION =~ ^[0-9]+s$ ]] || { echo "PG_WAITS needs DURATION in seconds, not $DURATION"; exit 1; }
      # What PostgreSQL waits on over the measured time (after the warm-up).
      (sleep 5; psql "$DB" -X -q -v samples="$((${DURATION%s} * 20))" -f loadgen/pg-waits.sql \
        > "$tmp/waits.$r.${side%%:*}" 2>&1) &
      wpid=$!
    fi
    "$AFTER" bench -url "http://127.0.0.1:${side##*:}" -runs 1 -scenario saturation -connections "$CONNS" \
      -duration "$DURATION" -warmup 5s -users-file "$tmp/users.txt" ${PIN:+-pin "$PIN"} \
      $(runtime "${side##*:}") ${BENCH_ARGS:-} 2>&1 |
      grep -E '^\| 1 \|' | sed "s/^| 1 |/| $r | ${side%%:*} |/" > "$tmp/run"
    # The stores' cores over the whole bench (its warm-up included).
    stores=$(awk -v c="$(storecpu)" -v c0="$s0" -v hz="$hz" -v t="$(date +%s.%N)" -v t0="$t0" 'BEGIN { printf "%.2f", (c - c0) / hz / (t - t0) }')
    grep -v '%' "$tmp/run" | sed "s/\$/ $stores |/" >> "$tmp/rows"
    grep '%' "$tmp/run" >> "$tmp/rows" || true # no runtime rows from a build without /debug/runtime
    if [ -n "${wpid:-}" ]; then wait "$wpid" || true; wpid=; fi
  done
done
# The requests, then the nodes' runtime over the same runs (GC, scheduling).
echo "| round | build | requests/s | p50 | p99 | p99.9 | max | shed (503) | errors | answered by | generator cores | node cores | PostgreSQL + Redis cores |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
grep -v '%' "$tmp/rows"
echo
echo "| round | build | GC share of node CPU | of which assists | GC cycles | scheduling latency p99 | p99.9 | longest GC pause |"
echo "|---|---|---|---|---|---|---|---|"
grep '%' "$tmp/rows" || true
for f in "$tmp"/waits.*; do
  [ -f "$f" ] || continue
  echo
  echo "PostgreSQL, round ${f#"$tmp"/waits.}:"
  grep -v -e '^ set_config' -e '^------------$' -e '^ [0-9]*$' -e '^([0-9]* row' "$f" || true
done

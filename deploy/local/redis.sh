#!/usr/bin/env bash
# deploy/local/redis.sh: Redis for development and CI (the cache tier).
#
# Idempotent and instant when done: if Redis already answers PING on
# 127.0.0.1:$REDIS_PORT it does nothing. Otherwise, on Debian 12, it
# installs redis-server with apt if it is missing, and starts it as a
# daemon on loopback only, without persistence (no RDB snapshots, no AOF):
# it holds a cache, which Marquee rebuilds on demand. If installing the
# package started Debian's own service, persistence is turned off in that
# server at run time instead of starting a second one.
#
# Runs as root. Environment: REDIS_PORT (default 6379), REDIS_LOG (default
# /var/log/redis/marquee-$REDIS_PORT.log).
# Then: MARQUEE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 (the default) go test ./adapters/redis/
set -euo pipefail

REDIS_HOST=127.0.0.1
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DIR=/var/lib/redis
REDIS_LOG=${REDIS_LOG:-/var/log/redis/marquee-$REDIS_PORT.log}

say() { printf 'redis.sh: %s\n' "$*"; }
die() { printf 'redis.sh: error: %s\n' "$*" >&2; exit 1; }

# answers reports whether Redis replies PONG within a second (a port held
# by something else that never replies must not hang the script).
answers() {
	command -v redis-cli >/dev/null &&
		[[ $(timeout 1 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

if answers; then
	say "Redis answers on $REDIS_HOST:$REDIS_PORT; nothing to do"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and writes $REDIS_DIR): sudo $0"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	command -v apt-get >/dev/null || die "redis-server is missing and apt-get is not available: install Redis 7 by hand"
	say "apt-get update"
	apt-get update -qq >/dev/null || die "apt-get update failed"
	say "installing redis-server and redis-tools"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null ||
		die "apt-get install redis-server redis-tools failed"
fi

if answers; then
	say "the package started its own service; turning persistence off in it"
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" config set save "" >/dev/null || die "CONFIG SET save failed"
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" config set appendonly no >/dev/null || die "CONFIG SET appendonly failed"
	say "ready: redis://$REDIS_HOST:$REDIS_PORT/0"
	exit 0
fi

mkdir -p "$REDIS_DIR" "$(dirname "$REDIS_LOG")"
say "starting redis-server on $REDIS_HOST:$REDIS_PORT without persistence (log: $REDIS_LOG)"
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
	--save "" --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_LOG" ||
	die "redis-server did not start; see $REDIS_LOG"

say "waiting for PONG"
deadline=$((SECONDS + 10))
while ((SECONDS < deadline)); do
	if answers; then
		say "ready: redis://$REDIS_HOST:$REDIS_PORT/0"
		exit 0
	fi
	sleep 0.1
done
tail -n 20 "$REDIS_LOG" >&2 || true
die "redis-server does not answer on $REDIS_HOST:$REDIS_PORT after 10s (is the port taken by something else?)"

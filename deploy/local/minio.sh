#!/usr/bin/env bash
# deploy/local/minio.sh: the real MinIO server for development and CI (the
# Parquet archive of interactions older than the hot retention).
#
# Idempotent and fast when done: if MinIO already answers its liveness probe
# on $MINIO_ADDR it does nothing. Otherwise it builds the pinned MinIO
# server with `go install` into $MINIO_BIN_DIR if the binary is not there
# yet (about two minutes the first time, a file check afterwards) and
# starts it in the background on loopback, with its data in a temporary
# directory, then waits until /minio/health/live answers.
#
# Needs Go and the Go module proxy; no root. Environment:
#   MINIO_ADDR          S3 API address       (default 127.0.0.1:9000)
#   MINIO_CONSOLE_ADDR  web console address  (default 127.0.0.1:9001)
#   MINIO_ROOT_USER     access key           (default minioadmin)
#   MINIO_ROOT_PASSWORD secret key           (default minioadmin)
#   MINIO_DATA_DIR      data directory       (default /tmp/marquee-minio-<port>)
#   MINIO_BIN_DIR       where the binary is cached (default ~/.cache/marquee/bin)
#   MINIO_LOG           server log           (default /tmp/marquee-minio-<port>.log)
# Then: MARQUEE_TEST_S3_ENDPOINT=127.0.0.1:9000 (the default) go test ./adapters/s3/ ./adapters/parquet/
set -euo pipefail

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_ADDR=${MINIO_ADDR:-127.0.0.1:9000}
MINIO_CONSOLE_ADDR=${MINIO_CONSOLE_ADDR:-127.0.0.1:9001}
MINIO_PORT=${MINIO_ADDR##*:}
MINIO_DATA_DIR=${MINIO_DATA_DIR:-/tmp/marquee-minio-$MINIO_PORT}
MINIO_BIN_DIR=${MINIO_BIN_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/marquee/bin}
MINIO_LOG=${MINIO_LOG:-/tmp/marquee-minio-$MINIO_PORT.log}
export MINIO_ROOT_USER=${MINIO_ROOT_USER:-minioadmin}
export MINIO_ROOT_PASSWORD=${MINIO_ROOT_PASSWORD:-minioadmin}
MINIO_BIN=$MINIO_BIN_DIR/minio-$MINIO_VERSION

say() { printf 'minio.sh: %s\n' "$*"; }
die() { printf 'minio.sh: error: %s\n' "$*" >&2; exit 1; }

# answers reports whether MinIO's liveness probe succeeds within a second.
answers() {
	curl -fsS -o /dev/null --max-time 1 "http://$MINIO_ADDR/minio/health/live" 2>/dev/null
}

command -v curl >/dev/null || die "curl is missing (apt-get install curl)"

if answers; then
	say "MinIO answers on $MINIO_ADDR; nothing to do"
	exit 0
fi

if [[ ! -x $MINIO_BIN ]]; then
	command -v go >/dev/null || die "go is missing: MinIO is built from source with go install"
	mkdir -p "$MINIO_BIN_DIR"
	build=$(mktemp -d "${TMPDIR:-/tmp}/marquee-minio-build.XXXXXX")
	trap 'rm -rf "$build"' EXIT
	say "building MinIO $MINIO_VERSION with go install (about 2 minutes, once)"
	# GOFLAGS is cleared so that a project-wide setting (-mod=vendor, say)
	# cannot break a build outside the project.
	if ! GOFLAGS= GOBIN=$build go install "github.com/minio/minio@$MINIO_VERSION" >"$build/install.log" 2>&1; then
		tail -n 20 "$build/install.log" >&2 || true
		die "go install github.com/minio/minio@$MINIO_VERSION failed"
	fi
	mv "$build/minio" "$MINIO_BIN.tmp" && mv "$MINIO_BIN.tmp" "$MINIO_BIN"
	ln -sf "$(basename "$MINIO_BIN")" "$MINIO_BIN_DIR/minio"
	say "installed $MINIO_BIN"
else
	say "using cached $MINIO_BIN"
fi

mkdir -p "$MINIO_DATA_DIR" "$(dirname "$MINIO_LOG")"
say "starting MinIO on $MINIO_ADDR (console $MINIO_CONSOLE_ADDR, data $MINIO_DATA_DIR, log $MINIO_LOG)"
# setsid detaches the server from this shell's process group, so that it
# outlives the script (and a Ctrl-C in the terminal that ran it).
MINIO_BROWSER=on setsid "$MINIO_BIN" server "$MINIO_DATA_DIR" --quiet \
	--address "$MINIO_ADDR" --console-address "$MINIO_CONSOLE_ADDR" >>"$MINIO_LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$MINIO_DATA_DIR.pid"

say "waiting for /minio/health/live"
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
	if answers; then
		say "ready: http://$MINIO_ADDR (access key $MINIO_ROOT_USER, pid $pid)"
		exit 0
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -n 20 "$MINIO_LOG" >&2 || true
		die "minio exited; see $MINIO_LOG (is $MINIO_ADDR or $MINIO_CONSOLE_ADDR taken?)"
	fi
	sleep 0.2
done
tail -n 20 "$MINIO_LOG" >&2 || true
die "MinIO does not answer on $MINIO_ADDR after 30s; see $MINIO_LOG"

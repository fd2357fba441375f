#!/usr/bin/env bash
# deploy/local/postgres.sh: PostgreSQL 15 with pgvector for development and CI.
#
# Idempotent: every step first checks whether it is already done, so a
# second run takes about a second. On a bare Debian 12 it installs
# postgresql-15, starts the cluster, lets the local postgres user in over
# TCP on loopback, creates the test database, and builds pgvector from
# Debian's own source package (pgvector is not packaged for PostgreSQL 15
# on Debian 12; the trixie deb-src suite is added for sources only, no
# binary ever comes from trixie).
#
# Runs as root. Environment: PG_MAJOR (default 15), PG_TEST_DB (default test).
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
PG_TEST_DB=${PG_TEST_DB:-test}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
SRC_LIST=/etc/apt/sources.list.d/marquee-trixie-src.sources
HBA_MARK="# marquee deploy/local/postgres.sh: local development only"

say() { printf 'postgres.sh: %s\n' "$*"; }
die() { printf 'postgres.sh: error: %s\n' "$*" >&2; exit 1; }

LOG=$(mktemp /tmp/marquee-postgres-sh.XXXXXX.log)
WORK=""
cleanup() {
	local rc=$?
	[[ -n $WORK ]] && rm -rf "$WORK"
	if [[ $rc -ne 0 && -s $LOG ]]; then
		printf 'postgres.sh: last lines of %s:\n' "$LOG" >&2
		tail -n 20 "$LOG" >&2
	else
		rm -f "$LOG"
	fi
}
trap cleanup EXIT

# quiet runs a noisy command with its output in $LOG (shown on failure).
quiet() { "$@" >>"$LOG" 2>&1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and manages the cluster): sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian 12 (bookworm) only"

apt_updated=0
apt_update() {
	if [[ $apt_updated -eq 0 ]]; then
		say "apt-get update"
		quiet apt-get update || die "apt-get update failed"
		apt_updated=1
	fi
}
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	apt_update
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive quiet apt-get install -y --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
}

# 1. The server.
if [[ ! -x $PG_BIN/postgres ]]; then
	apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
fi

# 2. The cluster: created and running.
cluster=$(pg_lsclusters -h 2>/dev/null | awk -v v="$PG_MAJOR" '$1 == v && $2 == "main"')
if [[ -z $cluster ]]; then
	say "creating cluster $PG_MAJOR/main"
	quiet pg_createcluster "$PG_MAJOR" main || die "pg_createcluster $PG_MAJOR main failed"
	cluster=$(pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1 == v && $2 == "main"')
fi
port=$(awk '{print $3}' <<<"$cluster")
if [[ $(awk '{print $4}' <<<"$cluster") != online* ]]; then
	say "starting cluster $PG_MAJOR/main on port $port"
	quiet pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start ||
		die "could not start cluster $PG_MAJOR/main (see /var/log/postgresql/postgresql-$PG_MAJOR-main.log)"
fi
for i in $(seq 1 60); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	[[ $i -eq 60 ]] && die "PostgreSQL on 127.0.0.1:$port does not accept connections after 30 s"
	sleep 0.5
done

# 3. Access: the tests connect as postgres over TCP without a password.
psql_tcp() { psql -X -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
if ! psql_tcp -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
	hba=$(runuser -u postgres -- psql -X -p "$port" -tAc 'SHOW hba_file') || die "cannot read hba_file as the postgres OS user"
	if ! grep -qF "$HBA_MARK" "$hba"; then
		say "allowing passwordless postgres logins from loopback in $hba"
		tmp=$(mktemp)
		{
			echo "$HBA_MARK"
			echo "host all postgres 127.0.0.1/32 trust"
			echo "host all postgres ::1/128 trust"
			cat "$hba"
		} >"$tmp"
		install -o postgres -g postgres -m 640 "$tmp" "$hba"
		rm -f "$tmp"
	fi
	quiet pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main reload || die "reload of $PG_MAJOR/main failed"
	psql_tcp -d postgres -tAc 'SELECT 1' >/dev/null 2>>"$LOG" ||
		die "cannot connect as postgres to 127.0.0.1:$port even after allowing it in $hba"
fi

# 4. The test database.
if [[ -z $(psql_tcp -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_TEST_DB'") ]]; then
	say "creating database $PG_TEST_DB"
	psql_tcp -d postgres -qc "CREATE DATABASE \"$PG_TEST_DB\"" >>"$LOG" 2>&1 || die "CREATE DATABASE $PG_TEST_DB failed"
fi

# 5. pgvector, built from Debian's source package when missing.
# The cast loads the library, so a missing vector.so is noticed too.
vector_ok() {
	psql_tcp -d "$PG_TEST_DB" -qc "BEGIN; CREATE EXTENSION IF NOT EXISTS vector; SELECT '[1,2]'::vector <#> '[3,4]'; ROLLBACK;" >/dev/null 2>&1
}
control=""
[[ -x $PG_CONFIG ]] && control="$("$PG_CONFIG" --sharedir)/extension/vector.control"
if [[ -z $control || ! -f $control ]] || ! vector_ok; then
	if [[ -z $(apt-cache showsrc pgvector 2>/dev/null) ]]; then
		if [[ ! -f $SRC_LIST ]]; then
			say "adding the trixie deb-src suite (sources only) as $SRC_LIST"
			cat >"$SRC_LIST" <<-EOF
				# Added by marquee deploy/local/postgres.sh to build pgvector for PostgreSQL $PG_MAJOR.
				# Source packages only: no binary package is ever installed from trixie.
				Types: deb-src
				URIs: http://deb.debian.org/debian
				Suites: trixie
				Components: main
				Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
			EOF
		fi
		apt_updated=0
		apt_update
		[[ -n $(apt-cache showsrc pgvector 2>/dev/null) ]] || die "apt knows no source package pgvector even with $SRC_LIST"
	fi
	apt_install "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev
	control="$("$PG_CONFIG" --sharedir)/extension/vector.control"

	WORK=$(mktemp -d /tmp/marquee-pgvector.XXXXXX)
	chmod 755 "$WORK" # apt's _apt user downloads into it
	say "downloading the pgvector source package into $WORK"
	(cd "$WORK" && quiet apt-get source -q pgvector) || die "apt-get source pgvector failed"
	src=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
	[[ -n $src ]] || die "no pgvector source tree in $WORK"
	# OPTFLAGS="" as Debian builds it: no -march=native (upstream's
	# default), so the library runs on any x86-64; the distance functions
	# still pick FMA at run time.
	say "building $(basename "$src") against PostgreSQL $PG_MAJOR"
	quiet make -C "$src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" || die "building pgvector failed"
	say "installing $(basename "$src")"
	quiet make -C "$src" install PG_CONFIG="$PG_CONFIG" OPTFLAGS="" || die "installing pgvector failed"
	[[ -f $control ]] || die "pgvector installed but $control is missing"
	vector_ok || die "CREATE EXTENSION vector fails in database $PG_TEST_DB after installing pgvector"
fi

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$control")
say "ready: postgres://postgres@127.0.0.1:$port/$PG_TEST_DB?sslmode=disable (PostgreSQL $PG_MAJOR, pgvector $version)"

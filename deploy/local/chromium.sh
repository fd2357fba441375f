#!/usr/bin/env bash
# deploy/local/chromium.sh: Debian's Chromium for the dashboard's browser
# test (bootstrap/dashboard_test.go drives it headless with chromedp).
#
# Idempotent and instant when done: if $CHROMIUM (default /usr/bin/chromium)
# runs, it does nothing. Otherwise, on Debian 12, it installs the chromium
# package and a metric-compatible Arial (fonts-liberation) with apt, without
# recommended packages: about 20 s with a nearby mirror.
#
# Runs as root. Environment: CHROMIUM (default /usr/bin/chromium).
# Then: go test ./bootstrap/ -run Dashboard
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf 'chromium.sh: %s\n' "$*"; }
die() { printf 'chromium.sh: error: %s\n' "$*" >&2; exit 1; }

# version prints the browser's version, or fails when it does not run
# (a half-installed package leaves a binary that cannot start).
version() { [[ -x $CHROMIUM ]] && timeout 20 "$CHROMIUM" --headless --no-sandbox --version 2>/dev/null; }

if v=$(version); then
	say "$v at $CHROMIUM; nothing to do"
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages): sudo $0"
command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get is not available: install Chromium by hand"

log=$(mktemp /tmp/chromium-install.XXXXXX.log)
trap 'rm -f "$log"' EXIT
start=$SECONDS
say "apt-get update"
apt-get update >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
say "apt-get install chromium"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation >"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "apt-get install chromium failed"; }

v=$(version) || die "chromium was installed but $CHROMIUM does not run"
say "ready: $v at $CHROMIUM (installed in $((SECONDS - start)) s)"

#!/usr/bin/env bash
# deploy/make-keys.sh DIR: make Marquee API keys for a deployment.
#
# Writes, in DIR (created, mode 700):
#   api-keys.txt   the keys file for MARQUEE_API_KEYS_FILE: one
#                  name:scopes:sha256=<hex> line per key, so it holds no
#                  secret and may be mounted into every node
#   <name>.key     each key's secret (mode 600), for the clients that use it
# The keys: web (read), collector (ingest), ops (read+admin) and trainer
# (admin: the Kubernetes CronJob that starts training). Existing files are
# never overwritten. Needs bash, head, base64 and sha256sum (coreutils).
#
#   deploy/make-keys.sh deploy/secrets              # for deploy/compose.yaml (make compose-keys)
#   deploy/make-keys.sh /secure/place/marquee-keys  # for deploy/k8s (see deploy/README.md)
set -euo pipefail

dir=${1:?usage: deploy/make-keys.sh DIR}
keys=(web:read collector:ingest ops:read+admin trainer:admin)

if [ -e "$dir/api-keys.txt" ]; then
	echo "make-keys.sh: $dir/api-keys.txt exists; remove it (and the .key files) to make new keys" >&2
	exit 1
fi
umask 077
mkdir -p "$dir"
{
	echo "# Marquee API keys: name:scopes:sha256=<hex of the secret> (README, Security)."
	echo "# Made by deploy/make-keys.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); the secrets are in the .key files beside it."
} > "$dir/api-keys.txt.tmp"
for entry in "${keys[@]}"; do
	name=${entry%%:*}
	# 32 random bytes in base64: 44 characters of the alphabet Marquee
	# accepts, and no key can be guessed from its hash.
	secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
	printf %s "$secret" > "$dir/$name.key"  # no newline: kubectl --from-file keeps bytes as they are
	printf '%s:sha256=%s\n' "$entry" "$(printf %s "$secret" | sha256sum | cut -d' ' -f1)" >> "$dir/api-keys.txt.tmp"
done
# The keys file is mounted into containers that run as another user
# (distroless nonroot, 65532): it holds only hashes, so it may be readable.
chmod 644 "$dir/api-keys.txt.tmp"
mv "$dir/api-keys.txt.tmp" "$dir/api-keys.txt"
echo "make-keys.sh: wrote $dir/api-keys.txt and $(printf '%s.key ' "${keys[@]%%:*}")in $dir"

#!/usr/bin/env bash
# Debian packages only the tests need: postgresql-15 (the database suite runs its own throwaway server
# on 127.0.0.1 as the postgres user). Installs what is missing (root + apt-get); the package's default
# cluster is never left running. Exit 0 when installed, 3 (reason on stderr) when it cannot be.
# Used by .ci/run and by npm start (the dynamic-credential variant). Usage: scripts/test-packages.sh ensure
set -euo pipefail
TEST_PKGS=(postgresql-15)
log() { echo "[packages] $*" >&2; }
[[ "${1:-}" == ensure ]] || { echo "usage: $0 ensure" >&2; exit 2; }
missing=()
for p in "${TEST_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if (( ${#missing[@]} == 0 )); then log "test packages installed (${TEST_PKGS[*]})"; exit 0; fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then log "cannot install ${missing[*]}: needs root and apt-get"; exit 3; fi
log "installing ${missing[*]} (apt-get)"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" 2>&1 |
  sed -u -n 's/^\(Get:\|Unpacking\|Setting up\|E:\)/[packages]   \1/p' >&2 || true
for p in "${missing[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || { log "apt-get did not install $p"; exit 3; }; done
# the package creates and may start a default cluster (port 5432): the tests do not use it
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop || true; done
fi
log "test packages installed (${TEST_PKGS[*]})"

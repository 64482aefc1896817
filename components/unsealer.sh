#!/bin/sh
# unsealer.sh — keeps one Vault server unsealed with Shamir key shares read from files.
# POSIX sh; runs under busybox ash (the Vault image's /bin/sh). Uses busybox `wget` for a plain-http
# listener, else the `vault` CLI (busybox wget cannot verify a TLS certificate). Both are in the
# Vault image, so the sidecar runs the server's own image.
#
# Secrets: key shares are read from files only, piped into the client's stdin as the request body.
# They never appear on a command line (ps), in an environment variable, in a temp file or in the
# output; the script prints the seal state (initialized/sealed/progress) and Vault's error lines
# with anything that looks like a key masked.
#
# Environment:
#   VAULT_ADDR            the server to watch                   (default http://127.0.0.1:8200)
#   VAULT_CACERT          CA of an https listener (vault client only)
#   UNSEAL_KEYS_DIR       directory with key-0, key-1, ... (hex or base64, trailing newline ok)
#                                                               (default /vault/unseal)
#   UNSEAL_INTERVAL       seconds between checks while unsealed (default 3)
#   UNSEAL_MAX_BACKOFF    cap of the backoff while sealed/unreachable, seconds (default 30)
#   UNSEAL_CLIENT         wget | vault   (default: wget for an http:// address, else vault).
#                         busybox wget costs ~1.5 MB and ~1 ms a call; each `vault` CLI call
#                         ~50 ms and ~165 MB RSS (size the sidecar's memory limit for that).
#   UNSEAL_ONCE           1: exit 0 as soon as the server is unsealed (tests)
set -u

ADDR="${VAULT_ADDR:-http://127.0.0.1:8200}"
KEYS_DIR="${UNSEAL_KEYS_DIR:-/vault/unseal}"
INTERVAL="${UNSEAL_INTERVAL:-3}"
MAX_BACKOFF="${UNSEAL_MAX_BACKOFF:-30}"
ONCE="${UNSEAL_ONCE:-0}"
if [ -z "${UNSEAL_CLIENT:-}" ]; then
  case "$ADDR" in
    http://*) if command -v wget >/dev/null 2>&1; then UNSEAL_CLIENT=wget; else UNSEAL_CLIENT=vault; fi ;;
    *) UNSEAL_CLIENT=vault ;;
  esac
fi
export VAULT_ADDR="$ADDR"
unset VAULT_TOKEN 2>/dev/null || true   # unseal and seal-status are unauthenticated
umask 077

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) unsealer: $*"; }

# As a container's PID 1, sh ignores SIGTERM unless it traps it: without this, every pod deletion
# would wait terminationGracePeriodSeconds for the sidecar. nap() lets the trap fire mid-sleep.
trap 'log "stopping"; exit 0' TERM INT
nap() { sleep "$1" & wait $!; }

# mask anything long enough to be a key share, token or nonce-like secret
scrub() { sed -e 's#[A-Za-z0-9+/=_-]\{24,\}#<redacted>#g' | tr '\n' ' ' | cut -c1-300; }

# status: sets INIT SEALED PROGRESS THRESHOLD from GET sys/seal-status; returns 1 if unreachable
status() {
  if [ "$UNSEAL_CLIENT" = vault ]; then
    body="$( { timeout 5 vault read -format=json sys/seal-status; } 2>/dev/null)" || return 1
  else
    # (no `wget -T`: Debian's busybox-static 1.35 wget segfaults with it; `timeout` is an applet too)
    body="$( { timeout 5 wget -q -O - "$ADDR/v1/sys/seal-status"; } 2>/dev/null)" || return 1
  fi
  body="$(printf '%s' "$body" | tr -d ' \n\t')"
  INIT="$(printf '%s' "$body" | sed -n 's/.*"initialized":\([a-z]*\).*/\1/p')"
  SEALED="$(printf '%s' "$body" | sed -n 's/.*"sealed":\([a-z]*\).*/\1/p')"
  PROGRESS="$(printf '%s' "$body" | sed -n 's/.*"progress":\([0-9]*\).*/\1/p')"
  THRESHOLD="$(printf '%s' "$body" | sed -n 's/.*"t":\([0-9]*\).*/\1/p')"
  [ -n "$SEALED" ]
}

# body <file>: the JSON request body {"key":"<share>"} on stdout, built from the file by shell
# builtins and tr (the share goes file -> pipe; nothing on a command line)
body() {
  printf '{"key":"'
  tr -d ' \r\n\t"\\' <"$1"
  printf '"}'
}

# submit <file>: PUT sys/unseal with one share; prints the sealed state or a scrubbed error
submit() {
  if [ "$UNSEAL_CLIENT" = vault ]; then
    out="$(body "$1" | timeout 10 vault write -format=json sys/unseal - 2>&1)"; rc=$?
  else
    out="$(body "$1" | timeout 10 wget -q -O - --header 'Content-Type: application/json' \
      --post-file=/dev/stdin "$ADDR/v1/sys/unseal" 2>&1)"; rc=$?
  fi
  if [ $rc -ne 0 ]; then
    LAST_ERROR="$(printf '%s\n' "$out" | grep -e '^\* ' -e 'server returned' -e 'connection' | scrub)"
    [ -n "$LAST_ERROR" ] || LAST_ERROR="client exit $rc"
    return 1
  fi
  return 0
}

backoff=1
sleep_backoff() {
  nap "$backoff"
  backoff=$((backoff * 2)); [ "$backoff" -gt "$MAX_BACKOFF" ] && backoff="$MAX_BACKOFF"
}

last=""
say() { # log a state line only when it changes
  if [ "$*" != "$last" ]; then log "$*"; last="$*"; fi
}

log "watching $ADDR with $UNSEAL_CLIENT; keys from $KEYS_DIR"
while :; do
  if ! status; then
    say "no answer from vault at $ADDR (starting, or busy initialising)"
    # vault starts within seconds: poll briskly, not with the sealed backoff
    nap 1; continue
  fi
  if [ "$SEALED" = false ]; then
    say "unsealed"
    backoff=1
    [ "$ONCE" = 1 ] && exit 0
    nap "$INTERVAL"; continue
  fi
  # sealed: submit shares until unsealed (a share Vault already has is ignored by Vault)
  n=0
  for f in "$KEYS_DIR"/key-*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
  done
  if [ "$n" -eq 0 ]; then
    say "sealed (initialized=$INIT); no key files in $KEYS_DIR yet"
    nap "$INTERVAL"; continue
  fi
  before="initialized=$INIT, progress ${PROGRESS:-?}/${THRESHOLD:-?}"
  ok=0; bad=0; LAST_ERROR=""; errors=""
  for f in "$KEYS_DIR"/key-*; do
    [ -f "$f" ] || continue
    # a share Vault already holds is ignored by Vault; a bad one (garbage, another Vault's, or
    # "not initialized" yet) is noted and the next one is tried
    if submit "$f"; then ok=$((ok + 1)); else bad=$((bad + 1)); errors="${f##*/}: $LAST_ERROR"; fi
    status || break
    [ "$SEALED" = false ] && break
  done
  if [ "${SEALED:-true}" = false ]; then
    log "was sealed ($before); $ok share(s) accepted; unsealed"; last="unsealed"; backoff=1
    [ "$ONCE" = 1 ] && exit 0
    nap "$INTERVAL"; continue
  fi
  # still sealed: log once per distinct outcome (no flood while waiting for init or a join)
  say "still sealed ($before -> progress ${PROGRESS:-?}/${THRESHOLD:-?}); $ok of $n share(s) accepted, $bad refused${errors:+ (last: $errors)}"
  if [ "$INIT" = false ]; then
    # not initialised yet (pod 0 before `pulumi up` inits it; an ha pod before retry_join got the
    # leader's challenge): retry at the normal pace, not with the growing backoff
    nap "$INTERVAL"; continue
  fi
  sleep_backoff
done

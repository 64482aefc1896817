#!/usr/bin/env bash
# The README's first command (`npm start`): on a fresh clone, build or reuse the tools, start the local
# bed, run `pulumi up` of the homelab program with the article's CloudNativePG case, show what exists
# and how to look at it, run a drift check, and wait; Ctrl-C stops everything cleanly.
#   - With a node (Linux, root, containerd/runc/CNI installed): the real homelab. One `pulumi up`
#     installs Vault (dev) and VSO with their Helm charts into the bed's cluster, reaches Vault through
#     the API server, and VSO (a pod) writes the Secret and rolls my-app.
#   - Without: external-Vault mode. Vault and VSO run as local processes beside the API server.
#     As root on Linux with apt, the node's packages are installed first (scripts/node-packages.sh);
#     where they can't be (not root, no apt, not Linux), it says why and runs external mode.
#   With PostgreSQL 15 (Debian's package; installed here as root with apt), the dynamic-credential
#   variant too: the app's Postgres user comes from Vault's database engine through a VaultDynamicSecret,
#   logs in, and is replaced at its max TTL (my-db-app restarted, the old user dropped).
#   It exits non-zero unless the Secret synced, the Deployment rolled and the drift check is clean
#   (and, with the variant, the credential logged in and rotated).
#   A rerun on a bed kept with --keep converges the same stack.
#   --no-wait   stop right after the drift check (for scripts)
#   --keep      leave the bed running on exit
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
WAIT=1; KEEP=0
for a in "$@"; do
  case "$a" in
    --no-wait) WAIT=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: npm start -- [--no-wait] [--keep]" >&2; exit 1 ;;
  esac
done
TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
SANDBOX="$REPO/.sandbox"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  trap '' PIPE INT TERM   # finish stopping even if the terminal or a pipe has gone away
  if [[ $KEEP == 0 ]]; then
    say "stopping the bed" 2>/dev/null || true
    bash "$REPO/scripts/bed.sh" stop || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "1/5 dependencies"
[[ -d node_modules/@pulumi/pulumi ]] || npm ci --no-audit --no-fund
# the node's Debian packages (scripts/node-packages.sh: the one list, shared with CI); without them,
# external mode, saying why
NODE=0
if [[ "${PVV_BED_NODE:-auto}" != 0 ]]; then
  # a node needs Linux and root whether or not its packages are there (containerd, iptables, mounts)
  if [[ "$(uname -s)" != Linux ]]; then
    echo "[sandbox] the bed's node needs Linux (this is $(uname -s)): running external mode (Vault and VSO as local processes, no pods)" >&2
  elif [[ "$(id -u)" != 0 ]]; then
    echo "[sandbox] the bed's node needs root (uid $(id -u); containerd, iptables, mounts): running external mode (Vault and VSO as local processes, no pods)" >&2
  elif bash scripts/node-packages.sh ensure; then
    NODE=1
  fi
fi

# the dynamic-credential variant's database: Debian's postgresql-15 (scripts/test-packages.sh, shared
# with CI); without it the variant is skipped, saying why (PVV_SANDBOX_DATABASE=0 skips it, =1 requires it)
DB=0
if [[ "${PVV_SANDBOX_DATABASE:-auto}" != 0 ]]; then
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]] || { [[ "$(id -u)" == 0 ]] && bash scripts/test-packages.sh ensure; }; then
    DB=1
  else
    echo "[sandbox] no PostgreSQL 15 here (as root with apt: bash scripts/test-packages.sh ensure): the dynamic-credential variant is skipped" >&2
  fi
fi

say "2/5 tools (first run builds from Go modules, each tool's estimate below; later runs reuse the cache)"
if [[ $NODE == 1 ]]; then bash scripts/tools/build.sh --for sandbox-incluster; else bash scripts/tools/build.sh --for sandbox-external; fi

say "3/5 local bed"
MODE=external
if [[ $NODE == 1 ]] && PVV_BED_NODE="${PVV_BED_NODE:-auto}" PVV_BED_VSO=0 bash scripts/bed.sh start && [[ -f "$REPO/.bed/node" ]]; then
  MODE=incluster
else
  if [[ $NODE == 1 ]]; then echo "[sandbox] the bed's node did not start (see above): external mode" >&2; fi
  # a bed kept from an in-cluster run has no local VSO: start it anew for external mode
  [[ -f "$REPO/.bed/node" ]] && bash scripts/bed.sh stop >/dev/null 2>&1 || true
  PVV_BED_NODE=0 PVV_BED_VSO=1 bash scripts/bed.sh start
fi
if [[ $DB == 1 ]]; then
  bash scripts/bed.sh postgres || echo "[sandbox] the bed's PostgreSQL did not start (see above): the dynamic-credential variant is skipped" >&2
fi
# shellcheck disable=SC1090,SC1091
source "$TOOLS_DIR/env.pulumi.sh"; source "$TOOLS_DIR/env.servers.sh"; source "$REPO/.bed/env.sh"
if [[ $MODE == incluster ]]; then source "$TOOLS_DIR/env.images.sh"; fi
mkdir -p "$SANDBOX/state"
export PULUMI_BACKEND_URL="file://$SANDBOX/state"
if [[ ! -f "$SANDBOX/passphrase" ]]; then (umask 077; head -c 24 /dev/urandom | base64 >"$SANDBOX/passphrase"); fi
export PULUMI_CONFIG_PASSPHRASE_FILE="$SANDBOX/passphrase"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# 4/5 stack + pulumi up + the checks a user relies on, 5/5 drift check (scripts/sandbox/run.ts)
node -r ts-node/register/transpile-only scripts/sandbox/run.ts "$MODE"

if [[ $WAIT == 1 ]]; then
  say "sandbox running; press Ctrl-C to stop"
  while true; do sleep 3600 & wait $!; done   # `wait` lets Ctrl-C through at once
fi

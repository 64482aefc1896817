#!/usr/bin/env bash
# Builds (or reuses from the cache) every tool the integration tests and the sandbox need:
# the Pulumi CLI, its Node.js language host, the vault and kubernetes provider plugins, Vault,
# etcd, kube-apiserver, kube-controller-manager, kubectl and the Vault Secrets Operator.
# First run: long (see docs/development.md); later runs: seconds.
#
# Usage: scripts/tools/build.sh [--for all|sandbox-incluster|sandbox-external]
#   all (default)       everything the tests need (CI)
#   sandbox-incluster   what `npm start` needs with a node: no YAML language host
#   sandbox-external    what `npm start` needs without a node: no YAML host, no node images
set -euo pipefail
FOR=all
while (( $# )); do
  case "$1" in
    --for) FOR="${2:-}"; shift 2 ;;
    --for=*) FOR="${1#--for=}"; shift ;;
    *) echo "usage: $0 [--for all|sandbox-incluster|sandbox-external]" >&2; exit 1 ;;
  esac
done
case "$FOR" in all|sandbox-incluster|sandbox-external) ;; *) echo "[tools] unknown --for '$FOR' (all, sandbox-incluster, sandbox-external)" >&2; exit 1 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t0=$(date +%s)
echo "[tools] building or reusing tools in ${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}" >&2
# progress while a long first build runs (a warm run finishes before the first tick)
(
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  while :; do
    sleep 60 & s=$!; wait "$s"
    echo "[tools] still building... $(( ($(date +%s) - t0) / 60 )) min elapsed (Go output: <tools>/logs, <tool>/build.log)" >&2
  done
) &
heartbeat=$!
trap 'kill "$heartbeat" 2>/dev/null || true' EXIT
# cold build times measured on 2 cores (bench/results/cold-start.md); a cached tool takes seconds
declare -A COLD=([pulumi]="~4 min (CLI) + ~1 min (Node.js host)" [plugins]="~7 min (kubernetes) + ~4 min (vault)"
  [yaml]="~1 min" [servers]="~1 min (etcd) + ~9 min (vault) + ~5 min (kubernetes) + ~2 min (VSO)"
  [images]="~3 min (CoreDNS, kube-rbac-proxy, images)")
steps=(pulumi plugins servers)
[[ $FOR == all ]] && steps+=(yaml)
[[ $FOR != sandbox-external ]] && steps+=(images)
echo "[tools] for $FOR: ${steps[*]}; cold estimates: $(for s in "${steps[@]}"; do printf '%s %s; ' "$s" "${COLD[$s]}"; done)" >&2
[[ $FOR == all ]] || echo "[tools] not needed for $FOR (built later by CI or scripts/tools/build.sh): $( [[ $FOR == sandbox-external ]] && echo "node images, ")YAML language host" >&2
bash "$HERE/build-pulumi.sh" all
if [[ $FOR == all ]]; then bash "$HERE/build-yaml.sh" all; fi
bash "$HERE/build-servers.sh"
if [[ $FOR != sandbox-external ]]; then bash "$HERE/build-images.sh"; fi
echo "[tools] ready in $(( $(date +%s) - t0 ))s" >&2

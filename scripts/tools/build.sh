#!/usr/bin/env bash
# Builds (or reuses from the cache) every tool the integration tests and the sandbox need:
# the Pulumi CLI, its Node.js language host, the vault and kubernetes provider plugins, Vault,
# etcd, kube-apiserver, kube-controller-manager, kubectl and the Vault Secrets Operator.
# First run: long (see README, Development); later runs: seconds.
set -euo pipefail
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
bash "$HERE/build-pulumi.sh" all
bash "$HERE/build-yaml.sh" all
bash "$HERE/build-servers.sh"
bash "$HERE/build-images.sh"
echo "[tools] ready in $(( $(date +%s) - t0 ))s" >&2

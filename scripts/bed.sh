#!/usr/bin/env bash
# Local test bed: etcd + kube-apiserver + kube-controller-manager + Vault dev server,
# all bound to 127.0.0.1, binaries built by scripts/tools/build-servers.sh.
#
# Usage: scripts/bed.sh start|stop|restart|status|env|clean|cluster-b|cluster-b-stop|postgres|postgres-stop
#   start    build tools if needed, generate credentials, start everything, wait until ready
#            (no-op if the bed is already running). Kubernetes and Vault state start empty
#            on every start; CA, keys, tokens and ports are reused so kubeconfig stays valid.
#   stop     stop everything this bed started (pid files); idempotent
#   restart  stop + start
#   status   show each server's state; exit 0 only if all are running
#   env      print `export ...` lines for eval: KUBECONFIG VAULT_ADDR VAULT_TOKEN
#            KUBE_API_SERVER KUBE_CA_FILE, and PULUMI_BACKEND_URL (a file backend in the bed)
#            with PULUMI_CONFIG_PASSPHRASE_FILE for test stacks (also written to $BED/env.sh)
#   clean    stop and delete the bed directory
#   cluster-b on a running bed: also a second, node-less cluster (its API server, controller
#            manager and VSO; $BED/kubeconfig-b, $BED/kube-apiserver-b-url) for the multi-cluster
#            suite (scripts/bed/cluster-b.sh); `stop` stops it with the rest
#   cluster-b-stop  stop cluster B only (the bed keeps running)
#   postgres on a running bed: also a PostgreSQL 15 (Debian's package) set up with docs/database.md's
#            SQL, at the node address with a node, else 127.0.0.1 ($BED/postgres.env): npm start's
#            dynamic-credential variant (scripts/bed/postgres.sh); `stop` stops and removes it
#   postgres-stop  stop and remove it only
#
# Owner: with PVV_BED_OWNER_PID=<pid> (set by test/integration/bed.ts: the test run), a bed that
# `start`/`restart` has to start belongs to that process: $BED/owner names it and a watchdog
# (`bed.sh _watchdog`, detached, polling every second) runs the normal `stop` as soon as the process
# is gone, whatever killed it; `stop` ends the watchdog. A bed that is already up keeps its owner, or
# stays without one when it was started another way (CI, by hand): then nothing stops it but `stop`.
# `bed.sh _guard <owner pid> <pid>` ties a server a test spawns itself to the test run the same way.
#
# Environment:
#   PVV_BED_DIR     state/log directory (default: <repo>/.bed)
#   PVV_TOOLS_DIR   tool cache (default: $HOME/.cache/pulumi-vault-vso/tools)
#   PVV_BED_TIMEOUT seconds to wait for each server (default: 90)
#   PVV_BED_OWNER_PID  the process a newly started bed belongs to (see Owner above)
#   PVV_BED_VSO=1   also apply the VSO CRDs and run the Vault Secrets Operator controller
#                   (namespace vault-secrets-operator-system) against the bed, as a local process
#   PVV_BED_NODE    1 = add a real node (containerd + runc + CNI bridge, kubelet, kube-proxy,
#                   kube-scheduler, CoreDNS, a local StorageClass) so that pods run; 0 = no node
#                   (external mode only). Default: 1 when running as root on Linux with containerd,
#                   runc and the CNI plugins installed (apt-get install containerd runc
#                   containernetworking-plugins busybox-static iptables), else 0 with a message.
#
# Addresses: etcd and the local Vault bind 127.0.0.1. With a node, the API server, kubelet and
# CoreDNS bind the node address $NODE_IP, which lives on the bed's own port-less bridge (pvvnode0) and nowhere
# else: pods must reach the API server and DNS, and nothing outside this machine can. Pod traffic
# to anything but the pod range, the Service range and the node address is dropped.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BED="${PVV_BED_DIR:-$REPO/.bed}"
[[ "$BED" == /* ]] || BED="$PWD/$BED"   # absolute: the watchdog is found by it
TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
TIMEOUT="${PVV_BED_TIMEOUT:-90}"
HOST=127.0.0.1
VSO_NAMESPACE=vault-secrets-operator-system
# node networking (only with a node)
NODE_NAME=pvv-node
NODE_IP=10.245.0.1
BRIDGE=pvvbr0      # the pods' bridge; CNI gives it the pods' gateway address (and wants no other IPv4)
NODE_DEV=pvvnode0  # a port-less bridge that only carries the node address
POD_CIDR=10.244.0.0/24
POD_GW=10.244.0.1
SERVICE_CIDR=10.0.0.0/24
RUN_DIR=/run/pvv-bed
# the controllers a node-less cluster needs (namespaces, ServiceAccounts and their token Secrets, ...)
KCM_NODELESS_CONTROLLERS=namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller
CTRD_SOCK="$RUN_DIR/containerd.sock"

log() { echo "[bed] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ----------------------------------------------------------------------------- tools
load_tools() {
  local envf="$TOOLS_DIR/env.servers.sh"
  if [[ ! -f "$envf" ]] || ! (source "$envf" && [[ -x "$PVV_VAULT_BIN" && -x "$PVV_ETCD_BIN" && -x "$PVV_KUBE_APISERVER_BIN" && -x "$PVV_KUBE_CONTROLLER_MANAGER_BIN" ]]); then
    log "server binaries missing; running scripts/tools/build-servers.sh"
    "$REPO/scripts/tools/build-servers.sh"
  fi
  # shellcheck disable=SC1090
  source "$envf"
}

# the functions by concern (each file sources nothing and runs nothing)
for part in processes control-plane node cluster-b postgres; do
  # shellcheck source=/dev/null
  source "$REPO/scripts/bed/$part.sh"
done

# ----------------------------------------------------------------------------- commands
cmd_start() {  # cmd_start [fresh]: fresh = restart even if running
  local owner
  owner="$(next_owner)"
  if [[ "${1:-}" != fresh ]] && ! orphaned; then
    if all_running; then log "bed already running ($BED)$(owner_note)"; return 0; fi
    if core_running && [[ "${PVV_BED_VSO:-}" == 1 ]]; then load_tools; start_vso; return 0; fi
  fi
  cmd_stop quiet
  mkdir -p "$BED" "$BED/logs"
  # owned from the first server on: a start that fails half-way is cleaned up too
  claim_owner "$owner"
  load_tools
  rm -f "$BED/node"
  if node_wanted; then
    touch "$BED/node"
    # shellcheck disable=SC1090
    source "$TOOLS_DIR/env.images.sh"
    net_up
  fi
  gen_creds

  local eport pport kport vport
  eport="$(pick_port etcd)"; pport="$(pick_port etcd-peer)"
  kport="$(pick_port kube-apiserver)"; vport="$(pick_port vault 2)"  # vault dev uses port+1 for its cluster listener
  write_kubeconfig "$kport"
  write_env

  # fresh cluster state on every start (Vault dev is in-memory anyway)
  rm -rf "$BED/etcd-data"
  # names this bed's life: state kept elsewhere for it (npm start's stack) is stale once it changes
  head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$BED/instance"
  spawn etcd "$PVV_ETCD_BIN" --name pvv-bed --data-dir "$BED/etcd-data" \
    --listen-client-urls "http://$HOST:$eport" --advertise-client-urls "http://$HOST:$eport" \
    --listen-peer-urls "http://$HOST:$pport" --initial-advertise-peer-urls "http://$HOST:$pport" \
    --initial-cluster "pvv-bed=http://$HOST:$pport" --listen-metrics-urls "" \
    --log-level warn --quota-backend-bytes 2147483648
  export VAULT_DEV_ROOT_TOKEN_ID; VAULT_DEV_ROOT_TOKEN_ID="$(cat "$BED/vault-token")"
  spawn vault "$PVV_VAULT_BIN" server -dev -dev-listen-address="$HOST:$vport" -dev-no-store-token -log-level=info
  unset VAULT_DEV_ROOT_TOKEN_ID
  wait_for etcd "etcd http://$HOST:$eport/health" curl -fsS "http://$HOST:$eport/health"

  mkdir -p "$BED/kube-apiserver-certs"
  local ahost node_args=(--endpoint-reconciler-type=none) kcm_controllers
  ahost="$(apiserver_host)"
  kcm_controllers="$KCM_NODELESS_CONTROLLERS"
  if has_node; then
    node_args=(--endpoint-reconciler-type=lease --kubelet-preferred-address-types=InternalIP
      --kubelet-client-certificate="$BED/pki/admin.crt" --kubelet-client-key="$BED/pki/admin.key")
    kcm_controllers='*'
  fi
  spawn kube-apiserver "$PVV_KUBE_APISERVER_BIN" \
    --etcd-servers="http://$HOST:$eport" \
    --bind-address="$ahost" --advertise-address="$ahost" --secure-port="$kport" \
    --cert-dir="$BED/kube-apiserver-certs" \
    --tls-cert-file="$BED/pki/apiserver.crt" --tls-private-key-file="$BED/pki/apiserver.key" \
    --client-ca-file="$BED/pki/ca.crt" --token-auth-file="$BED/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$BED/pki/sa.pub" --service-account-signing-key-file="$BED/pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" "${node_args[@]}" \
    --profiling=false --enable-priority-and-fairness=false --v=1
  wait_for kube-apiserver "https://$ahost:$kport/readyz" kube_get /readyz

  spawn kube-controller-manager "$PVV_KUBE_CONTROLLER_MANAGER_BIN" \
    --kubeconfig="$BED/kubeconfig" --authentication-skip-lookup=true \
    --bind-address=$HOST --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=false \
    --controllers="$kcm_controllers" \
    --service-account-private-key-file="$BED/pki/sa.key" --root-ca-file="$BED/pki/ca.crt" \
    --cluster-name=pvv-bed --profiling=false --v=1
  wait_for kube-controller-manager "default ServiceAccount in namespace default" kube_get /api/v1/namespaces/default/serviceaccounts/default
  wait_for vault "$(cat "$BED/vault-addr")/v1/sys/health" curl -fsS "http://$HOST:$vport/v1/sys/health"

  if has_node; then start_node; fi
  if [[ "${PVV_BED_VSO:-}" == 1 ]]; then start_vso; fi
  log "bed running in $BED$(owner_note) — eval \"\$(scripts/bed.sh env)\""
}

owner_note() {
  local pid st
  read -r pid st <<<"$(owner_of_bed)"
  if [[ -n "$pid" ]]; then echo "; stopped when process $pid exits"; fi
}

start_vso() {  # start_vso [svc] [kubeconfig]: VSO as a local process against a cluster (default: the bed's)
  local svc="${1:-vso}" kc="${2:-$BED/kubeconfig}"
  [[ -x "${PVV_VSO_BIN:-}" && -d "${VSO_CRDS_DIR:-}" ]] || die "VSO binary/CRDs missing; run scripts/tools/build-servers.sh vso"
  "$PVV_KUBECTL_BIN" --kubeconfig "$kc" apply --server-side -f "$VSO_CRDS_DIR" >/dev/null
  "$PVV_KUBECTL_BIN" --kubeconfig "$kc" create namespace "$VSO_NAMESPACE" --dry-run=client -o yaml |
    "$PVV_KUBECTL_BIN" --kubeconfig "$kc" apply -f - >/dev/null
  OPERATOR_NAMESPACE="$VSO_NAMESPACE" KUBECONFIG="$kc" spawn "$svc" "$PVV_VSO_BIN" \
    --leader-elect=false --metrics-bind-address=0 --health-probe-bind-address="$HOST:$(pick_port "$svc-health")"
  wait_for "$svc" "$svc /readyz" curl -fsS "http://$HOST:$(cat "$BED/ports/$svc-health")/readyz"
}

core_running() {
  local s
  for s in etcd kube-apiserver kube-controller-manager vault; do running "$s" || return 1; done
}

all_running() {
  core_running || return 1
  local s
  if has_node; then for s in "${NODE_SERVICES[@]}"; do running "$s" || return 1; done; fi
  if [[ "${PVV_BED_VSO:-}" == 1 ]]; then running vso || return 1; fi
}

cmd_stop() {
  local s
  [[ -d "$BED" ]] || return 0
  # shellcheck disable=SC1090
  [[ -f "$TOOLS_DIR/env.servers.sh" ]] && source "$TOOLS_DIR/env.servers.sh"
  stop_watchdog
  stop_postgres quiet
  if has_node || running containerd || running kubelet; then stop_node; fi
  rm -f "$BED/node"
  # (etcd last: the API server's shutdown still writes to it)
  stop_svcs vso kube-controller-manager kube-apiserver vault "${CLUSTER_B_SERVICES[@]}"
  stop_svcs etcd
  [[ "${1:-}" == quiet ]] || log "bed stopped"
}

cmd_status() {
  local s rc=0
  for s in "${SERVICES[@]}"; do
    if running "$s"; then
      echo "$s: running (pid $(pid_of "$s"), port $(cat "$BED/ports/$s" 2>/dev/null || echo -), log $BED/logs/$s.log)"
    elif [[ $s == vso && "${PVV_BED_VSO:-}" != 1 ]]; then
      echo "$s: not started (set PVV_BED_VSO=1)"
    else
      echo "$s: stopped"; rc=1
    fi
  done
  if has_node; then
    for s in "${NODE_SERVICES[@]}"; do
      if running "$s"; then echo "$s: running (pid $(pid_of "$s"), log $BED/logs/$s.log)"; else echo "$s: stopped"; rc=1; fi
    done
    node_status
  else
    echo "node: none (external mode; PVV_BED_NODE=1 to require one)"
  fi
  if running postgres; then echo "postgres: running (pid $(pid_of postgres), $(grep -oP "PVV_PG_HOST='\K[^']+" "$BED/postgres.env"):$(cat "$BED/ports/postgres"), log $BED/logs/postgres.log)"; fi
  local pid st
  read -r pid st <<<"$(owner_of_bed)"
  if [[ -z "$pid" ]]; then echo "owner: none (stopped only by bed.sh stop)"
  elif alive_as "$pid" "$st"; then echo "owner: process $pid (stopped when it exits; watchdog pid $(cat "$BED/watchdog.pid" 2>/dev/null))"
  else echo "owner: process $pid, gone (its watchdog stops the bed)"; fi
  return $rc
}

cmd_env() {
  [[ -f "$BED/env.sh" ]] || die "no bed in $BED; run scripts/bed.sh start"
  cat "$BED/env.sh"
}

case "${1:-}" in
  start) lock_bed; cmd_start ;;
  stop) [[ -d "$BED" ]] || exit 0; lock_bed; cmd_stop ;;
  restart) lock_bed; cmd_start fresh ;;
  status) cmd_status ;;
  env) cmd_env ;;
  clean) [[ -d "$BED" ]] && lock_bed; cmd_stop; rm -rf "$BED"; log "removed $BED" ;;
  cluster-b) lock_bed; load_tools; start_cluster_b ;;
  cluster-b-stop) [[ -d "$BED" ]] || exit 0; lock_bed; stop_cluster_b; log "cluster B stopped" ;;
  postgres) lock_bed; start_postgres ;;
  postgres-stop) [[ -d "$BED" ]] || exit 0; lock_bed; stop_postgres ;;
  _provisioner) load_tools; provisioner_loop ;;
  _watchdog) BED="$2"; cmd_watchdog "$3" "$4" ;;
  _guard) cmd_guard "$2" "$3" ;;
  *) echo "usage: $0 start|stop|restart|status|env|clean|cluster-b|cluster-b-stop|postgres|postgres-stop" >&2; exit 2 ;;
esac

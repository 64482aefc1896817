#!/usr/bin/env bash
# Local test bed: etcd + kube-apiserver + kube-controller-manager + Vault dev server,
# all bound to 127.0.0.1, binaries built by scripts/tools/build-servers.sh.
#
# Usage: scripts/bed.sh start|stop|restart|status|env|clean
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
#
# Environment:
#   PVV_BED_DIR     state/log directory (default: <repo>/.bed)
#   PVV_TOOLS_DIR   tool cache (default: $HOME/.cache/pulumi-vault-vso/tools)
#   PVV_BED_TIMEOUT seconds to wait for each server (default: 90)
#   PVV_BED_VSO=1   also apply the VSO CRDs and run the Vault Secrets Operator controller
#                   (namespace vault-secrets-operator-system) against the bed
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BED="${PVV_BED_DIR:-$REPO/.bed}"
TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
TIMEOUT="${PVV_BED_TIMEOUT:-90}"
HOST=127.0.0.1
VSO_NAMESPACE=vault-secrets-operator-system

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

# ----------------------------------------------------------------------------- processes
SERVICES=(etcd kube-apiserver kube-controller-manager vault vso)

pid_of() { local f="$BED/$1.pid"; [[ -f "$f" ]] && cat "$f"; }

# running <svc>: pid file exists and the process is alive and still the binary we started
running() {
  local pid exe
  pid="$(pid_of "$1")" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  exe="$(cat "$BED/$1.exe" 2>/dev/null)" || return 0
  # (a rebuilt tool dir leaves the old binary as "<path> (deleted)"; still ours)
  local cur; cur="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "${cur% (deleted)}" == "$(readlink -f "$exe")" ]]
}

# spawn <svc> <binary> <args...>: start in its own session, log to $BED/logs/<svc>.log
spawn() {
  local svc="$1" bin="$2"; shift 2
  mkdir -p "$BED/logs"
  echo "+ $bin $*" >"$BED/logs/$svc.log"
  nohup setsid "$bin" "$@" >>"$BED/logs/$svc.log" 2>&1 </dev/null &
  echo $! >"$BED/$svc.pid"
  echo "$bin" >"$BED/$svc.exe"
}

stop_svc() {
  local svc="$1" pid i
  if running "$svc"; then
    pid="$(pid_of "$svc")"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$svc ($pid) did not stop; sending KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $svc ($pid)"
  fi
  rm -f "$BED/$svc.pid" "$BED/$svc.exe"
}

# ----------------------------------------------------------------------------- ports
port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pick_port() {  # pick_port <name> [span]: reuse the saved port if still free, else a random free one
  local name="$1" span="${2:-1}" f="$BED/ports/$1" p i ok
  mkdir -p "$BED/ports"
  if [[ -f "$f" ]]; then
    p="$(cat "$f")"; ok=1
    for ((i = 0; i < span; i++)); do port_free $((p + i)) || ok=0; done
    [[ $ok == 1 ]] && { echo "$p"; return; }
  fi
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000)); ok=1
    for ((i = 0; i < span; i++)); do port_free $((p + i)) || ok=0; done
    if [[ $ok == 1 ]] && ! grep -qx "$p" "$BED"/ports/* 2>/dev/null; then echo "$p" >"$f"; echo "$p"; return; fi
  done
  die "no free port found for $name"
}

# ----------------------------------------------------------------------------- credentials
gen_creds() {
  local pki="$BED/pki"
  mkdir -p "$pki"; chmod 700 "$pki"
  command -v openssl >/dev/null || die "openssl is required"
  (
    cd "$pki"; umask 077
    if [[ ! -f ca.crt ]]; then
      log "generating CA, serving cert, admin client cert, service-account key pair"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/CN=pvv-bed-ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
      cat >apiserver.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
      openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
      openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
      openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=pvv-admin" 2>/dev/null
      openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
      openssl genrsa -out sa.key 2048 2>/dev/null
      openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
      rm -f ./*.csr ./*.srl
      chmod 644 ca.crt
    fi
  )
  umask 077
  [[ -f "$BED/admin-token" ]] || openssl rand -hex 24 >"$BED/admin-token"
  [[ -f "$BED/vault-token" ]] || echo "hvs-bed-$(openssl rand -hex 16)" >"$BED/vault-token"
  chmod 600 "$BED/admin-token" "$BED/vault-token"
  printf '%s,pvv-admin,pvv-admin,"system:masters"\n' "$(cat "$BED/admin-token")" >"$BED/pki/tokens.csv"
  umask 022
}

write_kubeconfig() {
  local port="$1" pki="$BED/pki" b64="base64 -w0"
  (umask 077; cat >"$BED/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pvv-bed
  cluster:
    server: https://$HOST:$port
    certificate-authority-data: $($b64 <"$pki/ca.crt")
users:
- name: pvv-admin
  user:
    client-certificate-data: $($b64 <"$pki/admin.crt")
    client-key-data: $($b64 <"$pki/admin.key")
contexts:
- name: pvv-bed
  context:
    cluster: pvv-bed
    user: pvv-admin
    namespace: default
current-context: pvv-bed
EOF
  )
}

write_env() {
  local kport vport
  kport="$(cat "$BED/ports/kube-apiserver")"; vport="$(cat "$BED/ports/vault")"
  (umask 077; cat >"$BED/env.sh" <<EOF
export PVV_BED_DIR='$BED'
export KUBECONFIG='$BED/kubeconfig'
export KUBE_API_SERVER='https://$HOST:$kport'
export KUBE_CA_FILE='$BED/pki/ca.crt'
export KUBE_ADMIN_TOKEN='$(cat "$BED/admin-token")'
export VAULT_ADDR='http://$HOST:$vport'
export VAULT_TOKEN='$(cat "$BED/vault-token")'
# pulumi: a local file backend and a passphrase for the bed's test stacks
export PULUMI_BACKEND_URL='file://$BED/pulumi-state'
export PULUMI_CONFIG_PASSPHRASE_FILE='$BED/pulumi-passphrase'
export PULUMI_SKIP_UPDATE_CHECK=true
$(grep -E '^export (PATH|VSO_CRDS_DIR)=' "$TOOLS_DIR/env.servers.sh")
EOF
  )
  mkdir -p "$BED/pulumi-state"
  [[ -s "$BED/pulumi-passphrase" ]] || (umask 077; head -c 24 /dev/urandom | base64 >"$BED/pulumi-passphrase")
  echo "http://$HOST:$vport" >"$BED/vault-addr"
}

# ----------------------------------------------------------------------------- readiness
wait_for() {  # wait_for <svc> <description> <command...>
  local svc="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    if ! running "$svc"; then
      log "$svc exited; last lines of $BED/logs/$svc.log:"; tail -n 30 "$BED/logs/$svc.log" >&2
      die "$svc failed to start (see $BED/logs/$svc.log)"
    fi
    if (( $(date +%s) > deadline )); then
      log "$svc not ready after ${TIMEOUT}s; last lines of $BED/logs/$svc.log:"; tail -n 30 "$BED/logs/$svc.log" >&2
      die "timed out waiting for $what (see $BED/logs/$svc.log)"
    fi
    sleep 0.5
  done
  log "$svc ready ($what)"
}

kube_get() {  # kube_get <path>
  curl -fsS --cacert "$BED/pki/ca.crt" -H "Authorization: Bearer $(cat "$BED/admin-token")" \
    "https://$HOST:$(cat "$BED/ports/kube-apiserver")$1"
}

# ----------------------------------------------------------------------------- commands
cmd_start() {
  if all_running; then log "bed already running ($BED)"; return 0; fi
  if core_running && [[ "${PVV_BED_VSO:-}" == 1 ]]; then load_tools; start_vso; return 0; fi
  cmd_stop quiet
  mkdir -p "$BED" "$BED/logs"
  load_tools
  gen_creds

  local eport pport kport vport
  eport="$(pick_port etcd)"; pport="$(pick_port etcd-peer)"
  kport="$(pick_port kube-apiserver)"; vport="$(pick_port vault 2)"  # vault dev uses port+1 for its cluster listener
  write_kubeconfig "$kport"
  write_env

  # fresh cluster state on every start (Vault dev is in-memory anyway)
  rm -rf "$BED/etcd-data"
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
  spawn kube-apiserver "$PVV_KUBE_APISERVER_BIN" \
    --etcd-servers="http://$HOST:$eport" \
    --bind-address=$HOST --advertise-address=$HOST --secure-port="$kport" \
    --cert-dir="$BED/kube-apiserver-certs" \
    --tls-cert-file="$BED/pki/apiserver.crt" --tls-private-key-file="$BED/pki/apiserver.key" \
    --client-ca-file="$BED/pki/ca.crt" --token-auth-file="$BED/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$BED/pki/sa.pub" --service-account-signing-key-file="$BED/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --profiling=false --enable-priority-and-fairness=false --v=1
  wait_for kube-apiserver "https://$HOST:$kport/readyz" kube_get /readyz

  spawn kube-controller-manager "$PVV_KUBE_CONTROLLER_MANAGER_BIN" \
    --kubeconfig="$BED/kubeconfig" --authentication-skip-lookup=true \
    --bind-address=$HOST --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=false \
    --controllers=namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller \
    --service-account-private-key-file="$BED/pki/sa.key" --root-ca-file="$BED/pki/ca.crt" \
    --cluster-name=pvv-bed --profiling=false --v=1
  wait_for kube-controller-manager "default ServiceAccount in namespace default" kube_get /api/v1/namespaces/default/serviceaccounts/default
  wait_for vault "$(cat "$BED/vault-addr")/v1/sys/health" curl -fsS "http://$HOST:$vport/v1/sys/health"

  if [[ "${PVV_BED_VSO:-}" == 1 ]]; then start_vso; fi
  log "bed running in $BED — eval \"\$(scripts/bed.sh env)\""
}

start_vso() {
  [[ -x "${PVV_VSO_BIN:-}" && -d "${VSO_CRDS_DIR:-}" ]] || die "VSO binary/CRDs missing; run scripts/tools/build-servers.sh vso"
  "$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig" apply --server-side -f "$VSO_CRDS_DIR" >/dev/null
  "$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig" create namespace "$VSO_NAMESPACE" --dry-run=client -o yaml |
    "$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig" apply -f - >/dev/null
  OPERATOR_NAMESPACE="$VSO_NAMESPACE" KUBECONFIG="$BED/kubeconfig" spawn vso "$PVV_VSO_BIN" \
    --leader-elect=false --metrics-bind-address=0 --health-probe-bind-address="$HOST:$(pick_port vso-health)"
  wait_for vso "VSO /readyz" curl -fsS "http://$HOST:$(cat "$BED/ports/vso-health")/readyz"
}

core_running() {
  local s
  for s in etcd kube-apiserver kube-controller-manager vault; do running "$s" || return 1; done
}

all_running() {
  core_running || return 1
  if [[ "${PVV_BED_VSO:-}" == 1 ]]; then running vso || return 1; fi
}

cmd_stop() {
  local s
  [[ -d "$BED" ]] || return 0
  for s in vso kube-controller-manager kube-apiserver vault etcd; do stop_svc "$s"; done
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
  return $rc
}

cmd_env() {
  [[ -f "$BED/env.sh" ]] || die "no bed in $BED; run scripts/bed.sh start"
  cat "$BED/env.sh"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  clean) cmd_stop; rm -rf "$BED"; log "removed $BED" ;;
  *) echo "usage: $0 start|stop|restart|status|env|clean" >&2; exit 2 ;;
esac

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

# ----------------------------------------------------------------------------- processes
SERVICES=(etcd kube-apiserver kube-controller-manager vault vso)
NODE_SERVICES=(containerd kubelet kube-proxy kube-scheduler coredns provisioner)

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
  local svc="$1" bin; bin="$(command -v "$2")" || die "$2 not found"; shift 2
  # logs may hold tokens (Vault dev prints its root token): readable by the owner only
  mkdir -p "$BED/logs"; chmod 700 "$BED" "$BED/logs"
  echo "+ $bin $*" >"$BED/logs/$svc.log"
  # (9>&-: the servers must not hold the bed's lock, see lock_bed)
  nohup setsid "$bin" "$@" >>"$BED/logs/$svc.log" 2>&1 </dev/null 9>&- &
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

# stop_svcs <svc...>: like stop_svc for each, but TERM goes to all at once (their shutdowns overlap)
stop_svcs() {
  local s pid i left stopping=()
  for s in "$@"; do
    if running "$s"; then pid="$(pid_of "$s")"; stopping+=("$s:$pid"); kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in $(seq 1 50); do
    left=0
    for s in "${stopping[@]}"; do kill -0 "${s#*:}" 2>/dev/null && left=1; done
    [[ $left == 0 ]] && break; sleep 0.2
  done
  for s in "${stopping[@]}"; do
    pid="${s#*:}"
    if kill -0 "$pid" 2>/dev/null; then
      log "${s%%:*} ($pid) did not stop; sending KILL"; kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    log "stopped ${s%%:*} ($pid)"
  done
  for s in "$@"; do rm -f "$BED/$s.pid" "$BED/$s.exe"; done
}

# ----------------------------------------------------------------------------- owner
# lock_bed: start/restart/stop/clean and a watchdog's stop run one at a time per bed (fd 9)
lock_bed() {
  mkdir -p "$BED"
  exec 9>"$BED/.lock"
  if command -v flock >/dev/null; then flock 9; fi
}

# proc_start <pid>: the process's start time (clock ticks after boot), which tells it from a later
# process with the same pid; fails when there is no such process or only its zombie
proc_start() {
  local stat f
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -ra f <<<"${stat##*) }"   # f[0] is field 3 (state), f[19] field 22 (starttime)
  [[ "${f[0]}" != Z && "${f[0]}" != X ]] || return 1
  echo "${f[19]}"
}

alive_as() {  # alive_as <pid> <start time>: that very process still runs
  local st
  st="$(proc_start "$1")" || return 1
  [[ "$st" == "$2" ]]
}

owner_of_bed() { cat "$BED/owner" 2>/dev/null; }   # "<pid> <start time>", nothing when unowned

owner_alive() {
  local pid st
  read -r pid st <<<"$(owner_of_bed)"
  [[ -n "$pid" ]] && alive_as "$pid" "$st"
}

orphaned() { [[ -f "$BED/owner" ]] && ! owner_alive; }   # its owner is gone: its watchdog stops it

any_running() {
  local s
  for s in "${SERVICES[@]}" "${NODE_SERVICES[@]}"; do running "$s" && return 0; done
  return 1
}

# next_owner: the owner a start leaves the bed with. A bed that is up keeps a live owner, or none
# when it has none (CI's bed, a developer's); a new bed (or an orphaned one) gets PVV_BED_OWNER_PID.
next_owner() {
  if any_running && ! orphaned; then owner_of_bed || true; return 0; fi
  local p="${PVV_BED_OWNER_PID:-}" st
  [[ -n "$p" ]] || return 0
  [[ "$p" =~ ^[0-9]+$ ]] || die "PVV_BED_OWNER_PID=$p is not a process id"
  st="$(proc_start "$p")" || die "PVV_BED_OWNER_PID=$p: no such process"
  echo "$p $st"
}

# claim_owner "<pid> <start time>": tie the bed to that process (nothing for an empty owner)
claim_owner() {
  local pid st
  read -r pid st <<<"$1"
  [[ -n "$pid" ]] || return 0
  echo "$pid $st" >"$BED/owner"
  mkdir -p "$BED/logs"
  nohup setsid bash "$REPO/scripts/bed.sh" _watchdog "$BED" "$pid" "$st" >>"$BED/logs/watchdog.log" 2>&1 </dev/null 9>&- &
  echo $! >"$BED/watchdog.pid"
  log "bed belongs to process $pid (the test run): stopped when it exits (watchdog pid $!)"
}

# stop_watchdog: the bed is being stopped; its watchdog (unless that is us) ends now
stop_watchdog() {
  local pid i
  pid="$(cat "$BED/watchdog.pid" 2>/dev/null)" || true
  rm -f "$BED/owner" "$BED/watchdog.pid"
  [[ -n "$pid" && "$pid" != "$$" ]] || return 0
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *" _watchdog $BED "* ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true   # with its `sleep`
  for i in $(seq 1 25); do proc_start "$pid" >/dev/null || break; sleep 0.2; done
}

# _watchdog <bed> <owner pid> <owner start time>: polls the owner every second; when it is gone,
# runs the normal stop. Exits without stopping anything when the bed is stopped or changes hands.
cmd_watchdog() {
  local pid="$1" st="$2"
  log "$(date -u +%FT%TZ) watchdog $$: bed $BED belongs to process $pid"
  while [[ "$(owner_of_bed)" == "$pid $st" ]]; do
    if ! alive_as "$pid" "$st"; then
      lock_bed
      [[ "$(owner_of_bed)" == "$pid $st" ]] || break   # restarted meanwhile by someone else
      log "$(date -u +%FT%TZ) watchdog $$: process $pid is gone; stopping the bed"
      cmd_stop
      exit 0
    fi
    sleep 1
  done
  log "$(date -u +%FT%TZ) watchdog $$: the bed was stopped or changed hands; exiting"
}

# _guard <owner pid> <pid>: a server a test spawned (bed.ts spawnOwned) gets TERM, then KILL, when
# the owner is gone; the guard exits when the server does
cmd_guard() {
  local opid="$1" pid="$2" ost st i
  st="$(proc_start "$pid")" || exit 0
  ost="$(proc_start "$opid")" || ost=gone
  while alive_as "$pid" "$st"; do
    if ! alive_as "$opid" "$ost"; then
      log "guard: process $opid is gone; stopping $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do alive_as "$pid" "$st" || exit 0; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      exit 0
    fi
    sleep 1
  done
}

# ----------------------------------------------------------------------------- ports
port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pick_port() {  # pick_port <name> [span]: reuse the saved port if still free, else a random free one
  local name="$1" span="${2:-1}" f="$BED/ports/$1" p i ok
  mkdir -p "$BED/ports"
  if [[ -f "$f" ]]; then
    p="$(cat "$f")"; ok=1
    local elo; read -r elo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || elo=65536
    (( p + span <= elo )) || ok=0   # saved before ports moved out of the ephemeral range
    for ((i = 0; i < span; i++)); do port_free $((p + i)) || ok=0; done
    [[ $ok == 1 ]] && { echo "$p"; return; }
  fi
  # below the kernel's ephemeral range: a port there can be taken at any moment as the local end
  # of an outgoing connection, which a "nothing listens" check cannot see
  local lo=32768 base span_=11990
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  base=$(( lo > 22000 ? lo - 12000 : 10000 )); (( lo > 22000 )) || span_=$(( lo > 10200 ? lo - 10100 : 100 ))
  for _ in $(seq 1 200); do
    p=$((base + RANDOM % span_)); ok=1
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
    # certificates from before the node address was added are replaced
    if [[ -f apiserver.crt ]] && [[ "$(openssl x509 -in apiserver.crt -noout -text 2>/dev/null)" != *"IP Address:$NODE_IP"* ]]; then rm -f ca.crt; fi
    if [[ ! -f ca.crt ]]; then
      log "generating CA, serving cert, admin client cert, service-account key pair"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/CN=pvv-bed-ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
      cat >apiserver.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
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
  # curl reads the header from this file: a token never goes on a command line (ps shows those)
  printf 'Authorization: Bearer %s\n' "$(cat "$BED/admin-token")" >"$BED/admin-header"
  chmod 600 "$BED/pki/tokens.csv" "$BED/admin-header"
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
    server: https://$(apiserver_host):$port
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
export KUBE_API_SERVER='https://$(apiserver_host):$kport'
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
  curl -fsS --cacert "$BED/pki/ca.crt" -H "@$BED/admin-header" \
    "https://$(apiserver_host):$(cat "$BED/ports/kube-apiserver")$1"
}

# ----------------------------------------------------------------------------- node
# node_wanted: decide once per start whether this bed gets a node (see PVV_BED_NODE above)
node_wanted() {
  case "${PVV_BED_NODE:-auto}" in
    1|true) node_prereqs || die "PVV_BED_NODE=1 but $NODE_WHY"; return 0 ;;
    0|false) return 1 ;;
  esac
  if node_prereqs; then return 0; fi
  log "no node: $NODE_WHY (pods cannot run; external mode only)"
  return 1
}

NODE_WHY=""
node_prereqs() {
  [[ "$(uname -s)" == Linux ]] || { NODE_WHY="a node needs Linux"; return 1; }
  [[ "$(id -u)" == 0 ]] || { NODE_WHY="a node needs root (containerd, iptables, mounts)"; return 1; }
  local b
  for b in containerd runc ctr iptables ip; do
    command -v "$b" >/dev/null || { NODE_WHY="$b is not installed (apt-get install containerd runc containernetworking-plugins iptables iproute2)"; return 1; }
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
    { NODE_WHY="CNI plugins missing in /usr/lib/cni (apt-get install containernetworking-plugins)"; return 1; }
  [[ -f "$TOOLS_DIR/env.images.sh" ]] || { NODE_WHY="node images not built (scripts/tools/build-images.sh)"; return 1; }
}

has_node() { [[ -f "$BED/node" ]]; }
apiserver_host() { if has_node; then echo "$NODE_IP"; else echo "$HOST"; fi; }

ctr_() { ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }

# the bridge carries the node address (and, once CNI adds it, the pods' gateway)
net_up() {
  local dev addrs
  for dev in "$BRIDGE" "$NODE_DEV"; do ip link show "$dev" >/dev/null 2>&1 || ip link add "$dev" type bridge; done
  addrs="$(ip addr show dev "$NODE_DEV")"
  [[ "$addrs" == *" $NODE_IP/"* ]] || ip addr add "$NODE_IP/32" dev "$NODE_DEV"
  addrs="$(ip addr show dev "$BRIDGE")"
  [[ "$addrs" == *" $POD_GW/"* ]] || ip addr add "$POD_GW/24" dev "$BRIDGE"
  ip link set "$NODE_DEV" up; ip link set "$BRIDGE" up
  # forwarding is needed for pod -> Service -> pod; remember the old value for stop
  [[ -f "$BED/ip_forward.saved" ]] || cat /proc/sys/net/ipv4/ip_forward >"$BED/ip_forward.saved"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  [[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ]] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  # pod traffic stays on this machine: before any NAT (mangle PREROUTING), anything from the pod
  # range that is not for the pod range, the Service range or the node address is dropped
  iptables -t mangle -N PVV-BED 2>/dev/null || iptables -t mangle -F PVV-BED
  iptables -t mangle -A PVV-BED -d "$POD_CIDR" -j RETURN
  iptables -t mangle -A PVV-BED -d "$SERVICE_CIDR" -j RETURN
  iptables -t mangle -A PVV-BED -d "$NODE_IP/32" -j RETURN
  iptables -t mangle -A PVV-BED -d 255.255.255.255/32 -j RETURN
  iptables -t mangle -A PVV-BED -j DROP
  iptables -t mangle -C PREROUTING -s "$POD_CIDR" -j PVV-BED 2>/dev/null || iptables -t mangle -I PREROUTING 1 -s "$POD_CIDR" -j PVV-BED
}

net_down() {
  iptables -t mangle -D PREROUTING -s "$POD_CIDR" -j PVV-BED 2>/dev/null || true
  iptables -t mangle -F PVV-BED 2>/dev/null || true
  iptables -t mangle -X PVV-BED 2>/dev/null || true
  # kube-proxy's chains (KUBE-*) in filter and nat
  if [[ -n "${PVV_KUBE_PROXY_BIN:-}" && -x "${PVV_KUBE_PROXY_BIN:-}" ]]; then
    "$PVV_KUBE_PROXY_BIN" --cleanup --v=0 >/dev/null 2>&1 || true
  fi
  local t c
  for t in filter nat mangle; do
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$t" -S 2>/dev/null | grep -E -- "-j $c( |$)" | grep -v "^-A $c " | sed 's/^-A/-D/' |
        while read -r rule; do eval "iptables -t $t $rule" 2>/dev/null || true; done || true
    done
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do iptables -t "$t" -F "$c" 2>/dev/null || true; done
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do iptables -t "$t" -X "$c" 2>/dev/null || true; done
  done
  # pods' network namespaces and veths go with their sandboxes; the bridge goes last
  local l
  for l in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$l" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$NODE_DEV" 2>/dev/null || true
  if [[ -f "$BED/ip_forward.saved" ]]; then cat "$BED/ip_forward.saved" >/proc/sys/net/ipv4/ip_forward; rm -f "$BED/ip_forward.saved"; fi
}

write_node_configs() {
  local n="$BED/node-conf"
  mkdir -p "$n" "$BED/cni/net.d" "$BED/volumes" "$RUN_DIR"
  cat >"$n/containerd.toml" <<CFG
version = 2
root = "$BED/containerd"
state = "$RUN_DIR/containerd"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PVV_SANDBOX_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$BED/cni/net.d"
CFG
  cat >"$BED/cni/net.d/10-pvv-bed.conflist" <<CFG
{
  "cniVersion": "0.4.0",
  "name": "pvv-bed",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GW" }]],
                "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$BED/cni/ipam" }
    }
  ]
}
CFG
  echo "nameserver $NODE_IP" >"$n/resolv.conf"
  cat >"$n/kubelet.yaml" <<CFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $(pick_port kubelet)
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(pick_port kubelet-healthz)
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: "$BED/pki/ca.crt" }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
clusterDomain: cluster.local
clusterDNS: ["$NODE_IP"]
resolvConf: "$n/resolv.conf"
containerRuntimeEndpoint: "unix://$CTRD_SOCK"
imageServiceEndpoint: "unix://$CTRD_SOCK"
# there is no registry: never garbage-collect an image
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
serializeImagePulls: false
rotateCertificates: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
maxPods: 60
CFG
  cat >"$n/kube-proxy.yaml" <<CFG
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$BED/kubeconfig" }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$(pick_port kube-proxy-healthz)
metricsBindAddress: 127.0.0.1:$(pick_port kube-proxy-metrics)
nodePortAddresses: ["$NODE_IP/32"]
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
CFG
  cat >"$n/Corefile" <<CFG
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $BED/kubeconfig pvv-bed
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
.:53 {
    bind $NODE_IP
    errors
}
CFG
}

# the StorageClass: local disk, one PersistentVolume per claim, made by a small loop of ours
STORAGE_CLASS=local-path
storage_manifest() {
  cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: pvv.local/hostpath
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
}

# provisioner loop (runs as the "provisioner" service): every pending claim of our class gets a
# hostPath PersistentVolume under $BED/volumes; released volumes are deleted with their data.
provisioner_loop() {
  local k=("$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig")
  while :; do
    "${k[@]}" get pvc -A -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.uid}{" "}{.spec.storageClassName}{" "}{.spec.resources.requests.storage}{"\n"}{end}' 2>/dev/null |
      while read -r ns name uid sc size; do
        [[ "$sc" == "$STORAGE_CLASS" ]] || continue
        local pv="pvc-$uid" dir="$BED/volumes/pvc-$uid"
        mkdir -p "$dir"; chmod 0777 "$dir"
        "${k[@]}" apply -f - >/dev/null <<YAML && echo "provisioned $pv for $ns/$name ($size) at $dir"
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  annotations: { pv.kubernetes.io/provisioned-by: pvv.local/hostpath }
spec:
  capacity: { storage: $size }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: $STORAGE_CLASS
  claimRef: { namespace: $ns, name: $name, uid: $uid }
  hostPath: { path: $dir, type: DirectoryOrCreate }
YAML
      done
    "${k[@]}" get pv -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.storageClassName}{" "}{.status.phase}{"\n"}{end}' 2>/dev/null |
      while read -r pv sc phase; do
        # (the controller manager cannot delete hostPath volumes itself and marks them Failed)
        [[ "$sc" == "$STORAGE_CLASS" && ( "$phase" == Released || "$phase" == Failed ) ]] || continue
        "${k[@]}" delete pv "$pv" --wait=false >/dev/null 2>&1 && rm -rf "${BED:?}/volumes/$pv" && echo "deleted $pv"
      done
    sleep 2
  done
}

import_images() {
  local a have
  have="$(ctr_ images ls 2>/dev/null | awk '{print $1, $3}')"
  for a in $PVV_IMAGE_ARCHIVES; do
    local ref; ref="$(cat "$a.ref" 2>/dev/null || true)"   # "<ref> <digest>" (build-images.sh)
    if [[ -n "$ref" ]] && grep -qxF "$ref" <<<"$have"; then continue; fi
    log "importing image $(basename "$a")"
    ctr_ images import "$a" >/dev/null || die "could not import $a"
  done
}

start_node() {
  # shellcheck disable=SC1090
  source "$TOOLS_DIR/env.images.sh"
  [[ -x "${PVV_KUBELET_BIN:-}" && -x "${PVV_KUBE_PROXY_BIN:-}" && -x "${PVV_KUBE_SCHEDULER_BIN:-}" && -x "${PVV_COREDNS_BIN:-}" ]] ||
    die "node binaries missing; run scripts/tools/build.sh"
  write_node_configs
  spawn containerd containerd --config "$BED/node-conf/containerd.toml"
  wait_for containerd "containerd socket $CTRD_SOCK" ctr_ version
  import_images
  spawn kube-scheduler "$PVV_KUBE_SCHEDULER_BIN" --kubeconfig="$BED/kubeconfig" \
    --authentication-kubeconfig="$BED/kubeconfig" --authorization-kubeconfig="$BED/kubeconfig" \
    --bind-address=$HOST --secure-port="$(pick_port kube-scheduler)" --leader-elect=false --profiling=false --v=1
  spawn kube-proxy "$PVV_KUBE_PROXY_BIN" --config="$BED/node-conf/kube-proxy.yaml" --v=1
  spawn kubelet "$PVV_KUBELET_BIN" --config="$BED/node-conf/kubelet.yaml" --kubeconfig="$BED/kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$BED/kubelet" --cert-dir="$BED/kubelet-pki" --v=1
  spawn coredns "$PVV_COREDNS_BIN" -conf "$BED/node-conf/Corefile"
  wait_for kubelet "node $NODE_NAME Ready" node_ready
  "$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig" apply -f - >/dev/null < <(storage_manifest)
  BED="$BED" spawn provisioner bash "$REPO/scripts/bed.sh" _provisioner
  wait_for coredns "CoreDNS $NODE_IP:53" bash -c "exec 3<>/dev/tcp/$NODE_IP/53"
}

node_ready() {
  local n; n="$(kube_get "/api/v1/nodes/$NODE_NAME" | tr -d ' \n')"
  [[ "$n" == *'"type":"Ready","status":"True"'* ]]
}

stop_node() {
  # shellcheck disable=SC1090
  [[ -f "$TOOLS_DIR/env.images.sh" ]] && source "$TOOLS_DIR/env.images.sh"
  stop_svcs provisioner coredns kubelet kube-proxy kube-scheduler
  # every pod's containers and sandboxes, then containerd itself
  if running containerd; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    sleep 0.5
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop_svc containerd
  # shims whose containerd is gone
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD_SOCK" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  # mounts: pod volumes, container root filesystems, network namespaces made for the pods
  local m
  for m in $(awk -v b="$BED/" -v r="$RUN_DIR/" '$2 ~ "^"b || $2 ~ "^"r {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  for m in $(awk '$2 ~ "^/(var/)?run/netns/cni-" {print $2}' /proc/mounts); do umount -l "$m" 2>/dev/null || true; rm -f "$m"; done
  net_down
  # the kubelet's cgroups (cgroupfs driver): deepest first, only empty ones can go
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$RUN_DIR" "$BED/cni/ipam" "$BED/kubelet"
}

node_status() {
  local n=0
  n="$(ctr_ tasks ls -q 2>/dev/null | wc -l || echo 0)"
  echo "node: $NODE_NAME at $NODE_IP, $n container(s) running, pod range $POD_CIDR, Service range $SERVICE_CIDR"
}

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
  kcm_controllers=namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller
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
  if has_node || running containerd || running kubelet; then stop_node; fi
  rm -f "$BED/node"
  # (etcd last: the API server's shutdown still writes to it)
  stop_svcs vso kube-controller-manager kube-apiserver vault
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
  _provisioner) load_tools; provisioner_loop ;;
  _watchdog) BED="$2"; cmd_watchdog "$3" "$4" ;;
  _guard) cmd_guard "$2" "$3" ;;
  *) echo "usage: $0 start|stop|restart|status|env|clean" >&2; exit 2 ;;
esac

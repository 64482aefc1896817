# shellcheck shell=bash
# The local cluster's processes: spawning and stopping services, the bed's owner, its watchdog and guard.
# Sourced by scripts/bed.sh (its settings and log/die are defined there); defines functions only.

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

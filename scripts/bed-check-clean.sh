#!/usr/bin/env bash
# After `scripts/bed.sh stop`: fails if anything the bed started is left (processes, mounts, the
# bridge, iptables rules, containers' shims). Used by .ci/run; prints what it finds.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BED="${PVV_BED_DIR:-$REPO/.bed}"
left=0
report() { echo "[bed-check] left behind: $*" >&2; left=1; }
for p in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns containerd containerd-shim-runc-v2 vault-secrets-operator; do
  pids="$(pgrep -x "$p" 2>/dev/null | tr '\n' ' ')"
  [[ -n "$pids" ]] && report "process $p ($pids)"
done
pgrep -f "$BED" >/dev/null 2>&1 && report "processes using $BED: $(pgrep -af "$BED" | head -5)"
# anything with a file open (or its working directory) in the bed: its servers log to $BED/logs, and
# so do servers a suite spawned (a second Vault), whose command lines do not name the bed
held="$(find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 \( -lname "$BED" -o -lname "$BED/*" \) 2>/dev/null | cut -d/ -f3 | sort -u | grep -vx "$$" | tr '\n' ' ')"
[[ -n "$held" ]] && report "processes with files in $BED: $(for p in $held; do ps -o pid=,args= -p "$p" | cut -c1-100; done | tr '\n' ';')"
pgrep -f "$REPO/scripts/bed.sh _(watchdog|guard) " >/dev/null 2>&1 && report "bed.sh watchdog/guard: $(pgrep -af "$REPO/scripts/bed.sh _(watchdog|guard) " | head -5)"
grep -E " ($BED|/run/pvv-bed|/run/netns/cni-|/var/run/netns/cni-)" /proc/mounts >/dev/null && report "mounts: $(grep -cE " ($BED|/run/pvv-bed|/run/netns/cni-)" /proc/mounts)"
for dev in pvvbr0 pvvnode0; do ip link show "$dev" >/dev/null 2>&1 && report "network interface $dev"; done
ip -o link show type veth 2>/dev/null | grep -q . && report "veth interfaces: $(ip -o link show type veth | wc -l)"
for t in filter nat mangle; do
  n="$(iptables -t "$t" -S 2>/dev/null | grep -cE 'KUBE-|PVV-BED|CNI-')"
  [[ "$n" != 0 ]] && report "$n iptables rule(s)/chain(s) in table $t"
done
[[ -d /run/pvv-bed ]] && report "/run/pvv-bed"
# the bed's PostgreSQL (scripts/bed/postgres.sh): its server and its data directory
pgrep -f "/tmp/pvv-bed-pg\." >/dev/null 2>&1 && report "the bed's postgres: $(pgrep -af "/tmp/pvv-bed-pg\." | head -3)"
compgen -G "/tmp/pvv-bed-pg.*" >/dev/null && report "postgres data: $(echo /tmp/pvv-bed-pg.*)"
if [[ $left == 0 ]]; then echo "[bed-check] nothing left behind"; fi
exit $left

#!/usr/bin/env bash
# The Debian packages the bed's node needs (a real kubelet runs pods on them): the one list, used by
# `npm start` (scripts/sandbox.sh) and CI (.ci/run).
#
# Usage: scripts/node-packages.sh list      print the list
#        scripts/node-packages.sh ensure    install what is missing; exit 0 when all are installed,
#                                           3 (with the reason on stderr) when they are not and
#                                           cannot be installed here: the caller runs external mode
#
#   containerd, runc, containernetworking-plugins   the node's runtime and pod network
#   busybox-static                                  the shell of the Vault image the bed builds
#   iptables, conntrack, iproute2                   kube-proxy and the bed's node network
#
# Installing needs Linux, root and apt-get (Debian/Ubuntu). Test overrides: PVV_PKG_APT (apt-get),
# PVV_PKG_DPKG (dpkg).
set -euo pipefail

NODE_PKGS=(containerd runc containernetworking-plugins busybox-static iptables conntrack iproute2)
APT="${PVV_PKG_APT:-apt-get}"
DPKG="${PVV_PKG_DPKG:-dpkg}"
log() { echo "[packages] $*" >&2; }
cannot() { log "cannot install the node's packages: $*"; log "running external mode (Vault and VSO as local processes, no pods)"; exit 3; }

missing_pkgs() {
  local p
  for p in "${NODE_PKGS[@]}"; do "$DPKG" -s "$p" >/dev/null 2>&1 || echo "$p"; done
}

# apt's own progress, a line per package fetched, unpacked and set up; success is judged by dpkg after
apt_install() {
  "$APT" install -y --no-install-recommends -o Dpkg::Use-Pty=0 "$@" 2>&1 |
    sed -u -n 's/^\(Get:\|Unpacking\|Setting up\|E:\)/[packages]   \1/p' >&2 || true
}

cmd_ensure() {
  [[ "$(uname -s)" == Linux ]] || cannot "a node needs Linux (this is $(uname -s))"
  local missing
  if command -v "$DPKG" >/dev/null 2>&1; then
    mapfile -t missing < <(missing_pkgs)
    if (( ${#missing[@]} == 0 )); then log "node packages installed (${NODE_PKGS[*]})"; return 0; fi
  else
    missing=("${NODE_PKGS[@]}")
  fi
  [[ "$(id -u)" == 0 ]] || cannot "not root (uid $(id -u)); as root: apt-get install ${missing[*]}"
  command -v "$APT" >/dev/null 2>&1 || cannot "no apt-get here; install with your package manager: ${missing[*]}"
  log "installing ${#missing[@]} package(s) with apt-get: ${missing[*]} (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  apt_install "${missing[@]}"
  mapfile -t missing < <(missing_pkgs)
  if (( ${#missing[@]} )); then
    log "package lists may be stale: apt-get update"
    "$APT" update -q 2>&1 | sed -u 's/^/[packages]   /' >&2 || true
    apt_install "${missing[@]}"
    mapfile -t missing < <(missing_pkgs)
    (( ${#missing[@]} == 0 )) || cannot "apt-get install failed for ${missing[*]} (run it by hand to see why)"
  fi
  log "node packages installed"
}

case "${1:-}" in
  list) echo "${NODE_PKGS[*]}" ;;
  ensure) cmd_ensure ;;
  *) echo "usage: $0 list|ensure" >&2; exit 1 ;;
esac

#!/usr/bin/env bash
# Builds the container images of the local test cluster as OCI image archives, and its
# CoreDNS binary. There is no registry and no internet (only the Go module proxy and Debian
# packages), so every image is assembled here from locally built binaries and written with
# scripts/tools/images/oci-image.py; load one with `ctr -n k8s.io images import <archive>`.
#
#   registry.k8s.io/pause:$PAUSE_VERSION          scripts/tools/images/pause (tiny Go program)
#   docker.io/hashicorp/vault:$VAULT_VERSION      vault binary (build-servers.sh) + Debian's static
#                                                 busybox + images/vault/docker-entrypoint.sh
#   docker.io/hashicorp/vault-secrets-operator:$VSO_VERSION
#                                                 VSO binary and CRDs (build-servers.sh)
#   quay.io/brancz/kube-rbac-proxy:v$KUBE_RBAC_PROXY_VERSION
#                                                 built from github.com/brancz/kube-rbac-proxy; the
#                                                 VSO chart always runs it as a sidecar
#   coredns (binary, not an image)                github.com/coredns/coredns@$COREDNS_VERSION with
#                                                 a trimmed plugin set (images/coredns/main.go)
#
# Output: ${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}/
#   images-<key>/<name>.tar        <key> is a hash of the versions: a version bump starts a new dir
#   coredns-<version>/bin/coredns
#   kube-rbac-proxy-<version>/bin/kube-rbac-proxy
#   env.images.sh                  PVV_IMAGES_DIR, PVV_IMAGE_ARCHIVES, PVV_SANDBOX_IMAGE,
#                                  PVV_COREDNS_BIN, PVV_{VAULT,VSO,KUBE_RBAC_PROXY}_IMAGE; `source` it
# An archive is rebuilt only when its spec (layers, config), an input file's size/mtime or
# oci-image.py changed, so re-running is cheap. The vault and VSO images need the binaries of
# scripts/tools/build-servers.sh; this script stops with an error when they are missing.
#
# Usage: scripts/tools/build-images.sh [coredns|pause|kube-rbac-proxy|vault|vso ...]  (default: all)
#   PVV_FORCE=1                      rebuild even if cached
#   PVV_JOBS=N                       go build -p N (default: nproc)
#   PVV_KUBE_RBAC_PROXY=standin      use the pause binary as a do-nothing kube-rbac-proxy image
#                                    (saves its ~5 min build; the VSO metrics port then answers nothing)
#
# Needs: go, python3 (standard library only), busybox-static (/bin/busybox).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMG_SRC="$SCRIPT_DIR/images"
# shellcheck disable=SC1091
source <(sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d' "$SCRIPT_DIR/versions.env")

: "${VAULT_VERSION:?VAULT_VERSION missing from versions.env}"
: "${VSO_VERSION:?VSO_VERSION missing from versions.env}"
: "${COREDNS_VERSION:?COREDNS_VERSION missing from versions.env}"
: "${PAUSE_VERSION:?PAUSE_VERSION missing from versions.env}"
: "${KUBE_RBAC_PROXY_VERSION:?KUBE_RBAC_PROXY_VERSION missing from versions.env}"

TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
WORK_DIR="$TOOLS_DIR/.work"
LOG_DIR="$TOOLS_DIR/logs"
mkdir -p "$TOOLS_DIR" "$WORK_DIR" "$LOG_DIR"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
export GONOSUMDB="${GONOSUMDB:-}"
JOBS="${PVV_JOBS:-$(nproc)}"
RBAC_PROXY_MODE="${PVV_KUBE_RBAC_PROXY:-build}"
[[ "$RBAC_PROXY_MODE" == build || "$RBAC_PROXY_MODE" == standin ]] \
  || { echo "[images] ERROR: PVV_KUBE_RBAC_PROXY must be 'build' or 'standin'" >&2; exit 1; }

BUSYBOX=/bin/busybox
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# Image references, as the charts ask for them.
PAUSE_REF="registry.k8s.io/pause:$PAUSE_VERSION"
VAULT_REF="docker.io/hashicorp/vault:$VAULT_VERSION"
VSO_REF="docker.io/hashicorp/vault-secrets-operator:$VSO_VERSION"
RBAC_PROXY_REF="quay.io/brancz/kube-rbac-proxy:v$KUBE_RBAC_PROXY_VERSION"

# The images dir changes with any version (or the kube-rbac-proxy mode).
IMAGES_KEY="$(printf '%s\n' "pause=$PAUSE_VERSION" "vault=$VAULT_VERSION" "vso=$VSO_VERSION" \
  "kube-rbac-proxy=$KUBE_RBAC_PROXY_VERSION/$RBAC_PROXY_MODE" "coredns=$COREDNS_VERSION" | sha256sum | cut -c1-12)"
IMAGES_DIR="$TOOLS_DIR/images-$IMAGES_KEY"
mkdir -p "$IMAGES_DIR"

log() { echo "[images] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "go is not installed (need Go >= 1.25)"
command -v python3 >/dev/null || die "python3 is not installed"

# ------------------------------------------------- helpers (same as build-servers.sh)
# run_logged <logfile> <cmd...>: run with output to the log; tail it on failure.
run_logged() {
  local logf="$1"; shift
  echo "+ $*" >>"$logf"
  if ! "$@" >>"$logf" 2>&1; then
    log "command failed: $*"
    log "last 40 lines of $logf:"
    tail -n 40 "$logf" >&2
    return 1
  fi
}

# mod_dir <module@version>: download and print the module directory.
mod_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# go directive of a go.mod file
go_directive() { sed -n 's/^go \([0-9.]*\).*/\1/p' "$1" | head -n1; }

# copy_replaces <go.mod>: print its replace directives that do NOT point to a local path.
copy_replaces() {
  awk '
    /^replace[[:space:]]*\($/ { inblock=1; next }
    inblock && /^\)/          { inblock=0; next }
    inblock                   { line=$0 }
    !inblock && /^replace[[:space:]]/ { line=$0; sub(/^replace[[:space:]]+/, "", line) }
    line != "" {
      sub(/\/\/.*$/, "", line)
      split(line, parts, "=>")
      target=parts[2]; gsub(/^[[:space:]]+|[[:space:]]+$/, "", target)
      if (target !~ /^\.\.?\// && target != "") {
        gsub(/^[[:space:]]+|[[:space:]]+$/, "", line)
        print "replace " line
      }
      line=""
    }
  ' "$1"
}

# new_wrapper <name> <go-version>: fresh throwaway module dir, printed on stdout
new_wrapper() {
  local w="$WORK_DIR/$1"
  rm -rf "$w"; mkdir -p "$w"
  printf 'module pvv.local/wrapper/%s\n\ngo %s\n' "$1" "$2" >"$w/go.mod"
  echo "$w"
}

# finish <dest> <tmpbin>: atomically install the freshly built binaries
finish() {
  local dest="$1" tmp="$2"
  rm -rf "$dest/bin"; mkdir -p "$dest"; mv "$tmp" "$dest/bin"
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# stamp <file...>: one line identifying the contents of small source files
stamp() { cat "$@" | sha256sum | cut -c1-16; }

# fresh <dir> <stamp>: true if <dir>/.inputs records <stamp> (and PVV_FORCE is unset)
fresh() { [[ -z "${PVV_FORCE:-}" && -f "$1/.inputs" && "$(cat "$1/.inputs")" == "$2" ]]; }

# require_static <binary> <how to build it>: the images have no libc, so the binaries must be
# statically linked (CGO_ENABLED=0)
require_static() {
  [[ -x "$1" ]] || die "missing $1 — build it first: $2"
  is_static "$1" || die "$1 is dynamically linked; rebuild it with CGO_ENABLED=0 ($2)"
}

# is_static <binary>: false only if ldd (when installed) finds it dynamically linked
is_static() {
  command -v ldd >/dev/null || return 0
  [[ "$(ldd "$1" 2>&1 || true)" == *"not a dynamic executable"* ]]
}

# --------------------------------------------------------------------------- coredns
# A minimal CoreDNS: images/coredns/main.go links only the plugins the cluster DNS needs and
# sets their order (dnsserver.Directives), which must follow the module's plugin.cfg.
check_directive_order() {
  local main_go="$1" plugin_cfg="$2" ours canonical
  ours="$(sed -n '/^var directives = \[\]string{/,/^}/s/^[[:space:]]*"\([a-z0-9_]*\)",.*/\1/p' "$main_go")"
  [[ -n "$ours" ]] || die "no directives found in $main_go"
  # plugin.cfg lines are "<directive>:<package>"; keep ours, in the canonical order
  canonical="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$plugin_cfg" | cut -d: -f1 | grep -Fx -f <(echo "$ours"))"
  [[ "$ours" == "$canonical" ]] || die "directive order in $main_go differs from $plugin_cfg; expected: $(echo $canonical)"
}

build_coredns() {
  local v="$COREDNS_VERSION" dest="$TOOLS_DIR/coredns-$COREDNS_VERSION"
  local logf="$LOG_DIR/coredns-$v.log" mod=github.com/coredns/coredns
  local inputs; inputs="$(stamp "$IMG_SRC/coredns/main.go")"
  if [[ -x "$dest/bin/coredns" ]] && fresh "$dest" "$inputs"; then log "coredns $v cached"; return 0; fi
  log "building coredns $v (trimmed plugin set; first build takes ~1-2 min on 2 cores; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "$mod@v$v" 2>>"$logf")" || { tail -n 20 "$logf" >&2; die "cannot download $mod@v$v"; }
  check_directive_order "$IMG_SRC/coredns/main.go" "$src/plugin.cfg"
  local w; w="$(new_wrapper "coredns-$v" "$(go_directive "$src/go.mod")")"
  { echo "require $mod v$v"; copy_replaces "$src/go.mod"; } >>"$w/go.mod"
  cp "$IMG_SRC/coredns/main.go" "$w/main.go"
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath \
      -ldflags "-s -w -X $mod/coremain.GitCommit=v$v" -o "$tmp/coredns" .) \
    || die "coredns build failed (log: $logf)"
  # (captured first: with pipefail, grep -q closing the pipe early would fail the check)
  local plugins; plugins="$("$tmp/coredns" -plugins 2>&1)" || die "the built coredns does not run (log: $logf)"
  grep -Eq '^[[:space:]]*(dns\.)?kubernetes$' <<<"$plugins" || die "the built coredns lacks the kubernetes plugin"
  finish "$dest" "$tmp"
  echo "$inputs" >"$dest/.inputs"
  log "coredns $v built in $(elapsed "$t0")"
}

# --------------------------------------------------------------------------- pause
# images/pause: blocks until SIGINT/SIGTERM, reaps zombies, ignores its arguments.
build_pause_bin() {
  local dest="$IMAGES_DIR/pause" logf="$LOG_DIR/pause.log"
  local inputs; inputs="$(stamp "$IMG_SRC/pause/go.mod" "$IMG_SRC/pause/main.go")"
  if [[ -x "$dest/bin/pause" ]] && fresh "$dest" "$inputs"; then return 0; fi
  : >"$logf"
  local w="$WORK_DIR/pause"
  rm -rf "$w"; mkdir -p "$w"; cp "$IMG_SRC/pause/go.mod" "$IMG_SRC/pause/main.go" "$w/"
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -trimpath -ldflags "-s -w" -o "$tmp/pause" .) \
    || die "pause build failed (log: $logf)"
  finish "$dest" "$tmp"
  echo "$inputs" >"$dest/.inputs"
}

# --------------------------------------------------------------------------- kube-rbac-proxy
# The proxy does not list github.com/brancz/kube-rbac-proxy (`.../@v/list` and `@latest`
# answer 403 "not available"), but it serves the exact version: `.../@v/v0.18.1.info|.mod|.zip`
# -> 200 (checked 2026-11). So the real proxy is built; PVV_KUBE_RBAC_PROXY=standin skips it.
build_rbac_proxy() {
  local v="$KUBE_RBAC_PROXY_VERSION" dest="$TOOLS_DIR/kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION"
  local logf="$LOG_DIR/kube-rbac-proxy-$v.log" mod=github.com/brancz/kube-rbac-proxy
  if [[ -z "${PVV_FORCE:-}" && -x "$dest/bin/kube-rbac-proxy" ]]; then log "kube-rbac-proxy $v cached"; return 0; fi
  log "building kube-rbac-proxy $v (first build takes ~1-2 min on 2 cores; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "$mod@v$v" 2>>"$logf")" \
    || { tail -n 20 "$logf" >&2; die "cannot download $mod@v$v (or set PVV_KUBE_RBAC_PROXY=standin)"; }
  local w; w="$(new_wrapper "kube-rbac-proxy-$v" "$(go_directive "$src/go.mod")")"
  { echo "require $mod v$v"; copy_replaces "$src/go.mod"; } >>"$w/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/kube-rbac-proxy"\n' "$mod" >"$w/tools.go"
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$v -X k8s.io/component-base/version/verflag.programName=kube-rbac-proxy" \
      -o "$tmp/kube-rbac-proxy" "$mod/cmd/kube-rbac-proxy") \
    || die "kube-rbac-proxy build failed (log: $logf; or set PVV_KUBE_RBAC_PROXY=standin)"
  finish "$dest" "$tmp"
  log "kube-rbac-proxy $v built in $(elapsed "$t0")"
}

# --------------------------------------------------------------------------- image specs
# Specs are JSON for oci-image.py (format: see its docstring). Paths and texts written here
# contain no characters that need JSON escaping beyond \n.

# make_image <name> <ref> <spec-file> <host input file...>: write $IMAGES_DIR/<name>.tar from the
# spec unless the archive exists and the spec, the inputs' size/mtime and oci-image.py are
# unchanged since it was written.
make_image() {
  local name="$1" ref="$2" spec="$3"; shift 3
  local out="$IMAGES_DIR/$name.tar" t0; t0=$(date +%s)
  local inputs
  inputs="$({ cat "$spec" "$IMG_SRC/oci-image.py"; stat -L -c '%n %s %Y' "$@"; } | sha256sum | cut -c1-16)"
  if [[ -z "${PVV_FORCE:-}" && -f "$out" && -s "$out.ref" && "$(cat "$out.inputs" 2>/dev/null)" == "$inputs" ]]; then
    log "$ref cached ($out)"
    return 0
  fi
  rm -f "$out" "$out.inputs" "$out.ref"
  python3 "$IMG_SRC/oci-image.py" "$spec" "$out" >"$LOG_DIR/image-$name.log" 2>&1 \
    || { cat "$LOG_DIR/image-$name.log" >&2; die "writing $out failed"; }
  # "<ref> <manifest digest>": the bed imports an archive only when its runtime lacks exactly this
  tail -n 1 "$LOG_DIR/image-$name.log" | awk '{print $1, $2}' >"$out.ref"
  echo "$inputs" >"$out.inputs"
  log "$ref written in $(elapsed "$t0"): $out ($(du -h "$out" | cut -f1))"
}

# A distroless-like base layer (as gcr.io/distroless/static:nonroot, which the upstream VSO and
# kube-rbac-proxy images use): users root/nobody/nonroot, /tmp, /home/nonroot, CA bundle.
nonroot_base_layer() {
  cat <<EOF
    {
      "comment": "base: /etc/passwd, /etc/group, /tmp, /home/nonroot, CA certificates (distroless static:nonroot layout)",
      "entries": [
        {"path": "/etc/passwd", "text": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"},
        {"path": "/etc/group", "text": "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"},
        {"path": "/etc/ssl/certs/ca-certificates.crt", "src": "$CA_BUNDLE", "mode": "0644"},
        {"path": "/home/nonroot", "dir": true, "mode": "0700", "uid": 65532, "gid": 65532},
        {"path": "/root", "dir": true, "mode": "0700"},
        {"path": "/tmp", "dir": true, "mode": "1777"}
      ]
    }
EOF
}

NONROOT_ENV='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"'

image_pause() {
  build_pause_bin
  local spec="$IMAGES_DIR/pause.json" bin="$IMAGES_DIR/pause/bin/pause"
  cat >"$spec" <<EOF
{
  "ref": "$PAUSE_REF",
  "config": {
    "Entrypoint": ["/pause"],
    "User": "65535:65535",
    "WorkingDir": "/",
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "Labels": {"org.opencontainers.image.description": "pulumi-vault-vso local build of a pause container (scripts/tools/images/pause)"}
  },
  "layers": [
    {"comment": "pause binary", "entries": [{"path": "/pause", "src": "$bin", "mode": "0755"}]}
  ]
}
EOF
  make_image "pause-$PAUSE_VERSION" "$PAUSE_REF" "$spec" "$bin"
}

image_rbac_proxy() {
  local spec="$IMAGES_DIR/kube-rbac-proxy.json" bin entry layer_comment desc
  if [[ "$RBAC_PROXY_MODE" == standin ]]; then
    build_pause_bin
    bin="$IMAGES_DIR/pause/bin/pause" entry=/pause layer_comment="pause binary as a stand-in"
    desc="pulumi-vault-vso STAND-IN for kube-rbac-proxy: the pause program, which ignores its arguments and serves nothing (the VSO metrics endpoint behind it is unreachable)"
  else
    build_rbac_proxy
    bin="$TOOLS_DIR/kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION/bin/kube-rbac-proxy"
    entry=/usr/local/bin/kube-rbac-proxy layer_comment="kube-rbac-proxy binary"
    desc="pulumi-vault-vso local build of github.com/brancz/kube-rbac-proxy v$KUBE_RBAC_PROXY_VERSION"
  fi
  cat >"$spec" <<EOF
{
  "ref": "$RBAC_PROXY_REF",
  "config": {
    "Entrypoint": ["$entry"],
    "User": "65532:65532",
    "WorkingDir": "/",
    "Env": [$NONROOT_ENV],
    "ExposedPorts": {"8080/tcp": {}},
    "Labels": {"org.opencontainers.image.description": "$desc"}
  },
  "layers": [
$(nonroot_base_layer),
    {"comment": "$layer_comment", "entries": [{"path": "$entry", "src": "$bin", "mode": "0755"}]}
  ]
}
EOF
  make_image "kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION" "$RBAC_PROXY_REF" "$spec" "$bin" "$CA_BUNDLE"
}

image_vault() {
  local bin="$TOOLS_DIR/vault-$VAULT_VERSION/bin/vault"
  require_static "$bin" "scripts/tools/build-servers.sh vault"
  [[ -x "$BUSYBOX" ]] || die "missing $BUSYBOX (the vault image's shell): apt-get install busybox-static"
  is_static "$BUSYBOX" || die "$BUSYBOX is not the static busybox: apt-get install busybox-static"
  local spec="$IMAGES_DIR/vault.json" entrypoint="$IMG_SRC/vault/docker-entrypoint.sh"
  # one /bin/<applet> -> busybox symlink per applet (never over /bin/vault or busybox itself)
  local applets
  applets="$("$BUSYBOX" --list | LC_ALL=C sort -u | grep -vx -e busybox -e vault \
    | sed 's#.*#        {"path": "/bin/&", "symlink": "busybox"},#')"
  cat >"$spec" <<EOF
{
  "ref": "$VAULT_REF",
  "config": {
    "Entrypoint": ["docker-entrypoint.sh"],
    "Cmd": ["server", "-dev"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "WorkingDir": "/",
    "ExposedPorts": {"8200/tcp": {}},
    "Labels": {
      "org.opencontainers.image.description": "pulumi-vault-vso local build of Vault $VAULT_VERSION with Debian's static busybox",
      "version": "$VAULT_VERSION"
    }
  },
  "layers": [
    {
      "comment": "busybox-static and its applets in /bin",
      "entries": [
$applets
        {"path": "/bin/busybox", "src": "$BUSYBOX", "mode": "0755"},
        {"path": "/usr/bin/env", "symlink": "/bin/busybox"}
      ]
    },
    {
      "comment": "users, directories, CA certificates, docker-entrypoint.sh",
      "entries": [
        {"path": "/etc/passwd", "text": "root:x:0:0:root:/root:/bin/sh\nvault:x:100:1000::/home/vault:/bin/sh\n"},
        {"path": "/etc/group", "text": "root:x:0:\nvault:x:1000:\n"},
        {"path": "/etc/ssl/certs/ca-certificates.crt", "src": "$CA_BUNDLE", "mode": "0644"},
        {"path": "/root", "dir": true, "mode": "0700"},
        {"path": "/tmp", "dir": true, "mode": "1777"},
        {"path": "/home/vault", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/vault", "dir": true, "mode": "0755"},
        {"path": "/vault/config", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/vault/data", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/vault/file", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/vault/logs", "dir": true, "mode": "0775", "uid": 100, "gid": 1000},
        {"path": "/usr/local/bin/docker-entrypoint.sh", "src": "$entrypoint", "mode": "0755"}
      ]
    },
    {"comment": "vault $VAULT_VERSION", "entries": [{"path": "/bin/vault", "src": "$bin", "mode": "0755"}]}
  ]
}
EOF
  make_image "vault-$VAULT_VERSION" "$VAULT_REF" "$spec" "$bin" "$BUSYBOX" "$CA_BUNDLE" "$entrypoint"
}

# As VSO's Dockerfile: /vault-secrets-operator, /scripts/crds (chart/crds) and
# /scripts/upgrade-crds -> ../vault-secrets-operator (the chart's CRD upgrade hook runs it).
image_vso() {
  local dir="$TOOLS_DIR/vso-$VSO_VERSION" bin="$TOOLS_DIR/vso-$VSO_VERSION/bin/vault-secrets-operator"
  require_static "$bin" "scripts/tools/build-servers.sh vso"
  compgen -G "$dir/crds/*.yaml" >/dev/null || die "no CRDs in $dir/crds — rebuild: PVV_FORCE=1 scripts/tools/build-servers.sh vso"
  local spec="$IMAGES_DIR/vault-secrets-operator.json"
  cat >"$spec" <<EOF
{
  "ref": "$VSO_REF",
  "config": {
    "Entrypoint": ["/vault-secrets-operator"],
    "User": "65532:65532",
    "WorkingDir": "/",
    "Env": [$NONROOT_ENV],
    "Labels": {
      "org.opencontainers.image.description": "pulumi-vault-vso local build of the Vault Secrets Operator $VSO_VERSION",
      "version": "$VSO_VERSION"
    }
  },
  "layers": [
$(nonroot_base_layer),
    {
      "comment": "vault-secrets-operator $VSO_VERSION and its CRDs",
      "entries": [
        {"path": "/vault-secrets-operator", "src": "$bin", "mode": "0755"},
        {"path": "/scripts/crds", "tree": "$dir/crds"},
        {"path": "/scripts/upgrade-crds", "symlink": "../vault-secrets-operator"}
      ]
    }
  ]
}
EOF
  # shellcheck disable=SC2046
  make_image "vault-secrets-operator-$VSO_VERSION" "$VSO_REF" "$spec" "$bin" "$CA_BUNDLE" $(ls "$dir"/crds/*.yaml)
}

# --------------------------------------------------------------------------- env file
write_env() {
  local archives=(
    "$IMAGES_DIR/pause-$PAUSE_VERSION.tar"
    "$IMAGES_DIR/vault-$VAULT_VERSION.tar"
    "$IMAGES_DIR/vault-secrets-operator-$VSO_VERSION.tar"
    "$IMAGES_DIR/kube-rbac-proxy-$KUBE_RBAC_PROXY_VERSION.tar"
  )
  local coredns="$TOOLS_DIR/coredns-$COREDNS_VERSION/bin/coredns" a
  for a in "${archives[@]}" "$coredns"; do
    [[ -e "$a" ]] || { log "not writing env.images.sh: $a is missing (run without arguments)"; return 0; }
  done
  local f="$TOOLS_DIR/env.images.sh"
  cat >"$f.tmp" <<EOF
# generated by scripts/tools/build-images.sh — source this file
export PVV_IMAGES_DIR="$IMAGES_DIR"
export PVV_IMAGE_ARCHIVES="${archives[*]}"
export PVV_SANDBOX_IMAGE="$PAUSE_REF"
export PVV_VAULT_IMAGE="$VAULT_REF"
export PVV_VSO_IMAGE="$VSO_REF"
export PVV_KUBE_RBAC_PROXY_IMAGE="$RBAC_PROXY_REF"
export PVV_COREDNS_BIN="$coredns"
EOF
  mv "$f.tmp" "$f"
  log "done; source $f"
}

main() {
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(coredns pause kube-rbac-proxy vault vso)
  local t
  for t in "${targets[@]}"; do
    case "$t" in
      coredns) build_coredns ;;
      pause) image_pause ;;
      kube-rbac-proxy|rbac-proxy) image_rbac_proxy ;;
      vault) image_vault ;;
      vso) image_vso ;;
      *) die "unknown target '$t' (expected coredns, pause, kube-rbac-proxy, vault, vso)" ;;
    esac
  done
  write_env
}

main "$@"

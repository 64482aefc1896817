#!/usr/bin/env bash
# Builds the Pulumi YAML language host (pulumi-language-yaml, module
# github.com/pulumi/pulumi-yaml) from Go modules (Go module proxy only), caches
# it by version and puts it next to the pulumi CLI of env.pulumi.sh, so the CLI
# takes it as bundled (no "using pulumi-language-yaml from $PATH" warning).
#
# Usage:  scripts/tools/build-yaml.sh [all|build|env]
#         source "${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}/env.yaml.sh"
#
# Env:    PVV_TOOLS_DIR        cache root (default $HOME/.cache/pulumi-vault-vso/tools)
#         PULUMI_YAML_VERSION  pulumi-yaml release (default 1.25.0; the proxy serves
#                              v1.11.1 and v1.25.0 only: `go list -m -versions github.com/pulumi/pulumi-yaml`)
#
# `all` (default) builds if needed, then hard-links the binary into the folder of
# the pulumi CLI named by env.pulumi.sh (scripts/tools/build-pulumi.sh must have
# run) and writes env.yaml.sh. Idempotent: a cached binary is not rebuilt.
# Needs no Pulumi version: pulumi-yaml's own go.mod/go.sum pin its pulumi
# pkg/sdk (v1.25.0 -> v3.206.0, served by the proxy by exact version).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
set -a
# shellcheck disable=SC1091
source "$HERE/versions.env"
set +a

TOOLS_DIR=${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}
export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false -mod=mod"
export GOWORK=off
mkdir -p "$TOOLS_DIR"

log() { echo "[build-yaml] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PULUMI_YAML_VERSION=${PULUMI_YAML_VERSION:-1.25.0}
YAML_MOD=github.com/pulumi/pulumi-yaml
YAML_DIR="$TOOLS_DIR/pulumi-language-yaml-$PULUMI_YAML_VERSION"
PULUMI_ENV="$TOOLS_DIR/env.pulumi.sh"

# The folder that build-pulumi.sh links pulumi + pulumi-language-nodejs into: the
# first PATH entry of the env.pulumi.sh it wrote (see its write_env).
pulumi_bin_dir() {
  [[ -f "$PULUMI_ENV" ]] || die "missing $PULUMI_ENV (run: scripts/tools/build-pulumi.sh all)"
  local d
  d=$(sed -n 's/^export PATH="\(.*\):\$PATH"$/\1/p' "$PULUMI_ENV" | head -1)
  [[ -n "$d" && -x "$d/pulumi" ]] || die "no pulumi binary in the PATH entry of $PULUMI_ENV (run: scripts/tools/build-pulumi.sh all)"
  echo "$d"
}

# run_logged LOGFILE CMD...: run CMD with output to LOGFILE; on failure show the tail.
run_logged() {
  local logf=$1; shift
  echo "+ $*" >>"$logf"
  if ! "$@" >>"$logf" 2>&1; then
    log "command failed: $*"
    log "---- last 40 lines of $logf ----"
    tail -n 40 "$logf" >&2
    return 1
  fi
}

# module_field MODULE@VERSION FIELD: download a module, print a field of `go mod download -json`.
module_field() {
  local json
  json=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$1" 2>&1) || true
  if grep -q '"Error"' <<<"$json" || ! grep -q "\"$2\"" <<<"$json"; then
    log "go mod download $1 failed:"
    grep -E '"Error"|go:' <<<"$json" | head -5 >&2 || echo "$json" | head -5 >&2
    log "versions served: $(cd "$TOOLS_DIR" && go list -m -versions "${1%@*}" 2>&1 | cut -d' ' -f2-)"
    return 1
  fi
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$json" | head -1
}

have_bin() { [[ -x "$1" ]] && [[ -s "$1" ]]; }

# ------------------------------------------------------ YAML language host
# A throwaway module that requires pulumi-yaml@VERSION. Its go.mod and go.sum
# are copied from the release, so every dependency (pulumi pkg/sdk v3 included)
# is exactly the version the release was tested with.
build_yaml() {
  local bin="$YAML_DIR/bin/pulumi-language-yaml"
  if have_bin "$bin"; then log "pulumi-language-yaml $PULUMI_YAML_VERSION: cached ($bin)"; return 0; fi
  log "building pulumi-language-yaml v$PULUMI_YAML_VERSION (first build: under 1 min)"
  local t0=$SECONDS ver=v$PULUMI_YAML_VERSION
  local src="$YAML_DIR/src" logf="$YAML_DIR/build.log" pkg=$YAML_MOD/cmd/pulumi-language-yaml
  rm -rf "$src"; mkdir -p "$src" "$YAML_DIR/bin"; : >"$logf"
  local dir; dir=$(module_field "$YAML_MOD@$ver" Dir) || return 1
  # the release's own requirements, renamed, plus a requirement on the release itself
  sed "s#^module .*#module pvv.local/tools/pulumi-language-yaml#" "$dir/go.mod" >"$src/go.mod"
  printf '\nrequire %s %s\n' "$YAML_MOD" "$ver" >>"$src/go.mod"
  install -m 0644 "$dir/go.sum" "$src/go.sum"
  chmod u+w "$src/go.mod"
  # local replace directives (=> ./ or ../) cannot work outside the repo
  if grep -Eq '=>[[:space:]]*\.{1,2}/' "$src/go.mod"; then
    log "dropping local replace directives: $(grep -E '=>[[:space:]]*\.{1,2}/' "$src/go.mod" | tr '\n' ' ')"
    sed -i -E '/=>[[:space:]]*\.{1,2}\//d' "$src/go.mod"
  fi
  (cd "$src" && run_logged "$logf" go mod download "$YAML_MOD") || return 1
  (cd "$src" && run_logged "$logf" go get "$pkg@$ver") || return 1
  (cd "$src" && run_logged "$logf" go build -o "$bin.tmp" \
      -ldflags "-s -w -X $YAML_MOD/pkg/version.Version=$ver" "$pkg") || return 1
  mv "$bin.tmp" "$bin"
  log "pulumi-language-yaml built in $((SECONDS - t0))s"
}

# -------------------------------------------------------------------- env
# Hard-links the host next to the pulumi CLI of env.pulumi.sh and writes
# env.yaml.sh, which sources env.pulumi.sh (same PATH) and checks the link.
write_env() {
  local f="$TOOLS_DIR/env.yaml.sh" b="$YAML_DIR/bin/pulumi-language-yaml" PULUMI_BIN_DIR
  have_bin "$b" || die "missing $b (run: $0 build)"
  PULUMI_BIN_DIR=$(pulumi_bin_dir)
  cmp -s "$b" "$PULUMI_BIN_DIR/pulumi-language-yaml" \
    || ln -f "$b" "$PULUMI_BIN_DIR/" 2>/dev/null || cp -f "$b" "$PULUMI_BIN_DIR/"
  cat >"$f.tmp" <<EOF
# Generated by scripts/tools/build-yaml.sh; source it to use the built Pulumi tools with YAML programs.
# shellcheck disable=SC1091
source "$PULUMI_ENV"
export PVV_PULUMI_YAML_VERSION=$PULUMI_YAML_VERSION
# env.pulumi.sh was regenerated for another pulumi version: fall back to PATH (the CLI warns once per run)
command -v pulumi-language-yaml >/dev/null 2>&1 || export PATH="\$PATH:$YAML_DIR/bin"
EOF
  mv "$f.tmp" "$f"
  echo "PATH_ADD=$PULUMI_BIN_DIR"
  log "wrote $f (pulumi-language-yaml $PULUMI_YAML_VERSION linked into $PULUMI_BIN_DIR)"
}

main() {
  local what=${1:-all} t0=$SECONDS
  case "$what" in
    build) build_yaml ;;
    env) write_env; return 0 ;;
    all) build_yaml; write_env ;;
    *) die "unknown target $what (all|build|env)" ;;
  esac
  log "done in $((SECONDS - t0))s"
}

main "$@"; exit $?

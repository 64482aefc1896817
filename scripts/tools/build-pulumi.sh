#!/usr/bin/env bash
# Builds the Pulumi CLI, the Node.js language host and the vault/kubernetes
# resource provider plugins from Go modules (Go module proxy only), caches them
# by version and installs the provider plugins into $PULUMI_HOME.
#
# Usage:  scripts/tools/build-pulumi.sh [all|cli|nodejs|kubernetes|vault|build-kubernetes|build-vault|env]
#         source "${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}/env.pulumi.sh"
#
# Env:    PVV_TOOLS_DIR   cache root   (default $HOME/.cache/pulumi-vault-vso/tools)
#         PULUMI_HOME     plugin home  (default $HOME/.pulumi)
#         PVV_PULUMI_ALLOW_MISSING=vault,kubernetes
#                         providers whose build failure is a warning, not an error
#
# Idempotent: a tool whose binary is already in the cache is not rebuilt, a
# plugin already installed with the same bytes is not reinstalled.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
set -a
# shellcheck disable=SC1091
source "$HERE/versions.env"
set +a
# shellcheck disable=SC1091
source "$HERE/sdk-versions.sh"

TOOLS_DIR=${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}
export PULUMI_HOME=${PULUMI_HOME:-$HOME/.pulumi}
export PULUMI_SKIP_UPDATE_CHECK=true
export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false -mod=mod"
export GOWORK=off
mkdir -p "$TOOLS_DIR" "$PULUMI_HOME"

log() { echo "[build-pulumi] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PULUMI_VERSION=${PULUMI_VERSION:?versions.env must set PULUMI_VERSION}
# The Node.js language host module (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is
# not served by the proxy; the last release that carried it inside sdk/v3 is used.
PULUMI_NODEJS_HOST_SDK_VERSION=${PULUMI_NODEJS_HOST_SDK_VERSION:-3.68.0}
PULUMI_K8S_PROVIDER_MODULE_VERSION=${PULUMI_K8S_PROVIDER_MODULE_VERSION:-v$PULUMI_K8S_PROVIDER_VERSION}
PULUMI_VAULT_PROVIDER_MODULE_VERSION=${PULUMI_VAULT_PROVIDER_MODULE_VERSION:-v$PULUMI_VAULT_PROVIDER_VERSION}

CLI_DIR="$TOOLS_DIR/pulumi-$PULUMI_VERSION"
# the host gets our RunPlugin (scripts/tools/pulumi/nodejs/runplugin.go: runs Node.js policy packs) and
# lets the program reach the engine's monitor directly (resource hooks); both are part of the cache key
NODEJS_PATCH_HASH=$( (cat "$HERE"/pulumi/nodejs/*.go; sed -n '/^build_nodejs()/,/^}/p' "$HERE/build-pulumi.sh") | sha256sum | cut -c1-12)
NODEJS_DIR="$TOOLS_DIR/pulumi-language-nodejs-$PULUMI_NODEJS_HOST_SDK_VERSION-runplugin-$NODEJS_PATCH_HASH"
K8S_DIR="$TOOLS_DIR/pulumi-resource-kubernetes-$PULUMI_K8S_PROVIDER_VERSION-${PULUMI_K8S_PROVIDER_MODULE_VERSION//\//_}"
# the vault wrapper's own sources are part of its cache key
VAULT_SRC_HASH=$(cat "$HERE"/pulumi/vault/*.go "$HERE"/pulumi/vault/tokens.txt "$HERE"/pulumi/vault/build.sh 2>/dev/null | sha256sum | cut -c1-12)
VAULT_DIR="$TOOLS_DIR/pulumi-resource-vault-$PULUMI_VAULT_PROVIDER_VERSION-tf${PULUMI_VAULT_TF_MODULE_VERSION:-none}-bridge${PULUMI_TF_BRIDGE_MODULE_VERSION:-none}-$VAULT_SRC_HASH"

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

# module_json MODULE@VERSION FIELD: download a module, print a field of `go mod download -json`.
module_field() {
  local json
  json=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$1" 2>&1) || true
  if grep -q '"Error"' <<<"$json" || ! grep -q "\"$2\"" <<<"$json"; then
    log "go mod download $1 failed:"
    grep -E '"Error"|go:' <<<"$json" | head -5 >&2 || echo "$json" | head -5 >&2
    return 1
  fi
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$json" | head -1
}

# write_wrapper_gomod SRC WRAPPER_NAME MODULE VERSION UPSTREAM_GOMOD
# A throwaway module that requires MODULE@VERSION and copies its non-local
# replace directives (local ones like `=> ../sdk` cannot work outside its repo).
write_wrapper_gomod() {
  local src=$1 name=$2 mod=$3 ver=$4 upstream=$5 gover
  gover=$(awk '$1=="go"{print $2; exit}' "$upstream")
  {
    echo "module pvv.local/tools/$name"
    echo
    echo "go ${gover:-1.22}"
    echo
    echo "require $mod $ver"
    echo
    awk '
      /^replace[[:space:]]*\($/ {blk=1; next}
      blk && /^\)/ {blk=0; next}
      blk { line=$0; sub(/^[[:space:]]+/, "", line); if (line !~ /=>[[:space:]]*(\.|\/)/ && line ~ /=>/) print "replace " line; next }
      /^replace[[:space:]]/ { if ($0 !~ /=>[[:space:]]*(\.|\/)/) print; next }
    ' "$upstream"
  } >"$src/go.mod"
}

have_bin() { [[ -x "$1" ]] && [[ -s "$1" ]]; }

# ---------------------------------------------------------------- pulumi CLI
build_cli() {
  local bin="$CLI_DIR/bin/pulumi"
  if have_bin "$bin"; then log "pulumi $PULUMI_VERSION: cached ($bin)"; return 0; fi
  log "building pulumi CLI v$PULUMI_VERSION (first build: ~4 min on 2 cores)"
  local t0=$SECONDS mod=github.com/pulumi/pulumi/pkg/v3 ver=v$PULUMI_VERSION
  local src="$CLI_DIR/src" logf="$CLI_DIR/build.log"
  rm -rf "$src"; mkdir -p "$src" "$CLI_DIR/bin"; : >"$logf"
  local gomod; gomod=$(module_field "$mod@$ver" GoMod) || return 1
  write_wrapper_gomod "$src" pulumi "$mod" "$ver" "$gomod"
  (cd "$src" && run_logged "$logf" go get "$mod/cmd/pulumi@$ver" "github.com/pulumi/pulumi/sdk/v3@$ver") || return 1
  (cd "$src" && run_logged "$logf" go build -o "$bin.tmp" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" \
      "$mod/cmd/pulumi") || return 1
  mv "$bin.tmp" "$bin"
  log "pulumi $PULUMI_VERSION built in $((SECONDS - t0))s"
}

# ------------------------------------------------------ Node.js language host
build_nodejs() {
  local bin="$NODEJS_DIR/bin/pulumi-language-nodejs"
  if have_bin "$bin"; then log "pulumi-language-nodejs $PULUMI_NODEJS_HOST_SDK_VERSION: cached ($bin)"; return 0; fi
  log "building pulumi-language-nodejs from sdk/v3 v$PULUMI_NODEJS_HOST_SDK_VERSION (first build: under 1 min)"
  local t0=$SECONDS mod=github.com/pulumi/pulumi/sdk/v3 ver=v$PULUMI_NODEJS_HOST_SDK_VERSION
  local src="$NODEJS_DIR/src" logf="$NODEJS_DIR/build.log" pkg=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  rm -rf "$src"; mkdir -p "$src" "$NODEJS_DIR/bin"; : >"$logf"
  local gomod; gomod=$(module_field "$mod@$ver" GoMod) || return 1
  write_wrapper_gomod "$src" pulumi-language-nodejs "$mod" "$ver" "$gomod"
  (cd "$src" && run_logged "$logf" go get "$pkg@$ver") || return 1
  # the host's package copied into the wrapper, its RunPlugin stub ("not supported") replaced by ours
  local pkgdir; pkgdir=$(cd "$src" && go list -f '{{.Dir}}' "$pkg") || return 1
  mkdir -p "$src/host" && cp "$pkgdir"/*.go "$src/host/" && rm -f "$src/host/"*_test.go && chmod u+w "$src/host/"*.go
  perl -0pi -e 's/func \(host \*nodeLanguageHost\) RunPlugin\(\n.*?\n\}\n//s' "$src/host/main.go"
  if grep -q 'RunPlugin(' "$src/host/main.go"; then log "the host's RunPlugin stub was not found to replace (upstream changed?)"; return 1; fi
  # the program talks to the engine's monitor itself, as with later hosts (3.68's monitor proxy forwards
  # only the calls 3.68 knew: resource hooks got UNIMPLEMENTED), and gets the project root (--root-directory)
  perl -0pi -e 's/fmt\.Sprintf\("127\.0\.0\.1:%d", handle\.Port\), pipes\.directory\(\)\)/req.GetMonitorAddress(), pipes.directory())/; s/(\tmaybeAppendArg\("pwd", req\.GetPwd\(\)\)\n)/$1\tmaybeAppendArg("root-directory", req.GetPwd())\n/' "$src/host/main.go"
  if ! grep -q 'req.GetMonitorAddress(), pipes.directory())' "$src/host/main.go" || ! grep -q '"root-directory"' "$src/host/main.go"; then
    log "the host's monitor address or arguments were not found to patch (upstream changed?)"; return 1
  fi
  cp "$HERE/pulumi/nodejs/runplugin.go" "$src/host/"
  (cd "$src" && run_logged "$logf" go build -o "$bin.tmp" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver" ./host) || return 1
  mv "$bin.tmp" "$bin"
  log "pulumi-language-nodejs built in $((SECONDS - t0))s"
}

# ------------------------------------------------------ kubernetes provider
# Its main embeds schema-embed.json, made by `go generate` from the schema.json
# that the module does ship; so main.go + generate.go are copied into a wrapper.
build_kubernetes() {
  local bin="$K8S_DIR/bin/pulumi-resource-kubernetes"
  if have_bin "$bin"; then log "pulumi-resource-kubernetes $PULUMI_K8S_PROVIDER_VERSION: cached ($bin)"; return 0; fi
  log "building pulumi-resource-kubernetes $PULUMI_K8S_PROVIDER_VERSION from provider/v4@$PULUMI_K8S_PROVIDER_MODULE_VERSION (first build: ~7 min on 2 cores)"
  local t0=$SECONDS mod=github.com/pulumi/pulumi-kubernetes/provider/v4 ver=$PULUMI_K8S_PROVIDER_MODULE_VERSION
  local src="$K8S_DIR/src" logf="$K8S_DIR/build.log"
  rm -rf "$src"; mkdir -p "$src" "$K8S_DIR/bin"; : >"$logf"
  local gomod dir
  gomod=$(module_field "$mod@$ver" GoMod) || return 1
  dir=$(module_field "$mod@$ver" Dir) || return 1
  write_wrapper_gomod "$src" pulumi-resource-kubernetes "$mod" "$ver" "$gomod"
  # provider/v4 replaces sdk/v4 with ../sdk; take the sdk/v4 that versions.env pins instead.
  if [[ -n "${PULUMI_K8S_SDK_MODULE_VERSION:-}" ]]; then
    echo "require github.com/pulumi/pulumi-kubernetes/sdk/v4 $PULUMI_K8S_SDK_MODULE_VERSION" >>"$src/go.mod"
  fi
  local c="$dir/cmd/pulumi-resource-kubernetes"
  install -m 0644 "$c/main.go" "$c/generate.go" "$c/schema.json" "$c/terraform-mapping.json" "$src/"
  (cd "$src" && run_logged "$logf" go get "$mod/pkg/provider@$ver") || return 1
  (cd "$src" && VERSION="$PULUMI_K8S_PROVIDER_VERSION" run_logged "$logf" go run ./generate.go) || return 1
  rm -f "$src/schema.json" "$src/terraform-mapping.json"
  (cd "$src" && run_logged "$logf" go build -o "$bin.tmp" \
      -ldflags "-s -w -X $mod/pkg/version.Version=$PULUMI_K8S_PROVIDER_VERSION" .) || return 1
  mv "$bin.tmp" "$bin"
  log "pulumi-resource-kubernetes built in $((SECONDS - t0))s"
}

# ------------------------------------------------------------ vault provider
build_vault() {
  local bin="$VAULT_DIR/bin/pulumi-resource-vault"
  if have_bin "$bin"; then log "pulumi-resource-vault $PULUMI_VAULT_PROVIDER_VERSION: cached ($bin)"; return 0; fi
  if [[ -x "$HERE/pulumi/vault/build.sh" ]]; then
    log "building pulumi-resource-vault $PULUMI_VAULT_PROVIDER_VERSION (first build: ~4 min on 2 cores)"
    local t0=$SECONDS
    mkdir -p "$VAULT_DIR/bin"
    "$HERE/pulumi/vault/build.sh" "$VAULT_DIR" || return 1
    # drop builds of older wrapper sources for the same provider version
    local d
    for d in "$TOOLS_DIR/pulumi-resource-vault-$PULUMI_VAULT_PROVIDER_VERSION-"*; do
      [[ "$d" == "$VAULT_DIR" ]] || rm -rf "$d"
    done
    log "pulumi-resource-vault built in $((SECONDS - t0))s"
    return 0
  fi
  local mod=github.com/pulumi/pulumi-vault/provider/v7 ver=$PULUMI_VAULT_PROVIDER_MODULE_VERSION
  log "pulumi-resource-vault: checking $mod@$ver on the Go module proxy"
  module_field "$mod@$ver" GoMod >/dev/null || {
    log "pulumi-resource-vault: $mod@$ver is not served by the Go module proxy; cannot build"
    return 1
  }
  die "pulumi-resource-vault: $mod@$ver is served but no build recipe exists yet"
}

# ---------------------------------------------------------- plugin install
install_plugin() { # NAME VERSION BIN
  local name=$1 ver=$2 bin=$3
  local dest="$PULUMI_HOME/plugins/resource-$name-v$ver/pulumi-resource-$name"
  if [[ -f "$dest" ]] && cmp -s "$dest" "$bin"; then
    log "plugin resource $name $ver: already installed in $PULUMI_HOME"; return 0
  fi
  log "installing plugin resource $name $ver into $PULUMI_HOME"
  "$CLI_DIR/bin/pulumi" plugin install resource "$name" "$ver" --file "$bin" --reinstall >&2
}

# The language host goes into the same folder as the pulumi binary (hard links
# into a folder keyed by both versions): the CLI then takes it as bundled instead
# of warning "using pulumi-language-nodejs from $PATH" on every run.
BIN_DIR="$TOOLS_DIR/pulumi-$PULUMI_VERSION-nodejs-$PULUMI_NODEJS_HOST_SDK_VERSION/bin"
write_env() {
  local f="$TOOLS_DIR/env.pulumi.sh" b
  mkdir -p "$BIN_DIR"
  for b in "$CLI_DIR/bin/pulumi" "$NODEJS_DIR/bin/pulumi-language-nodejs"; do
    [[ -x "$b" ]] || die "missing $b"
    cmp -s "$b" "$BIN_DIR/${b##*/}" || ln -f "$b" "$BIN_DIR/" 2>/dev/null || cp -f "$b" "$BIN_DIR/"
  done
  # the launcher of Pulumi's Node.js dynamic providers (pulumi/sdk/nodejs/dist/pulumi-resource-pulumi-nodejs;
  # the package's VaultInit is one): runs the SDK's dynamic-provider host of the program's node_modules
  # (resolved from the plugin's working directory upwards, like the program's own imports)
  printf '#!/bin/sh\nexec node "$(node -p '"'"'require.resolve("@pulumi/pulumi/cmd/dynamic-provider")'"'"')" "$@"\n' >"$BIN_DIR/pulumi-resource-pulumi-nodejs.tmp"
  chmod 755 "$BIN_DIR/pulumi-resource-pulumi-nodejs.tmp" && mv "$BIN_DIR/pulumi-resource-pulumi-nodejs.tmp" "$BIN_DIR/pulumi-resource-pulumi-nodejs"
  cat >"$f.tmp" <<EOF
# Generated by scripts/tools/build-pulumi.sh; source it to use the built Pulumi tools.
export PATH="$BIN_DIR:\$PATH"
export PULUMI_HOME="\${PULUMI_HOME:-$PULUMI_HOME}"
export PULUMI_SKIP_UPDATE_CHECK=true
EOF
  mv "$f.tmp" "$f"
  echo "PATH_ADD=$BIN_DIR"
  log "wrote $f (PATH += $BIN_DIR)"
}

allowed_missing() { [[ ",${PVV_PULUMI_ALLOW_MISSING:-}," == *",$1,"* ]]; }

provider() { # NAME VERSION DIR BUILDFN
  local name=$1 ver=$2 dir=$3 fn=$4
  if "$fn"; then
    install_plugin "$name" "$ver" "$dir/bin/pulumi-resource-$name"
  elif allowed_missing "$name"; then
    log "WARNING: pulumi-resource-$name not built (allowed by PVV_PULUMI_ALLOW_MISSING)"
  else
    return 1
  fi
}

main() {
  local what=${1:-all} t0=$SECONDS
  case "$what" in
    cli) build_cli ;;
    nodejs) build_nodejs ;;
    kubernetes) build_cli; provider kubernetes "$PULUMI_K8S_PROVIDER_VERSION" "$K8S_DIR" build_kubernetes ;;
    vault) build_cli; provider vault "$PULUMI_VAULT_PROVIDER_VERSION" "$VAULT_DIR" build_vault ;;
    build-kubernetes) build_kubernetes ;;   # build only, no plugin install
    build-vault) build_vault ;;             # build only, no plugin install
    env) write_env; return 0 ;;
    all)
      build_cli
      build_nodejs
      write_env
      local rc=0
      provider kubernetes "$PULUMI_K8S_PROVIDER_VERSION" "$K8S_DIR" build_kubernetes || rc=1
      provider vault "$PULUMI_VAULT_PROVIDER_VERSION" "$VAULT_DIR" build_vault || rc=1
      log "done in $((SECONDS - t0))s"
      return $rc ;;
    *) die "unknown target $what (all|cli|nodejs|kubernetes|vault|build-kubernetes|build-vault|env)" ;;
  esac
  log "done in $((SECONDS - t0))s"
}

main "$@"; exit $?

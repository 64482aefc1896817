#!/usr/bin/env bash
# Builds pulumi-resource-vault into $1/bin from the Terraform Vault provider and the
# Pulumi Terraform bridge (both from the Go module proxy) plus main.go beside this file.
# Called by scripts/tools/build-pulumi.sh, which sources versions.env first.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: build.sh OUT_DIR}
: "${PULUMI_VAULT_PROVIDER_VERSION:?}" "${PULUMI_VAULT_TF_MODULE_VERSION:?}" "${PULUMI_TF_BRIDGE_MODULE_VERSION:?}"
TF_MOD=github.com/hashicorp/terraform-provider-vault
BRIDGE_MOD=github.com/pulumi/pulumi-terraform-bridge/v3
src="$OUT/src" logf="$OUT/build.log" bin="$OUT/bin/pulumi-resource-vault"
rm -rf "$src"; mkdir -p "$src" "$OUT/bin"; : >"$logf"
log() { echo "[build-pulumi] $*" >&2; }
fail() { log "vault build failed: $*"; log "---- last 40 lines of $logf ----"; tail -n 40 "$logf" >&2; exit 1; }
step() { echo "+ $*" >>"$logf"; "$@" >>"$logf" 2>&1 || fail "$*"; }

gomod_of() { (cd "$OUT" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }
nonlocal_replaces() {
  awk '
    /^replace[[:space:]]*\($/ {blk=1; next}
    blk && /^\)/ {blk=0; next}
    blk { l=$0; sub(/^[[:space:]]+/, "", l); if (l ~ /=>/ && l !~ /=>[[:space:]]*(\.|\/)/) print "replace " l; next }
    /^replace[[:space:]]/ { if ($0 !~ /=>[[:space:]]*(\.|\/)/) print; next }
  ' "$1"
}
echo "module pvv.local/tools/pulumi-resource-vault" >"$src/go.mod"
tf_gomod=$(gomod_of "$TF_MOD@$PULUMI_VAULT_TF_MODULE_VERSION") || fail "go mod download $TF_MOD@$PULUMI_VAULT_TF_MODULE_VERSION"
br_gomod=$(gomod_of "$BRIDGE_MOD@$PULUMI_TF_BRIDGE_MODULE_VERSION") || fail "go mod download $BRIDGE_MOD@$PULUMI_TF_BRIDGE_MODULE_VERSION"
{
  echo
  echo "go $(awk '$1=="go"{print $2; exit}' "$br_gomod")"
  echo
  echo "require $TF_MOD $PULUMI_VAULT_TF_MODULE_VERSION"
  echo "require $BRIDGE_MOD $PULUMI_TF_BRIDGE_MODULE_VERSION"
  echo
  # the bridge's replaces win (it needs its terraform-plugin-sdk fork)
  nonlocal_replaces "$br_gomod"
  nonlocal_replaces "$tf_gomod" | grep -v -F -f <(nonlocal_replaces "$br_gomod" | awk '{print $2}') || true
} >>"$src/go.mod"
install -m 0644 "$HERE"/*.go "$HERE/tokens.txt" "$src/"
(cd "$src" && step go mod tidy)
(cd "$src" && step go build -o "$bin.tmp" -ldflags "-s -w -X main.Version=$PULUMI_VAULT_PROVIDER_VERSION" .)
mv "$bin.tmp" "$bin"

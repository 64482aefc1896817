#!/usr/bin/env bash
# Builds the local test-bed servers from Go modules, using only the `go` client
# and the Go module proxy (no binary downloads, no GitHub):
#
#   vault           github.com/hashicorp/vault@$VAULT_VERSION        -> bin/vault
#   etcd            go.etcd.io/etcd/server/v3@$ETCD_VERSION          -> bin/etcd
#   kubernetes      k8s.io/kubernetes@$KUBERNETES_VERSION            -> bin/kube-apiserver,
#                                                                       bin/kube-controller-manager, bin/kubectl
#   vso             github.com/hashicorp/vault-secrets-operator@$VSO_VERSION
#                                                                    -> bin/vault-secrets-operator, crds/*.yaml
#
# Cache: ${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}/<name>-<version>/bin/<binary>
# A tool is skipped when its cached binaries exist, so re-running is cheap.
# Writes ${PVV_TOOLS_DIR}/env.servers.sh (PATH additions + VSO_CRDS_DIR); `source` it.
#
# Usage: scripts/tools/build-servers.sh [vault|etcd|kubernetes|vso ...]   (default: all)
#   PVV_FORCE=1   rebuild even if cached
#   PVV_JOBS=N    go build -p N (default: nproc)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC1091
source <(sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d' "$SCRIPT_DIR/versions.env")

: "${VAULT_VERSION:?VAULT_VERSION missing from versions.env}"
: "${ETCD_VERSION:?ETCD_VERSION missing from versions.env}"
: "${KUBERNETES_VERSION:?KUBERNETES_VERSION missing from versions.env}"
: "${VSO_VERSION:?VSO_VERSION missing from versions.env}"
: "${VAULT_HELM_VERSION:?VAULT_HELM_VERSION missing from versions.env}"

TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
WORK_DIR="$TOOLS_DIR/.work"
LOG_DIR="$TOOLS_DIR/logs"
mkdir -p "$TOOLS_DIR" "$WORK_DIR" "$LOG_DIR"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
export GONOSUMDB="${GONOSUMDB:-}"
JOBS="${PVV_JOBS:-$(nproc)}"

log() { echo "[build-servers] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "go is not installed (need Go >= 1.25)"

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

# have_all <dir> <bin...>: true if every binary exists and is executable.
have_all() {
  local d="$1"; shift
  local b
  for b in "$@"; do [[ -x "$d/bin/$b" ]] || return 1; done
}

# mod_dir <module@version>: download and print the module directory.
mod_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# go directive of a go.mod file
go_directive() { sed -n 's/^go \([0-9.]*\).*/\1/p' "$1" | head -n1; }

# copy_replaces <go.mod>: print its replace directives that do NOT point to a local path
# (local ones, "=> ./x" or "=> ../x", only make sense inside the upstream repository).
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

# write a tools.go importing the main packages so `go build -mod=mod` resolves them
write_tools_go() {
  local w="$1"; shift
  {
    echo '//go:build tools'
    echo
    echo 'package tools'
    echo
    echo 'import ('
    local p; for p in "$@"; do echo "	_ \"$p\""; done
    echo ')'
  } >"$w/tools.go"
}

# finish <dest> <tmpbin>: atomically install the freshly built binaries
finish() {
  local dest="$1" tmp="$2"
  rm -rf "$dest/bin"; mkdir -p "$dest"; mv "$tmp" "$dest/bin"
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# --------------------------------------------------------------------------- vault
# Vault's go.mod replaces github.com/hashicorp/vault/{api,sdk} with its in-tree copies, which
# are not part of the module zip. On the release/1.21.x branch the in-tree sdk differs from
# every published sdk tag (1.21.4 needs the 2-argument framework.Backend.ActivationFunc of
# sdk <= v0.20.0 and the (string, error) keysutil.LockManager.RestorePolicy of sdk >= v0.24.0),
# so a plain wrapper fails to compile against the sdk v0.21.0 it requires. We build from a
# copy of the module source with three call sites adapted to the published sdk v0.21.0.
# The adaptations only touch identity-deduplication activation and transit key restore.
patch_vault_src() {
  local src="$1" w="$2" dst="$2/vault-src" f
  grep -q 'ActivationFunc: iStore.activateDeduplication,' "$src/vault/identity_store.go" 2>/dev/null || return 0
  cp -r "$src" "$dst"; chmod -R u+w "$dst"
  f="$dst/vault/identity_store.go"
  sed -i 's/ActivationFunc: iStore.activateDeduplication,/ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },/' "$f"
  f="$dst/vault/logical_system_activation_flags.go"
  sed -i 's/b.idStoreBackend.ActivationFunc(ctx, nil)/b.idStoreBackend.ActivationFunc(ctx, nil, "")/' "$f"
  f="$dst/builtin/logical/transit/path_restore.go"
  sed -i 's/restoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)/restoredKeyName, err := keyName, b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)/' "$f"
  echo "replace github.com/hashicorp/vault => ./vault-src" >>"$w/go.mod"
}

build_vault() {
  local v="$VAULT_VERSION" dest="$TOOLS_DIR/vault-$VAULT_VERSION"
  local logf="$LOG_DIR/vault-$v.log"
  if [[ -z "${PVV_FORCE:-}" ]] && have_all "$dest" vault; then log "vault $v cached"; return 0; fi
  log "building vault $v (first build takes ~9 min on 2 cores; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "github.com/hashicorp/vault@v$v" 2>>"$logf")" || { tail -n 20 "$logf" >&2; die "cannot download github.com/hashicorp/vault@v$v"; }
  local w; w="$(new_wrapper "vault-$v" "$(go_directive "$src/go.mod")")"
  {
    echo "require github.com/hashicorp/vault v$v"
    copy_replaces "$src/go.mod"
  } >>"$w/go.mod"
  patch_vault_src "$src" "$w"
  write_tools_go "$w" github.com/hashicorp/vault
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath \
      -ldflags "-s -w" \
      -o "$tmp/vault" github.com/hashicorp/vault) || die "vault build failed (log: $logf)"
  finish "$dest" "$tmp"
  log "vault $v built in $(elapsed "$t0")"
}

# --------------------------------------------------------------------------- etcd
build_etcd() {
  local v="$ETCD_VERSION" dest="$TOOLS_DIR/etcd-$ETCD_VERSION"
  local logf="$LOG_DIR/etcd-$v.log"
  if [[ -z "${PVV_FORCE:-}" ]] && have_all "$dest" etcd; then log "etcd $v cached"; return 0; fi
  log "building etcd $v (first build takes under 1 min; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "go.etcd.io/etcd/server/v3@v$v" 2>>"$logf")" || { tail -n 20 "$logf" >&2; die "cannot download go.etcd.io/etcd/server/v3@v$v"; }
  local w; w="$(new_wrapper "etcd-$v" "$(go_directive "$src/go.mod")")"
  {
    echo "require ("
    echo "	go.etcd.io/etcd/server/v3 v$v"
    # the upstream go.mod points these at sibling directories; use the published modules
    echo "	go.etcd.io/etcd/api/v3 v$v"
    echo "	go.etcd.io/etcd/client/pkg/v3 v$v"
    echo "	go.etcd.io/etcd/client/v3 v$v"
    echo "	go.etcd.io/etcd/pkg/v3 v$v"
    echo ")"
    copy_replaces "$src/go.mod"
  } >>"$w/go.mod"
  write_tools_go "$w" go.etcd.io/etcd/server/v3
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath \
      -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3) || die "etcd build failed (log: $logf)"
  finish "$dest" "$tmp"
  log "etcd $v built in $(elapsed "$t0")"
}

# --------------------------------------------------------------------------- kubernetes
build_kubernetes() {
  local v="$KUBERNETES_VERSION" dest="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION"
  local logf="$LOG_DIR/kubernetes-$v.log"
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  if [[ -z "${PVV_FORCE:-}" ]] && have_all "$dest" "${bins[@]}"; then log "kubernetes $v cached"; return 0; fi
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl $v (first build takes ~5 min on 2 cores; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "k8s.io/kubernetes@v$v" 2>>"$logf")" || { tail -n 20 "$logf" >&2; die "cannot download k8s.io/kubernetes@v$v"; }
  local w; w="$(new_wrapper "kubernetes-$v" "$(go_directive "$src/go.mod")")"
  local staging_ver="v0.${v#*.}"   # 1.34.4 -> v0.34.4
  {
    echo "require k8s.io/kubernetes v$v"
    copy_replaces "$src/go.mod"
    # k8s.io/<x> => ./staging/src/k8s.io/<x>  becomes  k8s.io/<x> => k8s.io/<x> v0.<minor>.<patch>
    sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$src/go.mod" |
      while read -r m; do echo "replace $m => $m $staging_ver"; done
  } >>"$w/go.mod"
  write_tools_go "$w" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
  local minor="${v#*.}"; minor="${minor%%.*}"
  local ld="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=v$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath -ldflags "$ld" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
      k8s.io/kubernetes/cmd/kubectl) \
    || die "kubernetes build failed (log: $logf)"
  finish "$dest" "$tmp"
  log "kubernetes $v built in $(elapsed "$t0")"
}

# --------------------------------------------------------------------------- vso
build_vso() {
  local v="$VSO_VERSION" dest="$TOOLS_DIR/vso-$VSO_VERSION"
  local logf="$LOG_DIR/vso-$v.log"
  local mod=github.com/hashicorp/vault-secrets-operator
  if [[ -z "${PVV_FORCE:-}" ]] && have_all "$dest" vault-secrets-operator && [[ -d "$dest/crds" ]]; then log "vso $v cached"; return 0; fi
  log "building vault-secrets-operator $v (first build takes ~2 min; log: $logf)"
  local t0; t0=$(date +%s); : >"$logf"
  local src; src="$(mod_dir "$mod@v$v" 2>>"$logf")" || { tail -n 20 "$logf" >&2; die "cannot download $mod@v$v (the proxy may not serve this version; try another VSO_VERSION)"; }
  local w; w="$(new_wrapper "vso-$v" "$(go_directive "$src/go.mod")")"
  { echo "require $mod v$v"; copy_replaces "$src/go.mod"; } >>"$w/go.mod"
  write_tools_go "$w" "$mod"
  local tmp="$dest/bin.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$w" && CGO_ENABLED=0 run_logged "$logf" go build -p "$JOBS" -trimpath \
      -ldflags "-s -w -X $mod/internal/version.GitVersion=v$v -X $mod/internal/version.Major=${v%%.*} -X $mod/internal/version.Minor=$(cut -d. -f2 <<<"$v")" -o "$tmp/vault-secrets-operator" "$mod") \
    || die "vso build failed (log: $logf)"
  rm -rf "$dest/crds"; mkdir -p "$dest/crds"
  cp "$src"/chart/crds/*.yaml "$dest/crds/"; chmod 644 "$dest"/crds/*.yaml
  finish "$dest" "$tmp"
  log "vso $v built in $(elapsed "$t0")"
}

# the charts the in-cluster tests install: vault-helm is a module of its own, VSO's is in its module
chart_dirs() {
  local vh vso
  vh="$(mod_dir "github.com/hashicorp/vault-helm@v$VAULT_HELM_VERSION" 2>/dev/null)" || die "cannot download github.com/hashicorp/vault-helm@v$VAULT_HELM_VERSION"
  vso="$(mod_dir "github.com/hashicorp/vault-secrets-operator@v$VSO_VERSION" 2>/dev/null)" || die "cannot download the VSO module"
  [[ -f "$vh/Chart.yaml" && -f "$vso/chart/Chart.yaml" ]] || die "chart directories not found in $vh and $vso/chart"
  echo "export PVV_VAULT_CHART_DIR=\"$vh\""
  echo "export PVV_VSO_CHART_DIR=\"$vso/chart\""
}

write_env() {
  local f="$TOOLS_DIR/env.servers.sh" charts
  charts="$(chart_dirs)"
  cat >"$f.tmp" <<EOF
# generated by scripts/tools/build-servers.sh — source this file
export PATH="$TOOLS_DIR/vault-$VAULT_VERSION/bin:$TOOLS_DIR/etcd-$ETCD_VERSION/bin:$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin:$TOOLS_DIR/vso-$VSO_VERSION/bin:\$PATH"
export VSO_CRDS_DIR="$TOOLS_DIR/vso-$VSO_VERSION/crds"
export PVV_VAULT_BIN="$TOOLS_DIR/vault-$VAULT_VERSION/bin/vault"
export PVV_ETCD_BIN="$TOOLS_DIR/etcd-$ETCD_VERSION/bin/etcd"
export PVV_KUBE_APISERVER_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kube-apiserver"
export PVV_KUBE_CONTROLLER_MANAGER_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kube-controller-manager"
export PVV_KUBECTL_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kubectl"
export PVV_VSO_BIN="$TOOLS_DIR/vso-$VSO_VERSION/bin/vault-secrets-operator"
export PVV_KUBE_SCHEDULER_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kube-scheduler"
export PVV_KUBELET_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kubelet"
export PVV_KUBE_PROXY_BIN="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION/bin/kube-proxy"
$charts
EOF
  mv "$f.tmp" "$f"
}

main() {
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || targets=(etcd vault kubernetes vso)
  local t
  for t in "${targets[@]}"; do
    case "$t" in
      vault) build_vault ;;
      etcd) build_etcd ;;
      kubernetes|kube) build_kubernetes ;;
      vso) build_vso ;;
      *) die "unknown target '$t' (expected vault, etcd, kubernetes, vso)" ;;
    esac
  done
  write_env
  log "done; source $TOOLS_DIR/env.servers.sh"
}

main "$@"

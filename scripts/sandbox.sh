#!/usr/bin/env bash
# The README's first command (`npm start`): on a fresh clone, build or reuse the tools, start the local
# bed, run `pulumi up` of the homelab program with the article's CloudNativePG case, show what exists
# and how to look at it, run a drift check, and wait; Ctrl-C stops everything cleanly.
#   - With a node (Linux, root, containerd/runc/CNI installed): the real homelab. One `pulumi up`
#     installs Vault (dev) and VSO with their Helm charts into the bed's cluster, reaches Vault through
#     the API server, and VSO (a pod) writes the Secret and rolls my-app.
#   - Without: external-Vault mode. Vault and VSO run as local processes beside the API server.
#   --no-wait   stop right after the drift check (for scripts)
#   --keep      leave the bed running on exit
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
WAIT=1; KEEP=0
for a in "$@"; do
  case "$a" in
    --no-wait) WAIT=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: npm start -- [--no-wait] [--keep]" >&2; exit 1 ;;
  esac
done
TOOLS_DIR="${PVV_TOOLS_DIR:-$HOME/.cache/pulumi-vault-vso/tools}"
SANDBOX="$REPO/.sandbox"
STACK=local
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  trap '' PIPE INT TERM   # finish stopping even if the terminal or a pipe has gone away
  if [[ $KEEP == 0 ]]; then
    say "stopping the bed" 2>/dev/null || true
    bash "$REPO/scripts/bed.sh" stop || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "1/5 dependencies"
[[ -d node_modules/@pulumi/pulumi ]] || npm ci --no-audit --no-fund

say "2/5 tools (first run builds from Go modules: ~30-50 min on 2 cores; later runs reuse the cache)"
bash scripts/tools/build.sh

say "3/5 local bed"
MODE=external
if [[ "${PVV_BED_NODE:-auto}" != 0 ]] && PVV_BED_NODE="${PVV_BED_NODE:-auto}" PVV_BED_VSO=0 bash scripts/bed.sh start && [[ -f "$REPO/.bed/node" ]]; then
  MODE=incluster
else
  bash scripts/bed.sh stop >/dev/null 2>&1 || true
  PVV_BED_NODE=0 PVV_BED_VSO=1 bash scripts/bed.sh start
fi
# shellcheck disable=SC1090,SC1091
source "$TOOLS_DIR/env.pulumi.sh"; source "$TOOLS_DIR/env.servers.sh"; source "$REPO/.bed/env.sh"
mkdir -p "$SANDBOX/state"
export PULUMI_BACKEND_URL="file://$SANDBOX/state"
if [[ ! -f "$SANDBOX/passphrase" ]]; then (umask 077; head -c 24 /dev/urandom | base64 >"$SANDBOX/passphrase"); fi
export PULUMI_CONFIG_PASSPHRASE_FILE="$SANDBOX/passphrase"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# The bed starts empty each time, so the sandbox stack starts fresh too.
pulumi stack rm "$STACK" --yes --force >/dev/null 2>&1 || true
rm -f "Pulumi.$STACK.yaml"
pulumi stack init "$STACK" >/dev/null
cfg() { pulumi config set --stack "$STACK" "vault-vso-homelab:$1" "$2" >/dev/null; }
# demo values, stored encrypted in the stack config: never printed, never on a command line
secret_value() { printf '%s' "$2" | pulumi config set --stack "$STACK" --secret --path "vault-vso-homelab:values.rustfs-cloudnativepg.$1" >/dev/null; }
cfg kv '{"path":"kv","protect":true}'
cfg apps '[{"name":"rustfs-cloudnativepg","namespace":"cnpg","path":"rustfs/cloudnativepg","keys":["access_key","access_secret_key"],"refreshAfter":"10s","restartTargets":[{"kind":"Deployment","name":"my-app"}],"managed":true}]'
secret_value access_key "sandbox-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
secret_value access_secret_key "$(head -c 18 /dev/urandom | base64)"
K=("$PVV_KUBECTL_BIN")
if [[ $MODE == incluster ]]; then
  source "$TOOLS_DIR/env.images.sh"
  VAULT_TAG="$(sed -n 's/^VAULT_VERSION=\([^ #]*\).*/\1/p' scripts/tools/versions.env)"
  cfg vault "{\"install\":true,\"helm\":{\"mode\":\"dev\",\"chartPath\":\"$PVV_VAULT_CHART_DIR\",\"values\":{\"server\":{\"image\":{\"tag\":\"$VAULT_TAG\",\"pullPolicy\":\"Never\"}}}}}"
  cfg operator "{\"install\":true,\"helm\":{\"chartPath\":\"$PVV_VSO_CHART_DIR\",\"values\":{\"controller\":{\"manager\":{\"image\":{\"pullPolicy\":\"Never\"}},\"kubeRbacProxy\":{\"image\":{\"pullPolicy\":\"Never\"}}}}}}"
  cfg kubernetesAuth '{"path":"kubernetes"}'
  # the user's workload exists before Pulumi runs
  "${K[@]}" create namespace cnpg >/dev/null
  "${K[@]}" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: { name: my-app, namespace: cnpg }
spec:
  replicas: 1
  selector: { matchLabels: { app: my-app } }
  template:
    metadata: { labels: { app: my-app } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: app, image: "$PVV_SANDBOX_IMAGE", imagePullPolicy: Never, envFrom: [{ secretRef: { name: rustfs-cloudnativepg, optional: true } }] }]
YAML
  say "4/5 pulumi up (stack '$STACK', in the cluster: Vault and VSO installed with Helm, Vault reached through the API server)"
else
  cfg vault "{\"install\":false,\"address\":\"$VAULT_ADDR\",\"allowInsecureHttp\":true}"
  cfg operator "{\"install\":false,\"crdDir\":\"$VSO_CRDS_DIR\"}"
  cfg kubernetesAuth "{\"path\":\"kubernetes\",\"kubernetesHost\":\"$KUBE_API_SERVER\"}"
  cfg createNamespaces true
  say "4/5 pulumi up (stack '$STACK', external-Vault mode: Vault and VSO run as local processes; no node here)"
fi
pulumi up --stack "$STACK" --yes --skip-preview

say "what now exists"
pulumi stack output --stack "$STACK"
if [[ $MODE == external ]]; then
  # a Deployment for VSO to restart (pods never run without a node)
  "${K[@]}" apply -f - >/dev/null <<'YAML' || true
apiVersion: apps/v1
kind: Deployment
metadata: { name: my-app, namespace: cnpg }
spec:
  replicas: 1
  selector: { matchLabels: { app: my-app } }
  template:
    metadata: { labels: { app: my-app } }
    spec: { containers: [{ name: app, image: busybox, envFrom: [{ secretRef: { name: rustfs-cloudnativepg } }] }] }
YAML
fi
for _ in $(seq 1 90); do
  "$PVV_KUBECTL_BIN" -n cnpg get secret rustfs-cloudnativepg >/dev/null 2>&1 && break
  sleep 1
done
"$PVV_KUBECTL_BIN" get vaultconnections,vaultauths,vaultstaticsecrets -A 2>/dev/null || true
"$PVV_KUBECTL_BIN" -n cnpg get secret rustfs-cloudnativepg -o go-template='Secret cnpg/rustfs-cloudnativepg keys: {{range $k, $v := .data}}{{$k}} {{end}}{{"\n"}}' 2>/dev/null \
  || echo "(VSO has not written the Secret yet; see .bed/logs/vso.log or: kubectl -n vault-secrets-operator-system logs deploy/vault-secrets-operator-controller-manager)"
if [[ $MODE == incluster ]]; then "${K[@]}" get pods -A -o wide 2>/dev/null || true; fi

cat <<EOT

Look around (in another shell):
  source $TOOLS_DIR/env.pulumi.sh; source $TOOLS_DIR/env.servers.sh; source $REPO/.bed/env.sh
  export PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE
  \$PVV_KUBECTL_BIN get vaultstaticsecrets -A
  \$PVV_KUBECTL_BIN -n cnpg describe secret rustfs-cloudnativepg   # key names and sizes, not values
  \$PVV_KUBECTL_BIN get pods -A                                      # with a node: Vault, VSO and my-app run as pods
  npm run doctor -- --namespace cnpg
  npm run drift -- --stack $STACK
  tail -f $REPO/.bed/logs/vso.log                                  # external mode; in the cluster: kubectl logs
EOT

say "5/5 drift check"
set +e
# in the cluster, VAULT_ADDR (the bed's local Vault) is not the stack's Vault: the engine's refresh
# goes through the stack's own provider; the extra managed-version check is skipped
if [[ $MODE == incluster ]]; then unset VAULT_ADDR VAULT_TOKEN; fi
node -r ts-node/register/transpile-only cli/drift.ts --stack "$STACK"
code=$?
set -e
echo "(drift check exit code: $code — 0 clean, 2 drift)"

if [[ $WAIT == 1 ]]; then
  say "sandbox running; press Ctrl-C to stop"
  while true; do sleep 3600 & wait $!; done   # `wait` lets Ctrl-C through at once
fi

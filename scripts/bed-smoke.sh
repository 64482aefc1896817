#!/usr/bin/env bash
# End-to-end proof that the local bed works: Kubernetes TokenRequest + TokenReview through
# Vault's kubernetes auth method. Uses curl + jq against kube-apiserver and the vault CLI.
# Requires a running bed (scripts/bed.sh start). Exits non-zero on any failure.
#
# Usage: scripts/bed-smoke.sh            (PVV_BED_DIR as for bed.sh)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BED="${PVV_BED_DIR:-$REPO/.bed}"
[[ -f "$BED/env.sh" ]] || { echo "[smoke] no bed in $BED; run scripts/bed.sh start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$BED/env.sh"
command -v jq >/dev/null || { echo "[smoke] jq is required" >&2; exit 1; }
command -v vault >/dev/null || { echo "[smoke] vault binary not on PATH" >&2; exit 1; }

NS="smoke-$(date +%s)-$RANDOM"
REVIEWER=vault-reviewer
APP=smoke-app
MOUNT="kubernetes-smoke-$RANDOM"

step() { echo "[smoke] $*" >&2; }
fail() { echo "[smoke] FAIL: $*" >&2; exit 1; }

# tokens and request bodies reach curl and vault through file descriptors, never the command line
bearer() { printf 'Authorization: Bearer %s\n' "$1"; }

# kube <METHOD> <path> [json-body]: admin request; prints the response body, fails on HTTP >= 400
kube() {
  local method="$1" path="$2" body="${3:-}" out code
  out="$(mktemp)"
  code="$(printf '%s' "$body" | curl -sS -o "$out" -w '%{http_code}' --cacert "$KUBE_CA_FILE" \
    -H @<(bearer "$KUBE_ADMIN_TOKEN") -H 'Content-Type: application/json' \
    -X "$method" ${body:+--data-binary @-} "$KUBE_API_SERVER$path")" || { rm -f "$out"; fail "curl $method $path"; }
  if [[ "$code" -ge 400 ]]; then cat "$out" >&2; rm -f "$out"; fail "$method $path -> HTTP $code"; fi
  cat "$out"; rm -f "$out"
}

cleanup() {
  local rc=$?
  set +e
  vault auth disable "$MOUNT" >/dev/null 2>&1
  (kube DELETE "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/$NS-reviewer") >/dev/null 2>&1
  (kube DELETE "/api/v1/namespaces/$NS") >/dev/null 2>&1
  exit $rc
}
trap cleanup EXIT

step "namespace $NS, service accounts $REVIEWER and $APP"
kube POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$NS\"}}" >/dev/null
for sa in "$REVIEWER" "$APP"; do
  kube POST "/api/v1/namespaces/$NS/serviceaccounts" \
    "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"$sa\"}}" >/dev/null
done
kube POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings "$(jq -nc --arg n "$NS-reviewer" --arg ns "$NS" --arg sa "$REVIEWER" '{
  apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: {name: $n},
  roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator"},
  subjects: [{kind: "ServiceAccount", name: $sa, namespace: $ns}]}')" >/dev/null

step "TokenRequest for both service accounts"
token_for() {
  kube POST "/api/v1/namespaces/$NS/serviceaccounts/$1/token" \
    '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}}' | jq -er .status.token
}
REVIEWER_JWT="$(token_for "$REVIEWER")" || fail "TokenRequest for $REVIEWER"
APP_JWT="$(token_for "$APP")" || fail "TokenRequest for $APP"

step "TokenReview as the reviewer service account"
review="$(jq -nc --rawfile t <(printf '%s' "$APP_JWT") '{apiVersion:"authentication.k8s.io/v1",kind:"TokenReview",spec:{token:$t}}' |
  curl -fsS --cacert "$KUBE_CA_FILE" -H @<(bearer "$REVIEWER_JWT") -H 'Content-Type: application/json' \
  -X POST "$KUBE_API_SERVER/apis/authentication.k8s.io/v1/tokenreviews" --data-binary @-)" \
  || fail "TokenReview request"
[[ "$(jq -r .status.authenticated <<<"$review")" == true ]] || { echo "$review" >&2; fail "TokenReview not authenticated"; }
step "  -> $(jq -r .status.user.username <<<"$review")"

step "Vault kubernetes auth at $MOUNT, policy, role"
vault auth enable -path="$MOUNT" kubernetes >/dev/null
vault write "auth/$MOUNT/config" kubernetes_host="$KUBE_API_SERVER" kubernetes_ca_cert=@"$KUBE_CA_FILE" \
  token_reviewer_jwt=@<(printf '%s' "$REVIEWER_JWT") disable_local_ca_jwt=true >/dev/null
vault policy write smoke-read - >/dev/null <<'EOF'
path "secret/data/smoke/*" { capabilities = ["read"] }
EOF
vault write "auth/$MOUNT/role/smoke" bound_service_account_names="$APP" bound_service_account_namespaces="$NS" \
  token_policies=smoke-read audience=https://kubernetes.default.svc.cluster.local ttl=5m >/dev/null
vault kv put -mount=secret smoke/hello value=world >/dev/null

step "vault login with the $APP token"
login="$(vault write -format=json "auth/$MOUNT/login" role=smoke jwt=@<(printf '%s' "$APP_JWT"))" || fail "kubernetes auth login"
CLIENT_TOKEN="$(jq -er .auth.client_token <<<"$login")"
jq -e '.auth.policies | index("smoke-read")' <<<"$login" >/dev/null || fail "login did not grant smoke-read"
[[ "$(VAULT_TOKEN="$CLIENT_TOKEN" vault kv get -mount=secret -field=value smoke/hello)" == world ]] || fail "read with login token"
vault kv metadata delete -mount=secret smoke/hello >/dev/null
vault policy delete smoke-read >/dev/null

step "namespace deletion (namespace controller)"
kube DELETE "/api/v1/namespaces/$NS" >/dev/null
for _ in $(seq 1 60); do
  code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KUBE_CA_FILE" -H @<(bearer "$KUBE_ADMIN_TOKEN") "$KUBE_API_SERVER/api/v1/namespaces/$NS")"
  [[ "$code" == 404 ]] && break; sleep 0.5
done
[[ "$code" == 404 ]] || fail "namespace $NS was not finalized within 30s"

echo "[smoke] OK: TokenRequest, TokenReview, Vault kubernetes auth login, kv-v2 read, namespace deletion"

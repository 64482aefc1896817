# shellcheck shell=bash
# A second, node-less cluster for the multi-cluster suite (issue 22): its own kube-apiserver (its own
# etcd prefix in the bed's etcd, its own ServiceAccount signing key, so cluster A cannot verify its
# tokens), a controller manager (token Secrets, namespaces) and a VSO of its own, all on 127.0.0.1.
# The serving certificate, CA and admin client certificate are the bed's (one lab CA).
# Sourced by scripts/bed.sh; defines functions only. `bash scripts/bed.sh cluster-b` starts it (on a
# running bed); `bash scripts/bed.sh stop` stops it with the rest.
CLUSTER_B_SERVICES=(vso-b kube-controller-manager-b kube-apiserver-b)

cluster_b_running() {
  local s
  for s in "${CLUSTER_B_SERVICES[@]}"; do running "$s" || return 1; done
}

start_cluster_b() {
  core_running || die "the bed is not running: bash scripts/bed.sh start first"
  if cluster_b_running; then log "cluster B already running ($BED/kubeconfig-b)"; return 0; fi
  stop_cluster_b
  local pki="$BED/pki-b" eport kport ahost
  mkdir -p "$pki"; chmod 700 "$pki"
  if [[ ! -f "$pki/sa.key" ]]; then
    (umask 077; openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null; openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null)
  fi
  # (a prefix of its own at every start: a fresh, empty cluster B, as the bed's cluster is)
  eport="$(cat "$BED/ports/etcd")"; kport="$(pick_port kube-apiserver-b)"; ahost="$(apiserver_host)"
  mkdir -p "$BED/kube-apiserver-b-certs"
  spawn kube-apiserver-b "$PVV_KUBE_APISERVER_BIN" \
    --etcd-servers="http://$HOST:$eport" --etcd-prefix="/registry-b-$(date +%s%N)" \
    --bind-address="$ahost" --advertise-address="$ahost" --secure-port="$kport" \
    --cert-dir="$BED/kube-apiserver-b-certs" \
    --tls-cert-file="$BED/pki/apiserver.crt" --tls-private-key-file="$BED/pki/apiserver.key" \
    --client-ca-file="$BED/pki/ca.crt" --token-auth-file="$BED/pki/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --endpoint-reconciler-type=none \
    --profiling=false --enable-priority-and-fairness=false --v=1
  write_kubeconfig "$kport" "$BED/kubeconfig-b"
  wait_for kube-apiserver-b "https://$ahost:$kport/readyz" \
    curl -fsS --cacert "$BED/pki/ca.crt" -H "@$BED/admin-header" "https://$ahost:$kport/readyz"
  spawn kube-controller-manager-b "$PVV_KUBE_CONTROLLER_MANAGER_BIN" \
    --kubeconfig="$BED/kubeconfig-b" --authentication-skip-lookup=true \
    --bind-address=$HOST --secure-port=0 --leader-elect=false --use-service-account-credentials=false \
    --controllers="$KCM_NODELESS_CONTROLLERS" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$BED/pki/ca.crt" \
    --cluster-name=pvv-bed-b --profiling=false --v=1
  wait_for kube-controller-manager-b "default ServiceAccount in cluster B" \
    curl -fsS --cacert "$BED/pki/ca.crt" -H "@$BED/admin-header" "https://$ahost:$kport/api/v1/namespaces/default/serviceaccounts/default"
  start_vso vso-b "$BED/kubeconfig-b"
  echo "https://$ahost:$kport" >"$BED/kube-apiserver-b-url"
  log "cluster B running: KUBECONFIG=$BED/kubeconfig-b"
}

stop_cluster_b() {
  stop_svcs "${CLUSTER_B_SERVICES[@]}"
  rm -f "$BED/kube-apiserver-b-url"
}

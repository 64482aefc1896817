# shellcheck shell=bash
# The control plane's ports, credentials (CA, certificates, tokens), kubeconfig and env file, and readiness checks.
# Sourced by scripts/bed.sh (its settings and log/die are defined there); defines functions only.

# ----------------------------------------------------------------------------- ports
port_free() { ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pick_port() {  # pick_port <name> [span]: reuse the saved port if still free, else a random free one
  local name="$1" span="${2:-1}" f="$BED/ports/$1" p i ok
  mkdir -p "$BED/ports"
  if [[ -f "$f" ]]; then
    p="$(cat "$f")"; ok=1
    local elo; read -r elo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || elo=65536
    (( p + span <= elo )) || ok=0   # saved before ports moved out of the ephemeral range
    for ((i = 0; i < span; i++)); do port_free $((p + i)) || ok=0; done
    [[ $ok == 1 ]] && { echo "$p"; return; }
  fi
  # below the kernel's ephemeral range: a port there can be taken at any moment as the local end
  # of an outgoing connection, which a "nothing listens" check cannot see
  local lo=32768 base span_=11990
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  base=$(( lo > 22000 ? lo - 12000 : 10000 )); (( lo > 22000 )) || span_=$(( lo > 10200 ? lo - 10100 : 100 ))
  for _ in $(seq 1 200); do
    p=$((base + RANDOM % span_)); ok=1
    for ((i = 0; i < span; i++)); do port_free $((p + i)) || ok=0; done
    if [[ $ok == 1 ]] && ! grep -qx "$p" "$BED"/ports/* 2>/dev/null; then echo "$p" >"$f"; echo "$p"; return; fi
  done
  die "no free port found for $name"
}

# ----------------------------------------------------------------------------- credentials
gen_creds() {
  local pki="$BED/pki"
  mkdir -p "$pki"; chmod 700 "$pki"
  command -v openssl >/dev/null || die "openssl is required"
  (
    cd "$pki"; umask 077
    # certificates from before the node address was added are replaced
    if [[ -f apiserver.crt ]] && [[ "$(openssl x509 -in apiserver.crt -noout -text 2>/dev/null)" != *"IP Address:$NODE_IP"* ]]; then rm -f ca.crt; fi
    if [[ ! -f ca.crt ]]; then
      log "generating CA, serving cert, admin client cert, service-account key pair"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/CN=pvv-bed-ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
      cat >apiserver.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
      openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
      openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
      openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=pvv-admin" 2>/dev/null
      openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
      openssl genrsa -out sa.key 2048 2>/dev/null
      openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
      rm -f ./*.csr ./*.srl
      chmod 644 ca.crt
    fi
  )
  umask 077
  [[ -f "$BED/admin-token" ]] || openssl rand -hex 24 >"$BED/admin-token"
  [[ -f "$BED/vault-token" ]] || echo "hvs-bed-$(openssl rand -hex 16)" >"$BED/vault-token"
  chmod 600 "$BED/admin-token" "$BED/vault-token"
  printf '%s,pvv-admin,pvv-admin,"system:masters"\n' "$(cat "$BED/admin-token")" >"$BED/pki/tokens.csv"
  # curl reads the header from this file: a token never goes on a command line (ps shows those)
  printf 'Authorization: Bearer %s\n' "$(cat "$BED/admin-token")" >"$BED/admin-header"
  chmod 600 "$BED/pki/tokens.csv" "$BED/admin-header"
  umask 022
}

write_kubeconfig() {  # write_kubeconfig <port> [file]
  local port="$1" out="${2:-$BED/kubeconfig}" pki="$BED/pki" b64="base64 -w0"
  (umask 077; cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pvv-bed
  cluster:
    server: https://$(apiserver_host):$port
    certificate-authority-data: $($b64 <"$pki/ca.crt")
users:
- name: pvv-admin
  user:
    client-certificate-data: $($b64 <"$pki/admin.crt")
    client-key-data: $($b64 <"$pki/admin.key")
contexts:
- name: pvv-bed
  context:
    cluster: pvv-bed
    user: pvv-admin
    namespace: default
current-context: pvv-bed
EOF
  )
}

write_env() {
  local kport vport
  kport="$(cat "$BED/ports/kube-apiserver")"; vport="$(cat "$BED/ports/vault")"
  (umask 077; cat >"$BED/env.sh" <<EOF
export PVV_BED_DIR='$BED'
export KUBECONFIG='$BED/kubeconfig'
export KUBE_API_SERVER='https://$(apiserver_host):$kport'
export KUBE_CA_FILE='$BED/pki/ca.crt'
export KUBE_ADMIN_TOKEN='$(cat "$BED/admin-token")'
export VAULT_ADDR='http://$HOST:$vport'
export VAULT_TOKEN='$(cat "$BED/vault-token")'
# pulumi: a local file backend and a passphrase for the bed's test stacks
export PULUMI_BACKEND_URL='file://$BED/pulumi-state'
export PULUMI_CONFIG_PASSPHRASE_FILE='$BED/pulumi-passphrase'
export PULUMI_SKIP_UPDATE_CHECK=true
$(grep -E '^export (PATH|VSO_CRDS_DIR)=' "$TOOLS_DIR/env.servers.sh")
EOF
  )
  mkdir -p "$BED/pulumi-state"
  [[ -s "$BED/pulumi-passphrase" ]] || (umask 077; head -c 24 /dev/urandom | base64 >"$BED/pulumi-passphrase")
  echo "http://$HOST:$vport" >"$BED/vault-addr"
}

# ----------------------------------------------------------------------------- readiness
wait_for() {  # wait_for <svc> <description> <command...>
  local svc="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    if ! running "$svc"; then
      log "$svc exited; last lines of $BED/logs/$svc.log:"; tail -n 30 "$BED/logs/$svc.log" >&2
      die "$svc failed to start (see $BED/logs/$svc.log)"
    fi
    if (( $(date +%s) > deadline )); then
      log "$svc not ready after ${TIMEOUT}s; last lines of $BED/logs/$svc.log:"; tail -n 30 "$BED/logs/$svc.log" >&2
      die "timed out waiting for $what (see $BED/logs/$svc.log)"
    fi
    sleep 0.5
  done
  log "$svc ready ($what)"
}

kube_get() {  # kube_get <path>
  curl -fsS --cacert "$BED/pki/ca.crt" -H "@$BED/admin-header" \
    "https://$(apiserver_host):$(cat "$BED/ports/kube-apiserver")$1"
}

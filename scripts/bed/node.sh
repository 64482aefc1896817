# shellcheck shell=bash
# The node: its network (bridges, routes), containerd/kubelet/kube-proxy configs, the storage provisioner, image import, start/stop/status.
# Sourced by scripts/bed.sh (its settings and log/die are defined there); defines functions only.

# ----------------------------------------------------------------------------- node
# node_wanted: decide once per start whether this bed gets a node (see PVV_BED_NODE above)
node_wanted() {
  case "${PVV_BED_NODE:-auto}" in
    1|true) node_prereqs || die "PVV_BED_NODE=1 but $NODE_WHY"; return 0 ;;
    0|false) return 1 ;;
  esac
  if node_prereqs; then return 0; fi
  log "no node: $NODE_WHY (pods cannot run; external mode only)"
  return 1
}

NODE_WHY=""
node_prereqs() {
  [[ "$(uname -s)" == Linux ]] || { NODE_WHY="a node needs Linux"; return 1; }
  [[ "$(id -u)" == 0 ]] || { NODE_WHY="a node needs root (containerd, iptables, mounts)"; return 1; }
  local b
  for b in containerd runc ctr iptables ip; do
    command -v "$b" >/dev/null || { NODE_WHY="$b is not installed (apt-get install containerd runc containernetworking-plugins iptables iproute2)"; return 1; }
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
    { NODE_WHY="CNI plugins missing in /usr/lib/cni (apt-get install containernetworking-plugins)"; return 1; }
  [[ -f "$TOOLS_DIR/env.images.sh" ]] || { NODE_WHY="node images not built (scripts/tools/build-images.sh)"; return 1; }
}

has_node() { [[ -f "$BED/node" ]]; }
apiserver_host() { if has_node; then echo "$NODE_IP"; else echo "$HOST"; fi; }

ctr_() { ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }

# the bridge carries the node address (and, once CNI adds it, the pods' gateway)
net_up() {
  local dev addrs
  for dev in "$BRIDGE" "$NODE_DEV"; do ip link show "$dev" >/dev/null 2>&1 || ip link add "$dev" type bridge; done
  addrs="$(ip addr show dev "$NODE_DEV")"
  [[ "$addrs" == *" $NODE_IP/"* ]] || ip addr add "$NODE_IP/32" dev "$NODE_DEV"
  addrs="$(ip addr show dev "$BRIDGE")"
  [[ "$addrs" == *" $POD_GW/"* ]] || ip addr add "$POD_GW/24" dev "$BRIDGE"
  ip link set "$NODE_DEV" up; ip link set "$BRIDGE" up
  # forwarding is needed for pod -> Service -> pod; remember the old value for stop
  [[ -f "$BED/ip_forward.saved" ]] || cat /proc/sys/net/ipv4/ip_forward >"$BED/ip_forward.saved"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  [[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ]] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  # pod traffic stays on this machine: before any NAT (mangle PREROUTING), anything from the pod
  # range that is not for the pod range, the Service range or the node address is dropped
  iptables -t mangle -N PVV-BED 2>/dev/null || iptables -t mangle -F PVV-BED
  iptables -t mangle -A PVV-BED -d "$POD_CIDR" -j RETURN
  iptables -t mangle -A PVV-BED -d "$SERVICE_CIDR" -j RETURN
  iptables -t mangle -A PVV-BED -d "$NODE_IP/32" -j RETURN
  iptables -t mangle -A PVV-BED -d 255.255.255.255/32 -j RETURN
  iptables -t mangle -A PVV-BED -j DROP
  iptables -t mangle -C PREROUTING -s "$POD_CIDR" -j PVV-BED 2>/dev/null || iptables -t mangle -I PREROUTING 1 -s "$POD_CIDR" -j PVV-BED
}

net_down() {
  iptables -t mangle -D PREROUTING -s "$POD_CIDR" -j PVV-BED 2>/dev/null || true
  iptables -t mangle -F PVV-BED 2>/dev/null || true
  iptables -t mangle -X PVV-BED 2>/dev/null || true
  # kube-proxy's chains (KUBE-*) in filter and nat
  if [[ -n "${PVV_KUBE_PROXY_BIN:-}" && -x "${PVV_KUBE_PROXY_BIN:-}" ]]; then
    "$PVV_KUBE_PROXY_BIN" --cleanup --v=0 >/dev/null 2>&1 || true
  fi
  local t c
  for t in filter nat mangle; do
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$t" -S 2>/dev/null | grep -E -- "-j $c( |$)" | grep -v "^-A $c " | sed 's/^-A/-D/' |
        while read -r rule; do eval "iptables -t $t $rule" 2>/dev/null || true; done || true
    done
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do iptables -t "$t" -F "$c" 2>/dev/null || true; done
    for c in $(iptables -t "$t" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do iptables -t "$t" -X "$c" 2>/dev/null || true; done
  done
  # pods' network namespaces and veths go with their sandboxes; the bridge goes last
  local l
  for l in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$l" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$NODE_DEV" 2>/dev/null || true
  if [[ -f "$BED/ip_forward.saved" ]]; then cat "$BED/ip_forward.saved" >/proc/sys/net/ipv4/ip_forward; rm -f "$BED/ip_forward.saved"; fi
}

write_node_configs() {
  local n="$BED/node-conf"
  mkdir -p "$n" "$BED/cni/net.d" "$BED/volumes" "$RUN_DIR"
  cat >"$n/containerd.toml" <<CFG
version = 2
root = "$BED/containerd"
state = "$RUN_DIR/containerd"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PVV_SANDBOX_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$BED/cni/net.d"
CFG
  cat >"$BED/cni/net.d/10-pvv-bed.conflist" <<CFG
{
  "cniVersion": "0.4.0",
  "name": "pvv-bed",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GW" }]],
                "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$BED/cni/ipam" }
    }
  ]
}
CFG
  echo "nameserver $NODE_IP" >"$n/resolv.conf"
  cat >"$n/kubelet.yaml" <<CFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $(pick_port kubelet)
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(pick_port kubelet-healthz)
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: "$BED/pki/ca.crt" }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
clusterDomain: cluster.local
clusterDNS: ["$NODE_IP"]
resolvConf: "$n/resolv.conf"
containerRuntimeEndpoint: "unix://$CTRD_SOCK"
imageServiceEndpoint: "unix://$CTRD_SOCK"
# there is no registry: never garbage-collect an image
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
serializeImagePulls: false
rotateCertificates: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
maxPods: 60
CFG
  cat >"$n/kube-proxy.yaml" <<CFG
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$BED/kubeconfig" }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$(pick_port kube-proxy-healthz)
metricsBindAddress: 127.0.0.1:$(pick_port kube-proxy-metrics)
nodePortAddresses: ["$NODE_IP/32"]
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
CFG
  cat >"$n/Corefile" <<CFG
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $BED/kubeconfig pvv-bed
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
.:53 {
    bind $NODE_IP
    errors
}
CFG
}

# the StorageClass: local disk, one PersistentVolume per claim, made by a small loop of ours
STORAGE_CLASS=local-path
storage_manifest() {
  cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: pvv.local/hostpath
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
}

# provisioner loop (runs as the "provisioner" service): every pending claim of our class gets a
# hostPath PersistentVolume under $BED/volumes; released volumes are deleted with their data.
provisioner_loop() {
  local k=("$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig")
  while :; do
    "${k[@]}" get pvc -A -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.uid}{" "}{.spec.storageClassName}{" "}{.spec.resources.requests.storage}{"\n"}{end}' 2>/dev/null |
      while read -r ns name uid sc size; do
        [[ "$sc" == "$STORAGE_CLASS" ]] || continue
        local pv="pvc-$uid" dir="$BED/volumes/pvc-$uid"
        mkdir -p "$dir"; chmod 0777 "$dir"
        "${k[@]}" apply -f - >/dev/null <<YAML && echo "provisioned $pv for $ns/$name ($size) at $dir"
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  annotations: { pv.kubernetes.io/provisioned-by: pvv.local/hostpath }
spec:
  capacity: { storage: $size }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: $STORAGE_CLASS
  claimRef: { namespace: $ns, name: $name, uid: $uid }
  hostPath: { path: $dir, type: DirectoryOrCreate }
YAML
      done
    "${k[@]}" get pv -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.storageClassName}{" "}{.status.phase}{"\n"}{end}' 2>/dev/null |
      while read -r pv sc phase; do
        # (the controller manager cannot delete hostPath volumes itself and marks them Failed)
        [[ "$sc" == "$STORAGE_CLASS" && ( "$phase" == Released || "$phase" == Failed ) ]] || continue
        "${k[@]}" delete pv "$pv" --wait=false >/dev/null 2>&1 && rm -rf "${BED:?}/volumes/$pv" && echo "deleted $pv"
      done
    sleep 2
  done
}

import_images() {
  local a have
  have="$(ctr_ images ls 2>/dev/null | awk '{print $1, $3}')"
  for a in $PVV_IMAGE_ARCHIVES; do
    local ref; ref="$(cat "$a.ref" 2>/dev/null || true)"   # "<ref> <digest>" (build-images.sh)
    if [[ -n "$ref" ]] && grep -qxF "$ref" <<<"$have"; then continue; fi
    log "importing image $(basename "$a")"
    ctr_ images import "$a" >/dev/null || die "could not import $a"
  done
}

start_node() {
  # shellcheck disable=SC1090
  source "$TOOLS_DIR/env.images.sh"
  [[ -x "${PVV_KUBELET_BIN:-}" && -x "${PVV_KUBE_PROXY_BIN:-}" && -x "${PVV_KUBE_SCHEDULER_BIN:-}" && -x "${PVV_COREDNS_BIN:-}" ]] ||
    die "node binaries missing; run scripts/tools/build.sh"
  write_node_configs
  spawn containerd containerd --config "$BED/node-conf/containerd.toml"
  wait_for containerd "containerd socket $CTRD_SOCK" ctr_ version
  import_images
  spawn kube-scheduler "$PVV_KUBE_SCHEDULER_BIN" --kubeconfig="$BED/kubeconfig" \
    --authentication-kubeconfig="$BED/kubeconfig" --authorization-kubeconfig="$BED/kubeconfig" \
    --bind-address=$HOST --secure-port="$(pick_port kube-scheduler)" --leader-elect=false --profiling=false --v=1
  spawn kube-proxy "$PVV_KUBE_PROXY_BIN" --config="$BED/node-conf/kube-proxy.yaml" --v=1
  spawn kubelet "$PVV_KUBELET_BIN" --config="$BED/node-conf/kubelet.yaml" --kubeconfig="$BED/kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$BED/kubelet" --cert-dir="$BED/kubelet-pki" --v=1
  spawn coredns "$PVV_COREDNS_BIN" -conf "$BED/node-conf/Corefile"
  wait_for kubelet "node $NODE_NAME Ready" node_ready
  "$PVV_KUBECTL_BIN" --kubeconfig "$BED/kubeconfig" apply -f - >/dev/null < <(storage_manifest)
  BED="$BED" spawn provisioner bash "$REPO/scripts/bed.sh" _provisioner
  wait_for coredns "CoreDNS $NODE_IP:53" bash -c "exec 3<>/dev/tcp/$NODE_IP/53"
}

node_ready() {
  local n; n="$(kube_get "/api/v1/nodes/$NODE_NAME" | tr -d ' \n')"
  [[ "$n" == *'"type":"Ready","status":"True"'* ]]
}

stop_node() {
  # shellcheck disable=SC1090
  [[ -f "$TOOLS_DIR/env.images.sh" ]] && source "$TOOLS_DIR/env.images.sh"
  stop_svcs provisioner coredns kubelet kube-proxy kube-scheduler
  # every pod's containers and sandboxes, then containerd itself
  if running containerd; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    sleep 0.5
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop_svc containerd
  # shims whose containerd is gone
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD_SOCK" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  # mounts: pod volumes, container root filesystems, network namespaces made for the pods
  local m
  for m in $(awk -v b="$BED/" -v r="$RUN_DIR/" '$2 ~ "^"b || $2 ~ "^"r {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  for m in $(awk '$2 ~ "^/(var/)?run/netns/cni-" {print $2}' /proc/mounts); do umount -l "$m" 2>/dev/null || true; rm -f "$m"; done
  net_down
  # the kubelet's cgroups (cgroupfs driver): deepest first, only empty ones can go
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$RUN_DIR" "$BED/cni/ipam" "$BED/kubelet"
}

node_status() {
  local n=0
  n="$(ctr_ tasks ls -q 2>/dev/null | wc -l || echo 0)"
  echo "node: $NODE_NAME at $NODE_IP, $n container(s) running, pod range $POD_CIDR, Service range $SERVICE_CIDR"
}

#!/usr/bin/env bash
# A real single-node Kubernetes for the kubernetes backend's tests, on this
# machine only: etcd, kube-apiserver, controller-manager, scheduler and a
# kubelet over Debian's containerd. No registry, no kube-proxy, no DNS:
# Jobs run images imported into containerd (load-image) and exit.
#
#   cluster.sh build             build/fetch the binaries once, into $MLRUN_K8S_CACHE
#   cluster.sh up                start a fresh cluster in $MLRUN_K8S_DIR (builds first if needed)
#   cluster.sh load-image TAG..  copy images from the Docker daemon into the cluster
#   cluster.sh down              stop it and undo what the kubelet changed on the host
#
# Needs root, containerd and runc (Debian's containerd), iptables, openssl,
# curl, iproute2, python3 and Go. Tests find the cluster through
# MLRUN_TEST_K8S_DIR (the state folder: admin.kubeconfig, containerd.sock).
# The node's address is on an interface (a bridge with no ports) the script adds and removes;
# nothing leaves the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
V=v1.34.4
: "${MLRUN_K8S_CACHE:=$HOME/.cache/mlrun-tools/k8s-$V}"
: "${MLRUN_K8S_DIR:=/tmp/mlrun-k8s}"
D=$MLRUN_K8S_DIR
B=$MLRUN_K8S_CACHE/bin
R=$MLRUN_K8S_CACHE/root
NODEIP=10.254.254.1 # on the portless bridge mlrunk8s0 (this kernel may have no dummy links)
IFACE=mlrunk8s0
BRIDGE=mlrunk8sbr0

log() { printf '[k8s %s] %s\n' "$(date +%T)" "$*" >&2; }

build() {
  mkdir -p "$B" "$R"
  if [ ! -x "$B/kubelet" ] || [ ! -x "$B/kube-apiserver" ] || [ ! -x "$B/kube-controller-manager" ] || [ ! -x "$B/kube-scheduler" ]; then
    log "building Kubernetes $V from the Go module proxy into $B (about 8 minutes on 2 cores, once)"
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$V -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean"
    (cd "$here/wrap" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -p 2 -trimpath -ldflags "$ld" -o "$B/" \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  fi
  if [ ! -x "$B/pause" ]; then
    (cd "$here/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$B/pause" .)
  fi
  if [ ! -x "$R/usr/bin/etcd" ] || [ ! -x "$R/usr/lib/cni/bridge" ]; then
    log "fetching etcd and the CNI plugins (Debian packages, unpacked into $R)"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download etcd-server containernetworking-plugins >/dev/null 2>&1) || {
      apt-get update -qq && (cd "$tmp" && apt-get download etcd-server containernetworking-plugins >/dev/null); }
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$R"; done
    rm -rf "$tmp"
  fi
}

api() { # METHOD PATH [curl args]: the API server as cluster admin
  local m=$1 p=$2; shift 2
  curl -sS --max-time 10 --cacert "$D/pki/ca.crt" --cert "$D/pki/admin.crt" --key "$D/pki/admin.key" -X "$m" "https://127.0.0.1:6443$p" "$@"
}

start() { # NAME CMD...: a daemon in its own session, its pid in $D/pids
  local n=$1; shift
  (setsid "$@" >"$D/logs/$n.log" 2>&1 & echo $! >"$D/pids/$n.pid")
}

certs() {
  local P=$D/pki
  mkdir -p "$P"
  openssl genrsa -out "$P/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -nodes -key "$P/ca.key" -subj "/CN=mlrun-test-ca" -days 3650 -out "$P/ca.crt" 2>/dev/null
  cert() { # name CN O SANs
    openssl genrsa -out "$P/$1.key" 2048 2>/dev/null
    local subj="/CN=$2" ext="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth"
    [ -n "$3" ] && subj="/O=$3$subj"
    [ -n "$4" ] && ext="$ext\nsubjectAltName=$4"
    openssl req -new -key "$P/$1.key" -subj "$subj" -out "$P/$1.csr" 2>/dev/null
    openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 3650 \
      -out "$P/$1.crt" -extfile <(printf "$ext") 2>/dev/null
  }
  cert apiserver kube-apiserver "" "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:$NODEIP"
  cert admin admin system:masters ""
  cert controller-manager system:kube-controller-manager "" ""
  cert scheduler system:kube-scheduler "" ""
  cert kubelet system:node:mlrun-node system:nodes ""
  cert kubelet-serving mlrun-node "" "DNS:mlrun-node,DNS:localhost,IP:127.0.0.1,IP:$NODEIP"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters ""
  openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
  openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
  for c in admin controller-manager scheduler kubelet; do
    cat >"$D/$c.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mlrun-test
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: $P/ca.crt}
users:
- name: $c
  user: {client-certificate: $P/$c.crt, client-key: $P/$c.key}
contexts:
- name: mlrun-test
  context: {cluster: mlrun-test, user: $c}
current-context: mlrun-test
EOF
  done
}

up() {
  [ "$(id -u)" = 0 ] || { echo "cluster.sh up: run as root (the kubelet manages cgroups and mounts)" >&2; exit 1; }
  for c in containerd runc iptables openssl curl ip python3; do
    command -v $c >/dev/null || { echo "cluster.sh up: $c is missing (apt-get install containerd iptables openssl curl iproute2 python3)" >&2; exit 1; }
  done
  build
  [ -f "$D/pids/kubelet.pid" ] && down
  rm -rf "$D"
  mkdir -p "$D"/{logs,pids,pod-logs,kubelet,containerd,cni/net.d,images,certs.d}
  for s in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops; do echo "$s=$(cat /proc/sys/$s)"; done >"$D/sysctl-orig.txt"
  ip link add $IFACE type bridge 2>/dev/null || true
  ip addr add $NODEIP/32 dev $IFACE 2>/dev/null || true
  ip link set $IFACE up
  certs
  log "certificates written"
  sed -e "s#@K8S_DIR@/root/usr/lib/cni#$R/usr/lib/cni#" -e "s#@K8S_DIR@#$D#g" "$here/containerd.toml" >"$D/containerd.toml"
  sed -e "s#@K8S_DIR@#$D#g" "$here/kubelet-config.yaml" >"$D/kubelet-config.yaml"
  cat >"$D/cni/net.d/10-mlrun.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "mlrun-test", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$D/cni/ipam", "ranges": [[{"subnet": "10.244.0.0/24"}]]}},
  {"type": "loopback"}]}
EOF
  start containerd containerd --config "$D/containerd.toml"
  local C="ctr -a $D/containerd/containerd.sock -n k8s.io"
  for _ in $(seq 100); do $C version >/dev/null 2>&1 && break; sleep 0.2; done
  $C version >/dev/null || { tail -20 "$D/logs/containerd.log"; exit 1; }
  python3 "$here/mkimage.py" "$D/images/pause.tar" docker.io/library/pause:local '["/pause"]' "$B/pause:/pause" >/dev/null
  $C images import "$D/images/pause.tar" >/dev/null
  log "containerd up, pause image imported"

  start etcd "$R/usr/bin/etcd" --name k8s --data-dir "$D/etcd-data" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster k8s=http://127.0.0.1:2380 --unsafe-no-fsync
  local P=$D/pki
  start kube-apiserver "$B/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --secure-port=6443 \
    --advertise-address=$NODEIP --client-ca-file=$P/ca.crt --tls-cert-file=$P/apiserver.crt --tls-private-key-file=$P/apiserver.key \
    --kubelet-client-certificate=$P/apiserver-kubelet-client.crt --kubelet-client-key=$P/apiserver-kubelet-client.key \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-key-file=$P/sa.pub --service-account-signing-key-file=$P/sa.key \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true --profiling=false
  local ok=""
  for _ in $(seq 120); do [ "$(api GET /readyz 2>/dev/null)" = ok ] && ok=1 && break; sleep 0.5; done
  [ -n "$ok" ] || { tail -20 "$D/logs/kube-apiserver.log"; exit 1; }
  log "apiserver ready"
  start kube-controller-manager "$B/kube-controller-manager" --kubeconfig="$D/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$D/controller-manager.kubeconfig" --authorization-kubeconfig="$D/controller-manager.kubeconfig" \
    --service-account-private-key-file=$P/sa.key --root-ca-file=$P/ca.crt --use-service-account-credentials=true \
    --cluster-signing-cert-file=$P/ca.crt --cluster-signing-key-file=$P/ca.key --leader-elect=false --bind-address=127.0.0.1
  start kube-scheduler "$B/kube-scheduler" --kubeconfig="$D/scheduler.kubeconfig" \
    --authentication-kubeconfig="$D/scheduler.kubeconfig" --authorization-kubeconfig="$D/scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1
  start kubelet "$B/kubelet" --config="$D/kubelet-config.yaml" --kubeconfig="$D/kubelet.kubeconfig" \
    --root-dir="$D/kubelet" --cert-dir="$D/kubelet/pki" --hostname-override=mlrun-node --node-ip=$NODEIP
  ok=""
  for _ in $(seq 240); do
    api GET /api/v1/nodes/mlrun-node 2>/dev/null | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if any(c["type"]=="Ready" and c["status"]=="True" for c in n["status"]["conditions"]) else 1)' 2>/dev/null && ok=1 && break
    sleep 0.5
  done
  [ -n "$ok" ] || { tail -30 "$D/logs/kubelet.log"; exit 1; }
  # The first Job needs the default service account (made by the controller-manager).
  for _ in $(seq 120); do api GET /api/v1/namespaces/default/serviceaccounts/default -f -o /dev/null 2>/dev/null && break; sleep 0.5; done
  log "node Ready; export MLRUN_TEST_K8S_DIR=$D (kubeconfig: $D/admin.kubeconfig)"
}

load_image() { # TAG...: docker save | ctr import, into the cluster's image store
  for tag in "$@"; do
    docker save "$tag" | ctr -a "$D/containerd/containerd.sock" -n k8s.io images import - >/dev/null
  done
}

down() {
  cd /
  stop() {
    local f=$D/pids/$1.pid p
    [ -f "$f" ] || return 0
    p=$(cat "$f")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$p" 2>/dev/null || true
    rm -f "$f"
  }
  for c in kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do stop $c; done
  if [ -f "$D/pids/containerd.pid" ]; then
    local C="ctr -a $D/containerd/containerd.sock -n k8s.io"
    for t in $($C tasks ls -q 2>/dev/null); do $C tasks kill -s SIGKILL "$t" 2>/dev/null || true; done
    sleep 0.5
    for t in $($C tasks ls -q 2>/dev/null); do $C tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for c in $($C containers ls -q 2>/dev/null); do $C containers rm "$c" >/dev/null 2>&1 || true; done
  fi
  # the shims of this containerd only (matched by its socket), then containerd
  for p in $(pgrep -f "containerd-shim.*-address $D/containerd/containerd.sock" || true); do kill "$p" 2>/dev/null || true; done
  stop containerd
  # mounts under the state folder (the kubelet's own bind mount, tmpfs for projected volumes, netns)
  for m in $(awk -v d="$D" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  ip link del $BRIDGE 2>/dev/null || true
  ip link del $IFACE 2>/dev/null || true
  find /var/log/containers /var/log/pods -maxdepth 1 -lname "$D/*" -delete 2>/dev/null || true
  for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # the iptables chains the kubelet made (KUBE-FIREWALL, canaries, hints)
  for ipt in iptables ip6tables; do
    command -v $ipt >/dev/null || continue
    $ipt -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
    $ipt -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
    for t in filter nat mangle; do
      for ch in $($ipt-save -t $t 2>/dev/null | awk -F'[: ]' '/^:KUBE-/ {print $2}'); do
        $ipt -t $t -F "$ch" 2>/dev/null || true
        $ipt -t $t -X "$ch" 2>/dev/null || true
      done
    done
  done
  # the sysctls the kubelet changed
  if [ -f "$D/sysctl-orig.txt" ]; then
    while IFS== read -r k v; do echo "$v" >/proc/sys/"$k" 2>/dev/null || true; done <"$D/sysctl-orig.txt"
  fi
  log "down"
}

case "${1:-}" in
build) build ;;
up) up ;;
down) down ;;
load-image) shift; load_image "$@" ;;
*) echo "usage: cluster.sh build|up|down|load-image TAG..." >&2; exit 2 ;;
esac

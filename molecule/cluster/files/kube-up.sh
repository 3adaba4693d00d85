#!/usr/bin/env bash
# Starts a real Kubernetes control plane and node on this host, laid out as a k3s server
# lays itself out, for the Molecule scenario `cluster` (no k3s binary can be had on the
# CI host: ../shared/TEST-HOST.md; the binaries are built by scripts/build-kube.sh from
# the module k8s.io/kubernetes at the release the k3s role pins).
#
#   kube-up.sh NODE_IP NODE_NAME BIN_DIR
#
# What k3s would run in one process runs here as systemd units: etcd (built beside them),
# kube-apiserver, kube-controller-manager, kube-scheduler and kubelet, with Debian's
# containerd, runc and CNI plugins (bridge + host-local + portmap + loopback; no flannel,
# as with k3s --flannel-backend=none and a bridge conflist). No kube-proxy (Service
# ClusterIPs are not routed: the tests reach pods and hosts by address) and no CoreDNS.
# Same paths as k3s: the admin kubeconfig /etc/rancher/k3s/k3s.yaml (0600, server
# https://NODE_IP:6443), certificates under /var/lib/rancher/k3s/server/tls,
# kubectl/crictl/ctr on the PATH. The API listens on the host's own address; etcd on
# loopback. Idempotent: certificates and keys are made once; units are (re)started.
set -euo pipefail
node_ip=$1 node=$2 bin=$3
cluster_cidr=10.42.0.0/16 pod_cidr=10.42.0.0/24 service_cidr=10.43.0.0/16 api_ip=10.43.0.1
tls=/var/lib/rancher/k3s/server/tls
agent=/var/lib/rancher/k3s/agent
mkdir -p "$tls" "$agent" /etc/rancher/k3s /var/lib/rancher/k3s/server/db /etc/cni/net.d /etc/containerd
chmod 0700 "$tls"

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
  install -m 0755 "$bin/$b" "/usr/local/bin/$b"
done

# --- certificates (openssl; made once) ---
cert() { # NAME CN O [SAN]: a client or server certificate signed by the cluster CA
  local name=$1 cn=$2 o=$3 san=${4:-}
  [ -f "$tls/$name.crt" ] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/$name.key" \
    -subj "/CN=$cn${o:+/O=$o}" -out "$tls/$name.csr" 2>/dev/null
  local ext="$tls/$name.ext"
  { echo "basicConstraints=critical,CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi; } >"$ext"
  openssl x509 -req -in "$tls/$name.csr" -CA "$tls/server-ca.crt" -CAkey "$tls/server-ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$ext" -out "$tls/$name.crt" 2>/dev/null
  rm -f "$tls/$name.csr" "$ext"
  chmod 0600 "$tls/$name.key"
}
if [ ! -f "$tls/server-ca.crt" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=k3s-server-ca@$(date +%s)" -keyout "$tls/server-ca.key" -out "$tls/server-ca.crt" 2>/dev/null
  openssl genrsa -out "$tls/service.key" 2048 2>/dev/null
  openssl rsa -in "$tls/service.key" -pubout -out "$tls/service.pub" 2>/dev/null
  chmod 0600 "$tls/server-ca.key" "$tls/service.key"
fi
cert serving-kube-apiserver kube-apiserver "" \
  "IP:$node_ip,IP:127.0.0.1,IP:$api_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:$node"
cert client-admin system:admin system:masters
cert client-controller system:kube-controller-manager ""
cert client-scheduler system:kube-scheduler ""
cert client-kube-apiserver kube-apiserver-kubelet-client system:masters
cert client-kubelet "system:node:$node" system:nodes
cert serving-kubelet "$node" "" "IP:$node_ip,DNS:$node,DNS:localhost"

kubeconfig() { # FILE CERTNAME SERVER
  local f=$1 c=$2 server=$3
  cat >"$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$tls/server-ca.crt")
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    client-certificate-data: $(base64 -w0 "$tls/$c.crt")
    client-key-data: $(base64 -w0 "$tls/$c.key")
EOF
  chmod 0600 "$f"
}
kubeconfig /etc/rancher/k3s/k3s.yaml client-admin "https://$node_ip:6443"
kubeconfig "$tls/../cred-controller.kubeconfig" client-controller https://127.0.0.1:6443
kubeconfig "$tls/../cred-scheduler.kubeconfig" client-scheduler https://127.0.0.1:6443
kubeconfig "$agent/kubelet.kubeconfig" client-kubelet https://127.0.0.1:6443

# --- containerd (Debian) with the locally built pause image, bridge CNI ---
cat >/etc/containerd/config.toml <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
cat >/etc/cni/net.d/10-bridge.conflist <<EOF
{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
cat >/etc/crictl.yaml <<EOF
runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
EOF

unit() { # NAME DESCRIPTION AFTER EXEC...
  local name=$1 desc=$2 after=$3; shift 3
  cat >"/etc/systemd/system/$name.service.new" <<EOF
[Unit]
Description=$desc (onprem.stack test cluster, scripts/build-kube.sh)
After=network-online.target $after
Wants=$after

[Service]
ExecStart=$*
Restart=always
RestartSec=2
LimitNOFILE=20000
Delegate=yes
KillMode=process

[Install]
WantedBy=multi-user.target
EOF
  if ! cmp -s "/etc/systemd/system/$name.service.new" "/etc/systemd/system/$name.service"; then
    mv "/etc/systemd/system/$name.service.new" "/etc/systemd/system/$name.service"
  else
    rm "/etc/systemd/system/$name.service.new"
  fi
}
unit kube-etcd "etcd" "" /usr/local/bin/etcd --name "$node" --data-dir /var/lib/rancher/k3s/server/db/etcd \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$node=http://127.0.0.1:2380" --unsafe-no-fsync --quota-backend-bytes 1073741824
unit kube-apiserver "kube-apiserver" kube-etcd.service /usr/local/bin/kube-apiserver \
  --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$node_ip" \
  --service-cluster-ip-range=$service_cidr --allow-privileged=true --authorization-mode=Node,RBAC \
  --anonymous-auth=false --enable-admission-plugins=NodeRestriction \
  --client-ca-file=$tls/server-ca.crt --tls-cert-file=$tls/serving-kube-apiserver.crt \
  --tls-private-key-file=$tls/serving-kube-apiserver.key --kubelet-certificate-authority=$tls/server-ca.crt \
  --kubelet-client-certificate=$tls/client-kube-apiserver.crt --kubelet-client-key=$tls/client-kube-apiserver.key \
  --service-account-key-file=$tls/service.pub --service-account-signing-key-file=$tls/service.key \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --profiling=false \
  --endpoint-reconciler-type=none
unit kube-controller-manager "kube-controller-manager" kube-apiserver.service /usr/local/bin/kube-controller-manager \
  --kubeconfig=$tls/../cred-controller.kubeconfig --authentication-kubeconfig=$tls/../cred-controller.kubeconfig \
  --authorization-kubeconfig=$tls/../cred-controller.kubeconfig --leader-elect=false --bind-address=127.0.0.1 \
  --cluster-signing-cert-file=$tls/server-ca.crt --cluster-signing-key-file=$tls/server-ca.key \
  --root-ca-file=$tls/server-ca.crt --service-account-private-key-file=$tls/service.key \
  --use-service-account-credentials=true --allocate-node-cidrs=true --cluster-cidr=$cluster_cidr \
  --service-cluster-ip-range=$service_cidr \
  --node-monitor-grace-period=40s --profiling=false
unit kube-scheduler "kube-scheduler" kube-apiserver.service /usr/local/bin/kube-scheduler \
  --kubeconfig=$tls/../cred-scheduler.kubeconfig --authentication-kubeconfig=$tls/../cred-scheduler.kubeconfig \
  --authorization-kubeconfig=$tls/../cred-scheduler.kubeconfig --leader-elect=false --bind-address=127.0.0.1 \
  --profiling=false

cat >"$agent/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $tls/server-ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $tls/serving-kubelet.crt
tlsPrivateKeyFile: $tls/serving-kubelet.key
cgroupDriver: cgroupfs
failSwapOn: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
clusterDomain: cluster.local
clusterDNS: [10.43.0.10]
podCIDR: $pod_cidr
resolvConf: /etc/resolv.conf
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
localStorageCapacityIsolation: false
# The CI host's cgroups are v1 (TEST-HOST.md); kubelet 1.35 and later refuse to start there
# unless told otherwise (the field exists since 1.31, default false before 1.35).
failCgroupV1: false
EOF
unit kubelet "kubelet" "containerd.service kube-apiserver.service" /usr/local/bin/kubelet \
  --config=$agent/kubelet.yaml --kubeconfig=$agent/kubelet.kubeconfig --hostname-override="$node" \
  --node-ip="$node_ip" --root-dir=/var/lib/kubelet

systemctl daemon-reload
for u in containerd kube-etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
  systemctl enable --quiet "$u"
  systemctl restart "$u"
done

"""The cluster half against a real Kubernetes API (molecule.yml says what runs where): the
nodes, the GPU node's label and taint, where the device plugin's pods go, the demo release
with its pods Ready, and a pod that reaches PostgreSQL (sslmode=verify-full against the site
CA, a pgvector KNN query) and Redis (TLS, as its ACL user) with the Secret the platform role
made. Everything is read through the API server with the kubectl built with it.

The GPU host's node is simulated by kwok (no GPU on the CI host), so the device plugin's
pod there runs no plugin: that is expected, and asserted (its node is the GPU node, no
real container runs it).
"""
import base64
import json
import os
import time
import uuid
from pathlib import Path

import onprem_verify
import yaml

testinfra_hosts = onprem_verify.hosts("k3s_server")

REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
KUBECTL = "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml"
SERVER = "cluster-s1"
GPU = "cluster-g1"


def kubectl_json(host, *args):
    out = host.check_output(" ".join([KUBECTL, *args, "-o", "json"]))
    return json.loads(out)


def test_nodes_registered_by_the_built_kubelet_and_kwok(host):
    """The server's node is a real kubelet of the pinned Kubernetes release (k3s' minor), Ready;
    the GPU host's node exists and is Ready (kwok)."""
    nodes = {n["metadata"]["name"]: n for n in kubectl_json(host, "get", "nodes")["items"]}
    assert set(nodes) == {SERVER, GPU}
    for name, node in nodes.items():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", (name, node["status"]["conditions"])
    info = nodes[SERVER]["status"]["nodeInfo"]
    k3s_version = onprem_verify.hostvars(SERVER).get("k3s_version") or yaml.safe_load(
        (REPO / "roles" / "k3s" / "defaults" / "main.yml").read_text())["k3s_version"]
    assert info["kubeletVersion"] == k3s_version.split("+")[0]
    assert info["containerRuntimeVersion"].startswith("containerd://")


def test_gpu_node_labelled_and_tainted_server_node_not(host):
    """The nvidia role put node-type=gpu and nvidia.com/gpu=true:NoSchedule on the already
    registered GPU node, and nothing on the server's node."""
    gpu = kubectl_json(host, "get", "node", GPU)
    assert gpu["metadata"]["labels"].get("node-type") == "gpu"
    assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in gpu["spec"].get("taints", [])
    server = kubectl_json(host, "get", "node", SERVER)
    assert "node-type" not in server["metadata"]["labels"]
    assert not [t for t in server["spec"].get("taints", []) if t["key"] == "nvidia.com/gpu"]


def test_device_plugin_daemonset_on_the_gpu_node_only(host):
    """The device plugin's DaemonSet, with the values the nvidia role computes, has exactly one
    pod, on the GPU node; it tolerates the GPU taint key whatever its effect and asks for the nvidia RuntimeClass.
    The node is kwok's: no container runs there (no GPU here), which is what is asserted."""
    ds = kubectl_json(host, "get", "daemonset", "-n", "nvidia-device-plugin", "nvidia-device-plugin")
    assert ds["status"]["desiredNumberScheduled"] == 1
    spec = ds["spec"]["template"]["spec"]
    assert spec["runtimeClassName"] == "nvidia"
    assert spec["nodeSelector"] == {"node-type": "gpu"}
    # Every effect of the GPU taint key (docs/gpu.md: the rule may set NoSchedule or nothing).
    assert any(t["key"] == "nvidia.com/gpu" and t.get("operator") == "Exists" and not t.get("effect")
               for t in spec["tolerations"]), spec["tolerations"]
    pods = kubectl_json(host, "get", "pods", "-n", "nvidia-device-plugin")["items"]
    assert [p["spec"]["nodeName"] for p in pods] == [GPU]
    # No container of it on the real node's containerd.
    assert "k8s-device-plugin" not in host.check_output("ctr -n k8s.io containers ls")


def test_demo_release_deployed_with_its_pod_ready(host):
    """examples/charts/onprem-demo, installed by the platform role with helm_release: the release
    is deployed and its Deployment's pod is Ready on the server's node (its readiness probe is an
    HTTP GET served from the volume the init container wrote, on the PVC)."""
    status = json.loads(host.check_output("helm status demo -n demo --kubeconfig /etc/rancher/k3s/k3s.yaml -o json"))
    assert status["info"]["status"] == "deployed"
    dep = kubectl_json(host, "get", "deployment", "-n", "demo", "demo-onprem-demo")
    assert dep["status"].get("readyReplicas") == 1
    pods = kubectl_json(host, "get", "pods", "-n", "demo", "-l", "app.kubernetes.io/instance=demo")["items"]
    assert len(pods) == 1 and pods[0]["spec"]["nodeName"] == SERVER
    assert [c for c in pods[0]["status"]["conditions"] if c["type"] == "Ready"][0]["status"] == "True"
    pvc = kubectl_json(host, "get", "pvc", "-n", "demo")["items"]
    assert [p["status"]["phase"] for p in pvc] == ["Bound"]


def test_secrets_wired_to_the_data_layer(host):
    """The Secret the platform role made holds a database URL with sslmode=verify-full and the
    site CA, and a rediss:// URL (Redis has TLS); the values themselves stay out of this log."""
    secret = kubectl_json(host, "get", "secret", "-n", "demo", "onprem-demo-data")
    assert set(secret["data"]) == {"database-url", "redis-url", "ca.crt"}
    tls = kubectl_json(host, "get", "secret", "-n", "demo", "onprem-demo-tls")
    assert tls["type"] == "kubernetes.io/tls"


def test_site_ca_configmap_and_secret_in_the_product_namespace(host):
    """The platform role put the site CA the scenario's pki role made (onprem_verify.site_ca()) into
    namespace demo as ca.crt of the ConfigMap and the Opaque Secret site-ca."""
    ca = onprem_verify.site_ca().read_text()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    configmap = kubectl_json(host, "get", "configmap", "-n", "demo", "site-ca")
    assert configmap["data"] == {"ca.crt": ca}
    secret = kubectl_json(host, "get", "secret", "-n", "demo", "site-ca")
    assert secret["type"] == "Opaque" and set(secret["data"]) == {"ca.crt"}
    assert base64.b64decode(secret["data"]["ca.crt"]).decode() == ca


POD = """
apiVersion: v1
kind: Pod
metadata: {name: %(name)s, namespace: demo}
spec:
  restartPolicy: Never
  # The site's DNS resolves the data hosts' names for a real cluster (CoreDNS forwards to it);
  # this cluster has no DNS, so the pod is told the address of the name in the Secret's URLs.
  hostAliases: [{ip: "%(ip)s", hostnames: ["%(db)s"]}]
  containers:
    - name: client
      image: localhost/onprem-test/db-client:1
      imagePullPolicy: Never
      command: ["/bin/sh", "-c"]
      args:
        - |
          set -e
          psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -At -c "
            CREATE TABLE IF NOT EXISTS cluster_knn (id int PRIMARY KEY, v vector(3));
            INSERT INTO cluster_knn VALUES (1,'[1,0,0]'),(2,'[0,1,0]'),(3,'[0,0,1]') ON CONFLICT DO NOTHING;
            SELECT 'knn=' || string_agg(id::text, ',') FROM
              (SELECT id FROM cluster_knn ORDER BY v <-> '[0.9,0.1,0]' LIMIT 2) AS nearest;
            SELECT 'ssl=' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();"
          redis-cli -u "$REDIS_URL" --tls --cacert /etc/onprem-ca/ca.crt SET app:cluster-probe %(name)s
          echo "redis=$(redis-cli -u "$REDIS_URL" --tls --cacert /etc/onprem-ca/ca.crt GET app:cluster-probe)"
          echo "redis-denied=$(redis-cli -u "$REDIS_URL" --tls --cacert /etc/onprem-ca/ca.crt SET other:key x 2>&1)"
      env:
        - {name: DATABASE_URL, valueFrom: {secretKeyRef: {name: onprem-demo-data, key: database-url}}}
        - {name: REDIS_URL, valueFrom: {secretKeyRef: {name: onprem-demo-data, key: redis-url}}}
      volumeMounts:
        - {name: ca, mountPath: /etc/onprem-ca, readOnly: true}
  volumes:
    - name: ca
      secret: {secretName: onprem-demo-data, items: [{key: ca.crt, path: ca.crt}]}
"""


def test_pod_reaches_postgresql_verify_full_and_redis_tls_acl(host):
    """A pod in the product namespace, with nothing but the Secret: psql with sslmode=verify-full
    against the site CA runs a pgvector KNN query; redis-cli over TLS as the ACL user writes and
    reads its own key space and is refused outside it."""
    name = "db-probe-" + uuid.uuid4().hex[:6]
    ip = onprem_verify.address(SERVER)
    host.check_output("cat <<'EOF' | %s apply -f -\n%s\nEOF" % (KUBECTL, POD % {"name": name, "ip": ip, "db": SERVER}))
    try:
        phase = ""
        for _attempt in range(90):
            phase = kubectl_json(host, "get", "pod", "-n", "demo", name)["status"].get("phase", "")
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(2)
        logs = host.check_output("%s logs -n demo %s" % (KUBECTL, name))
        assert phase == "Succeeded", logs
        assert "knn=1,2" in logs
        assert "ssl=t" in logs
        assert "redis=%s" % name in logs
        assert "NOPERM" in logs.split("redis-denied=")[1]
    finally:
        host.run("%s delete pod -n demo %s --wait=false" % (KUBECTL, name))

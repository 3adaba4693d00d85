"""playbooks/upgrade.yml's drain and uncordon (the k3s role's entry points `drain` and
`uncordon`, through drain.yml) on the real node of cluster-s1, where the demo release's pod runs.

A drain that succeeds evicts the pod and cordons the node; uncordon makes it schedulable and
the pod comes back. A drain that fails (a PodDisruptionBudget allowing no eviction) must not
leave the node cordoned unnoticed: the play fails naming the node and kubectl's reason, and
the node is schedulable again with its pod still running.
"""
import json
import time

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s_server")

KUBECTL = "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml"
NODE = "cluster-s1"
PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: demo-keep, namespace: demo}
spec:
  minAvailable: 1
  selector: {matchLabels: {app.kubernetes.io/instance: demo}}
"""


def _unschedulable(host):
    return host.check_output("%s get node %s -o jsonpath={.spec.unschedulable}" % (KUBECTL, NODE)) == "true"


def _demo_pods(host):
    out = host.check_output("%s get pods -n demo -l app.kubernetes.io/instance=demo -o json" % KUBECTL)
    return json.loads(out)["items"]


def _wait_demo_ready(host):
    for _attempt in range(90):
        pods = _demo_pods(host)
        if any(c["type"] == "Ready" and c["status"] == "True" for p in pods for c in p["status"].get("conditions", [])):
            return pods
        time.sleep(2)
    raise AssertionError("the demo pod is not Ready again: %s" % _demo_pods(host))


def test_drain_then_uncordon(host):
    before = {p["metadata"]["uid"] for p in _wait_demo_ready(host)}
    run = onprem_verify.ansible_playbook("drain.yml")
    assert run.returncode == 0, run.stdout[-6000:]
    assert not _unschedulable(host)
    after = _wait_demo_ready(host)
    assert not before & {p["metadata"]["uid"] for p in after}, "the drain evicted the pod, a new one runs"


def test_failed_drain_leaves_the_node_schedulable_and_says_why(host):
    before = {p["metadata"]["uid"] for p in _wait_demo_ready(host)}
    host.check_output("cat <<'EOF' | %s apply -f -\n%sEOF" % (KUBECTL, PDB))
    try:
        run = onprem_verify.ansible_playbook("drain.yml", "-e", "k3s_upgrade_drain_timeout=15")
        assert run.returncode != 0, run.stdout[-4000:]
        assert "Draining node cluster-s1 (cluster-s1) failed, so it was not upgraded" in run.stdout, run.stdout[-4000:]
        assert "disruption budget" in run.stdout, run.stdout[-4000:]
        assert not _unschedulable(host), "a failed drain left the node cordoned"
        assert {p["metadata"]["uid"] for p in _demo_pods(host)} == before, "the pod kept running"
    finally:
        host.run("%s delete pdb -n demo demo-keep" % KUBECTL)

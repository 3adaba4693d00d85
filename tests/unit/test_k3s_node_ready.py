"""The filter onprem.stack.k3s_node_ready: is a node back after a (re)start of k3s?

Fixtures are Kubernetes API v1 objects as `kubectl get -o json` prints them: a Node
(k8s.io/api core/v1 types.go: NodeStatus.conditions[].lastHeartbeatTime, a metav1.Time in
RFC 3339 with second precision; NodeStatus.nodeInfo.kubeletVersion) and a Lease of
kube-node-lease (k8s.io/api coordination/v1: LeaseSpec.renewTime, a metav1.MicroTime in
RFC 3339 with microseconds), alone or in the List that `kubectl get lease/x node/x` prints.
"""
import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.k3s_node_ready import k3s_node_ready, parse_rfc3339

# A k3s node as the API returns it (abridged: fields the filter does not read are left out).
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "gpu-1", "labels": {"kubernetes.io/hostname": "gpu-1"}},
    "status": {
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": "2026-12-04T21:00:10Z",
             "lastTransitionTime": "2026-12-01T08:00:00Z", "reason": "KubeletHasSufficientMemory"},
            {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-12-04T21:00:10Z",
             "lastTransitionTime": "2026-12-01T08:00:00Z", "reason": "KubeletReady",
             "message": "kubelet is posting ready status"},
        ],
        "nodeInfo": {"kubeletVersion": "v1.31.4+k3s1", "kubeProxyVersion": "v1.31.4+k3s1",
                     "containerRuntimeVersion": "containerd://1.7.23-k3s2", "osImage": "Debian GNU/Linux 12 (bookworm)"},
    },
}
LEASE = {
    "apiVersion": "coordination.k8s.io/v1",
    "kind": "Lease",
    "metadata": {"name": "gpu-1", "namespace": "kube-node-lease"},
    "spec": {"holderIdentity": "gpu-1", "leaseDurationSeconds": 40, "renewTime": "2026-12-04T21:00:12.345678Z"},
}
# 2026-12-04T21:00:00Z
T0 = 1796418000


def _node(version="v1.31.4+k3s1", ready="True", heartbeat="2026-12-04T21:00:10Z"):
    node = copy.deepcopy(NODE)
    node["status"]["nodeInfo"]["kubeletVersion"] = version
    node["status"]["conditions"][1].update(status=ready, lastHeartbeatTime=heartbeat)
    return node


def _list(*items):
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(items)}


def test_parse_rfc3339():
    assert parse_rfc3339("2026-12-04T21:00:00Z") == T0
    assert parse_rfc3339("2026-12-04T21:00:12.345678Z") == pytest.approx(T0 + 12.345678)
    assert parse_rfc3339("2026-12-04T22:00:00+01:00") == T0


def test_ready_node_of_the_installed_version_without_restart():
    assert k3s_node_ready(NODE, "v1.31.4+k3s1") == {"ready": True, "reason": "node gpu-1 is Ready, kubelet v1.31.4+k3s1"}


def test_stale_ready_after_restart_is_not_ready():
    """Ready stays True until the node-monitor grace period ends: the old heartbeat must not count."""
    found = k3s_node_ready(_node(heartbeat="2026-12-04T20:59:50Z"), "v1.31.4+k3s1", since=T0)
    assert found["ready"] is False
    assert "no heartbeat since the restart" in found["reason"] and "2026-12-04T20:59:50Z" in found["reason"]


def test_heartbeat_after_restart_is_ready():
    assert k3s_node_ready(_node(heartbeat="2026-12-04T21:00:01Z"), "v1.31.4+k3s1", since=T0)["ready"] is True


def test_heartbeat_in_the_restart_second_does_not_count():
    """lastHeartbeatTime has whole seconds: one equal to the restart time may be the old kubelet's."""
    assert k3s_node_ready(_node(heartbeat="2026-12-04T21:00:00Z"), "v1.31.4+k3s1", since=T0)["ready"] is False


def test_lease_renewal_counts_as_heartbeat():
    """The kubelet renews its Lease every 10 s but posts node status only on change or every 5 min."""
    node = _node(heartbeat="2026-12-04T20:55:00Z")
    assert k3s_node_ready(_list(LEASE, node), "v1.31.4+k3s1", since=T0)["ready"] is True
    old = copy.deepcopy(LEASE)
    old["spec"]["renewTime"] = "2026-12-04T20:59:59.999999Z"
    assert k3s_node_ready(_list(old, node), "v1.31.4+k3s1", since=T0)["ready"] is False


def test_old_kubelet_is_not_ready():
    """After an upgrade the node is Ready with the old kubelet until the new one reports."""
    found = k3s_node_ready(_node(version="v1.30.8+k3s1"), "v1.31.4+k3s1", since=T0)
    assert found["ready"] is False
    assert "kubelet v1.30.8+k3s1" in found["reason"] and "v1.31.4" in found["reason"]


def test_kubernetes_part_of_the_version_is_compared():
    """A kubelet that is not k3s' (the test control plane's) reports the Kubernetes version only."""
    assert k3s_node_ready(_node(version="v1.31.4"), "v1.31.4+k3s1")["ready"] is True
    assert k3s_node_ready(_node(version="v1.31.4+k3s2"), "v1.31.4+k3s1")["ready"] is True
    assert k3s_node_ready(_node(version="v1.31.40+k3s1"), "v1.31.4+k3s1")["ready"] is False


def test_not_ready_and_missing_condition():
    assert k3s_node_ready(_node(ready="False"), "v1.31.4+k3s1")["reason"].endswith("Ready condition is False")
    node = _node()
    node["status"]["conditions"] = []
    assert k3s_node_ready(node, "v1.31.4+k3s1") == {"ready": False, "reason": "node gpu-1 has no Ready condition yet"}
    node = _node()
    del node["status"]
    assert k3s_node_ready(node, "v1.31.4+k3s1")["ready"] is False


def test_since_empty_means_no_restart():
    assert k3s_node_ready(NODE, "v1.31.4+k3s1", since="")["ready"] is True
    assert k3s_node_ready(_node(heartbeat="2026-12-04T21:00:01Z"), "v1.31.4+k3s1", since=str(T0))["ready"] is True


@pytest.mark.parametrize("value,version,since,words", [
    ({"kind": "Pod"}, "v1.31.4+k3s1", None, "neither a Node nor a List holding one"),
    ("{}", "v1.31.4+k3s1", None, "neither a Node"),
    (_list(LEASE), "v1.31.4+k3s1", None, "neither a Node"),
    (NODE, "1.31", None, "k3s_version '1.31' is not a k3s release tag"),
    (NODE, "v1.31.4+k3s1", "yesterday", "since 'yesterday' is not seconds since the epoch"),
    (_node(heartbeat="21:00"), "v1.31.4+k3s1", T0, "lastHeartbeatTime '21:00' is not an RFC 3339 time"),
])
def test_bad_input_named(value, version, since, words):
    with pytest.raises(AnsibleFilterError) as exc:
        k3s_node_ready(value, version, since=since)
    assert words in str(exc.value)

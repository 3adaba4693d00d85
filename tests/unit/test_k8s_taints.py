"""The filter onprem.stack.k8s_taints: k3s' node-taint strings to Kubernetes taint objects,
with the kubelet's rules (k8s.io/kubernetes pkg/util/taints ParseTaint)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.k8s_taints import k8s_taints


@pytest.mark.parametrize("text,want", [
    ("nvidia.com/gpu=true:NoSchedule", {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}),
    ("dedicated:PreferNoSchedule", {"key": "dedicated", "value": "", "effect": "PreferNoSchedule"}),
    ("CriticalAddonsOnly=:NoExecute", {"key": "CriticalAddonsOnly", "value": "", "effect": "NoExecute"}),
    ("a.b/c_d.e-f=x-1.y_z:NoSchedule", {"key": "a.b/c_d.e-f", "value": "x-1.y_z", "effect": "NoSchedule"}),
])
def test_good(text, want):
    assert k8s_taints([text]) == [want]


@pytest.mark.parametrize("text,words", [
    ("nvidia.com/gpu=true", "has no effect"),
    (":NoSchedule", "has no effect"),
    ("nvidia.com/gpu=true:NoSchedul", "effect 'NoSchedul' is not one of"),
    ("-bad=true:NoSchedule", "key '-bad' is not a qualified name"),
    ("Bad_Prefix/x=1:NoSchedule", "key 'Bad_Prefix/x'"),
    ("k=" + "v" * 64 + ":NoSchedule", "is not a label value"),
    ("k=a b:NoSchedule", "value 'a b'"),
])
def test_bad_named(text, words):
    with pytest.raises(AnsibleFilterError) as exc:
        k8s_taints([text])
    assert words in str(exc.value) and repr(text) in str(exc.value)


def test_not_a_list():
    with pytest.raises(AnsibleFilterError, match="want a list of taint strings"):
        k8s_taints("nvidia.com/gpu=true:NoSchedule")

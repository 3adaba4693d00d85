"""The GPU taint rule (issue 19, fault 1): which taints each GPU node of the cluster gets.

A GPU node is tainted (``k3s_gpu_node_taints``, by default
``nvidia.com/gpu=true:NoSchedule``) only when the inventory's k3s groups keep at least
one node without a GPU that ordinary pods may use (no NoSchedule/NoExecute taint of its
own); otherwise coredns, traefik, local-path, metrics-server and every product pod
without the toleration would stay Pending. ``nvidia_node_taints`` set to a list
(``[]`` included) replaces the rule. The filter ``onprem.stack.gpu_node_taints`` holds
the rule; the role's ``_nvidia_node_taints`` (roles/nvidia/vars/main.yml) is rendered
here with Ansible's Templar and the collection loader, as ansible-playbook does.
"""
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "nvidia"
LOADER = DataLoader()
GPU = "nvidia.com/gpu=true:NoSchedule"


def _forget_collections() -> None:
    for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
        del sys.modules[name]


@pytest.fixture(scope="module", autouse=True)
def _plugin_loader():
    """Ansible's collection loader, as ansible-playbook installs it; removed afterwards.
    tests/unit/test_nvidia_*.py import this fixture (tests/unit is on sys.path)."""
    _forget_collections()
    init_plugin_loader([str(REPO / "collections")])
    yield
    _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access
    _forget_collections()


def role_vars(*os_files):
    """The role's defaults, then its vars files ``os_files`` (names under vars/), then
    vars/main.yml, trusted as templates as Ansible loads them (dict). Shared by the
    tests/unit/test_nvidia_*.py files."""
    variables = dict(LOADER.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True))
    for name in os_files + ("main.yml",):
        variables.update(LOADER.load_from_file(str(ROLE / "vars" / name), trusted_as_template=True))
    return variables


def _rule():
    # imported after the loader is in place (the module fixture), as Ansible imports it
    from ansible_collections.onprem.stack.plugins.filter.gpu_node_taints import gpu_node_taints  # pylint: disable=import-outside-toplevel
    return gpu_node_taints


def _role_taints(groups, host, hostvars=None, **inventory):
    """``_nvidia_node_taints`` of ``host`` as the role renders it (defaults, vars/main.yml,
    the inventory's groups and hostvars)."""
    variables = role_vars()
    hostvars = hostvars or {}
    all_hosts = sorted({h for members in groups.values() for h in members})
    variables.update(inventory)
    variables.update({"groups": dict(groups, all=all_hosts), "inventory_hostname": host,
                      "group_names": sorted(g for g, members in groups.items() if host in members),
                      "hostvars": {h: dict(hostvars.get(h, {}), inventory_hostname=h) for h in all_hosts}})
    return Templar(loader=LOADER, variables=variables).template(trust_as_template("{{ _nvidia_node_taints }}"))


# ---- the role's wiring -----------------------------------------------------------------

def test_one_node_gpu_site_is_not_tainted():
    """The most common small install: one k3s server with a GPU. Tainted, nothing else runs."""
    assert _role_taints({"k3s_server": ["gpu1"], "gpu": ["gpu1"]}, "gpu1") == []


def test_all_gpu_cluster_is_not_tainted():
    groups = {"k3s_server": ["s1", "s2", "s3"], "k3s_agent": ["a1"], "gpu": ["s1", "s2", "s3", "a1"]}
    assert all(_role_taints(groups, h) == [] for h in ["s1", "s2", "s3", "a1"])


def test_mixed_cluster_taints_gpu_nodes():
    groups = {"k3s_server": ["s1"], "k3s_agent": ["a1", "g1"], "gpu": ["g1"]}
    assert _role_taints(groups, "g1") == [GPU]


def test_explicit_empty_list_is_obeyed():
    groups = {"k3s_server": ["s1"], "k3s_agent": ["g1"], "gpu": ["g1"]}
    assert _role_taints(groups, "g1", nvidia_node_taints=[]) == []


# ---- the rule --------------------------------------------------------------------------

def test_rule_mixed():
    got = _rule()({"k3s_server": ["s1"], "k3s_agent": ["g1", "g2"], "gpu": ["g1", "g2"]}, [GPU])
    assert got == {"g1": {"present": [GPU], "absent": []}, "g2": {"present": [GPU], "absent": []}}


def test_rule_all_gpu_removes_registration_taint():
    """k3s adds k3s_gpu_node_taints at registration: the rule lists them for removal."""
    got = _rule()({"k3s_server": ["g1"], "gpu": ["g1"]}, [GPU])
    assert got == {"g1": {"present": [], "absent": [GPU]}}


def test_rule_tainted_servers_do_not_count():
    """Servers tainted CriticalAddonsOnly=true:NoExecute (k3s' HA advice) take no ordinary pod."""
    groups = {"k3s_server": ["s1", "s2", "s3"], "k3s_agent": ["g1"], "gpu": ["g1"]}
    taints = {s: ["CriticalAddonsOnly=true:NoExecute"] for s in ["s1", "s2", "s3"]}
    assert _rule()(groups, [GPU], node_taints=taints)["g1"]["present"] == []
    taints["s2"] = ["dedicated=infra:PreferNoSchedule"]
    assert _rule()(groups, [GPU], node_taints=taints)["g1"]["present"] == [GPU]


def test_rule_detected_gpu_hosts_count():
    """A host whose GPU was detected (gpu_facts) counts as a GPU node even outside group gpu."""
    got = _rule()({"k3s_server": ["s1"], "k3s_agent": ["g1"]}, [GPU], gpu_hosts=["s1", "g1"])
    assert got["s1"]["present"] == [] and got["g1"]["present"] == []


def test_rule_explicit_list():
    groups = {"k3s_server": ["g1"], "gpu": ["g1"]}
    explicit = ["nvidia.com/gpu=true:PreferNoSchedule"]
    assert _rule()(groups, [GPU], taints=explicit) == {"g1": {"present": explicit, "absent": [GPU]}}
    assert _rule()(groups, [GPU], taints=[]) == {"g1": {"present": [], "absent": [GPU]}}


def test_rule_gpu_hosts_outside_k3s_groups_get_the_rule():
    """A GPU host whose node joined outside the k3s groups (the cluster scenario's kwok node) is
    tainted like the others; it never counts as a non-GPU node."""
    assert _rule()({"k3s_server": ["s1"], "gpu": ["g9"]}, [GPU]) == {"g9": {"present": [GPU], "absent": []}}
    assert _rule()({"k3s_server": ["s1"], "gpu": ["s1", "g9"]}, [GPU]) == {
        "s1": {"present": [], "absent": [GPU]}, "g9": {"present": [], "absent": [GPU]}}


@pytest.mark.parametrize("kwargs,words", [
    ({"gpu_taints": "nvidia.com/gpu=true:NoSchedule"}, "k3s_gpu_node_taints"),
    ({"gpu_taints": ["nvidia.com/gpu=true"]}, "has no effect"),
    ({"gpu_taints": [GPU], "taints": "none"}, "nvidia_node_taints"),
    ({"gpu_taints": [GPU], "node_taints": {"s1": "x:NoSchedule"}}, "k3s_node_taints of s1"),
])
def test_rule_bad_input_named(kwargs, words):
    with pytest.raises(AnsibleFilterError, match=words):
        _rule()({"k3s_server": ["s1"], "gpu": ["s1"]}, **kwargs)


def test_device_plugin_tolerates_every_gpu_taint_key():
    """The device plugin must run wherever a GPU node is, whichever GPU taint it carries."""
    variables = role_vars()
    variables["nvidia_node_taints"] = ["dedicated=gpu:PreferNoSchedule", "nvidia.com/gpu:NoExecute"]
    keys = Templar(loader=LOADER, variables=variables).template(trust_as_template("{{ _nvidia_node_taint_keys }}"))
    assert keys == ["nvidia.com/gpu", "dedicated"]


@pytest.mark.parametrize("value,words", [
    ("none", "must be null (the GPU taint rule) or a list"),
    (["nvidia.com/gpu=true"], "entries must be key[=value]:NoSchedule"),
])
def test_validator_names_bad_nvidia_node_taints(value, words):
    from ansible_collections.onprem.stack.plugins.module_utils._validate import nvidia  # pylint: disable=import-outside-toplevel
    defaults = LOADER.load_from_file(str(ROLE / "defaults" / "main.yml"))
    params = dict(defaults, nvidia_node_taints=value)
    found = [str(p.message) for p in nvidia.validate(params, {"toolkit_source": "repo", "stack_airgap": False})]
    assert any(words in m and "nvidia_node_taints" in m for m in found), found
    assert not nvidia.validate(dict(defaults, nvidia_node_taints=[]), {"toolkit_source": "repo", "stack_airgap": False})
    assert not nvidia.validate(dict(defaults), {"toolkit_source": "repo", "stack_airgap": False})

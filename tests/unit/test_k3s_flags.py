"""Every key the k3s role writes into config.yaml is a flag of the pinned k3s version.

The reference is k3s' own CLI documentation (k3s-io/docs docs/cli/server.md and
docs/cli/agent.md; source paths and commits in tests/unit/data/k3s_cli_flags.yml). The
role's template is rendered in-process with Ansible's Templar for a first server, a
joining server and an agent, with every optional variable set, and the keys of the
resulting YAML are compared with the flag lists. Cost: under 1 s.
"""
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "k3s"
FLAGS = yaml.safe_load((Path(__file__).parent / "data" / "k3s_cli_flags.yml").read_text())

# Every optional input set, so that every key the template can write appears.
INPUT = {
    "k3s_node_ip": "192.0.2.10",
    "k3s_node_labels": ["node-type=gpu"],
    "k3s_node_taints": ["nvidia.com/gpu=true:NoSchedule"],
    "k3s_kubelet_args": ["max-pods=150"],
    "k3s_tls_san": ["k3s.example.test"],
    "k3s_cluster_config": {"cluster-cidr": "10.42.0.0/16", "service-cidr": "10.43.0.0/16", "cluster-dns": "10.43.0.10",
                           "cluster-domain": "cluster.local", "disable": ["traefik"], "secrets-encryption": True,
                           "flannel-backend": "vxlan", "egress-selector-mode": "agent"},
}
NODES = {
    "first server": {"_k3s_is_server": True, "_k3s_is_first": True, "_k3s_role": "server"},
    "joining server": {"_k3s_is_server": True, "_k3s_is_first": False, "_k3s_role": "server"},
    "agent": {"_k3s_is_server": False, "_k3s_is_first": False, "_k3s_role": "agent"},
}


# The role's derived values the template reads, as Ansible loads vars/main.yml (templates).
ROLE_VARS = ("_k3s_nodes", "_k3s_register_taints")


@pytest.fixture(scope="module", autouse=True)
def _plugin_loader(collection_loader):  # noqa: ARG001  (tests/unit/conftest.py)
    """The template calls onprem.stack's gpu_node_taints filter."""


def _render(node, groups=None, hostvars=None, **extra):
    """config.yaml of ``node`` (a NODES key) as a dict, for host ``node1``; ``extra`` variables
    override the input. ``groups``: the inventory's groups (default: node1 in its group_names);
    ``hostvars``: other hosts' variables (k3s_node_taints)."""
    loader = DataLoader()
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(INPUT)
    variables.update(extra)
    variables.update(NODES[node])
    role_vars = loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True)
    variables.update({k: role_vars[k] for k in ROLE_VARS})
    group_names = variables.get("group_names") or ["k3s_server" if NODES[node]["_k3s_is_server"] else "k3s_agent"]
    groups = groups or {g: ["node1"] for g in group_names}
    hostvars = dict(hostvars or {}, node1={"k3s_node_taints": variables["k3s_node_taints"]})
    variables.update({"ansible_managed": "Ansible managed", "_k3s_config_dir": "/etc/rancher/k3s",
                      "_k3s_url": "https://192.0.2.1:6443", "_k3s_endpoint": "k3s-api.example.test",
                      "_k3s_registry": "registry.example.test:5000", "inventory_hostname": "node1",
                      "group_names": group_names, "groups": groups, "hostvars": hostvars})
    templar = Templar(loader=loader, variables=variables)
    text = templar.template(trust_as_template((ROLE / "templates" / "config.yaml.j2").read_text()))
    return yaml.safe_load(text)


def test_role_flag_lists_equal_the_cli_reference():
    """The lists the role validates k3s_extra_config against are the documented ones."""
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert role_vars["_k3s_server_flags"] == FLAGS["server"]
    assert role_vars["_k3s_agent_flags"] == FLAGS["agent"]


def test_agent_flags_are_server_flags_too():
    """k3s documents that servers accept every agent flag; the data must agree (except agent-only ones)."""
    agent_only = {"disable-apiserver-lb"}
    assert set(FLAGS["agent"]) - agent_only <= set(FLAGS["server"])


@pytest.mark.parametrize("node", sorted(NODES))
def test_every_written_key_is_a_flag(node):
    """config.yaml of each kind of node holds only flags of `k3s server` / `k3s agent`."""
    config = _render(node)
    flags = FLAGS["server"] if NODES[node]["_k3s_is_server"] else FLAGS["agent"]
    assert config, "nothing rendered"
    assert sorted(set(config) - set(flags)) == []


def test_rendered_roles_of_the_nodes():
    """The first server initialises, the others join, agents get no server-only keys."""
    first, joining, agent = _render("first server"), _render("joining server"), _render("agent")
    assert first["cluster-init"] is True and "server" not in first
    assert joining["server"] == "https://192.0.2.1:6443" and "cluster-init" not in joining
    assert agent["server"] == "https://192.0.2.1:6443"
    assert "agent-token-file" not in agent and "cluster-cidr" not in agent
    assert first["node-taint"] == ["nvidia.com/gpu=true:NoSchedule"]
    assert first["disable-default-registry-endpoint"] is True
    assert "k3s-api.example.test" in first["tls-san"] and "k3s.example.test" in first["tls-san"]


def test_gpu_hosts_get_the_gpu_label_and_taint_at_registration():
    """A host of group gpu registers with node-type=gpu and, while a schedulable node without a GPU
    remains, the nvidia.com/gpu taint, added to its own labels and taints without duplicates; other
    hosts get neither."""
    cluster = {"k3s_server": ["cpu1"], "k3s_agent": ["node1"], "gpu": ["node1"]}
    gpu = _render("agent", groups=cluster, group_names=["k3s_agent", "gpu"], k3s_node_labels=["zone=a"],
                  k3s_node_taints=[])
    assert gpu["node-label"] == ["zone=a", "node-type=gpu"]
    assert gpu["node-taint"] == ["nvidia.com/gpu=true:NoSchedule"]
    plain = _render("agent", group_names=["k3s_agent"], k3s_node_labels=[], k3s_node_taints=[])
    assert "node-label" not in plain and "node-taint" not in plain
    own = _render("agent", groups=cluster, group_names=["k3s_agent", "gpu"],
                  k3s_node_taints=["nvidia.com/gpu=true:NoSchedule", "zone=a:PreferNoSchedule"])
    assert own["node-taint"] == ["nvidia.com/gpu=true:NoSchedule", "zone=a:PreferNoSchedule"]


@pytest.mark.parametrize("groups,hostvars,extra,taints", [
    # A one-node site with a GPU: no taint, or coredns, traefik, ... would stay Pending.
    ({"k3s_server": ["node1"], "gpu": ["node1"]}, {}, {}, None),
    # Every node has a GPU.
    ({"k3s_server": ["node1", "gpu2"], "gpu": ["node1", "gpu2"]}, {}, {}, None),
    # The only node without a GPU is tainted NoSchedule itself: it does not count.
    ({"k3s_server": ["cpu1"], "k3s_agent": ["node1"], "gpu": ["node1"]},
     {"cpu1": {"k3s_node_taints": ["dedicated=infra:NoSchedule"]}}, {}, None),
    # ... but PreferNoSchedule only steers: it counts.
    ({"k3s_server": ["cpu1"], "k3s_agent": ["node1"], "gpu": ["node1"]},
     {"cpu1": {"k3s_node_taints": ["dedicated=infra:PreferNoSchedule"]}}, {}, ["nvidia.com/gpu=true:NoSchedule"]),
    # An explicit nvidia_node_taints replaces the rule, [] included.
    ({"k3s_server": ["node1"], "gpu": ["node1"]}, {}, {"nvidia_node_taints": ["nvidia.com/gpu=true:PreferNoSchedule"]},
     ["nvidia.com/gpu=true:PreferNoSchedule"]),
    ({"k3s_server": ["cpu1"], "k3s_agent": ["node1"], "gpu": ["node1"]}, {}, {"nvidia_node_taints": []}, None),
])
def test_registration_taints_follow_the_gpu_node_taints_rule(groups, hostvars, extra, taints):
    """The taints a GPU node registers with are those of the gpu_node_taints filter, the rule the
    nvidia role applies to registered nodes (docs/gpu.md, "Which nodes are tainted")."""
    group_names = [g for g, hosts in groups.items() if "node1" in hosts]
    node = "first server" if "k3s_server" in group_names else "agent"
    config = _render(node, groups=groups, hostvars=hostvars, group_names=group_names, k3s_node_taints=[], **extra)
    assert config.get("node-taint") == taints
    assert config["node-label"] == ["node-type=gpu"]


def test_cluster_keys_are_server_flags():
    """k3s_cluster_config accepts only server flags (the role's _k3s_cluster_keys)."""
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert set(role_vars["_k3s_cluster_keys"]) <= set(FLAGS["server"])
    assert set(role_vars["_k3s_managed_keys"]) <= set(FLAGS["server"])

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.gpu_node_taints``: the taints each GPU node of the cluster gets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gpu_node_taints
short_description: The taints of each GPU node, so that system and product pods always have a node
version_added: 0.3.0
description:
  - Takes the inventory's C(groups) and returns, for each k3s node (group C(k3s_server) or
    C(k3s_agent)) that is a GPU node (group C(gpu), or named in O(gpu_hosts)), the taints it
    must carry (C(present)) and the GPU taints it must not carry (C(absent)).
  - "The rule (docs/gpu.md, \"Which nodes are tainted\"): with O(taints) unset (null), GPU nodes
    get O(gpu_taints) only when at least one k3s node remains that is not a GPU node and that
    has no C(NoSchedule) or C(NoExecute) taint of its own (O(node_taints)); otherwise they
    get none, because coredns, traefik, local-path-provisioner, metrics-server and every pod
    without the toleration would stay Pending (a one-node or all-GPU site). With O(taints) a
    list (an empty list included), every GPU node gets exactly that list."
  - C(absent) lists the taints of O(gpu_taints) and O(taints) that a node must not keep,
    those whose key and effect no C(present) taint has (M(kubernetes.core.k8s_taint)
    matches taints by key and effect). The k3s role registers a node with C(present)
    (C(node-taint), C(_k3s_register_taints)); a node registered under another rule or other
    groups may carry O(gpu_taints) that the rule no longer wants, so they are removed.
  - Taint strings are C(key[=value]:Effect) as k3s' C(node-taint) takes them, checked with
    the kubelet's rules (the C(onprem.stack.k8s_taints) filter).
options:
  _input:
    description: The inventory's groups (dict, group name to list of host names), Ansible's C(groups).
    type: dict
    required: true
  gpu_taints:
    description: The taints of GPU nodes under the rule, C(k3s_gpu_node_taints).
    type: list
    elements: str
    required: true
  taints:
    description: C(nvidia_node_taints); null applies the rule, a list (possibly empty) replaces it.
    type: list
    elements: str
  node_taints:
    description: Per host name, that host's own C(k3s_node_taints) (list of str); hosts not named have none.
    type: dict
  gpu_hosts:
    description: Further GPU hosts outside group gpu (found by onprem.stack.gpu_facts).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Taints of this GPU node
  ansible.builtin.debug:
    msg: "{{ (groups | onprem.stack.gpu_node_taints(['nvidia.com/gpu=true:NoSchedule']))[inventory_hostname] }}"
"""

RETURN = r"""
_value:
  description:
    - Per GPU host (host name), C(present) (list of str, the taints it must carry) and
      C(absent) (list of str, GPU taints it must not carry). Hosts without a GPU
      are not keys; only k3s nodes count as non-GPU nodes.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.k8s_taints import parse_taint

K3S_GROUPS = ("k3s_server", "k3s_agent")
# Effects that keep a pod without the toleration off a node (Kubernetes "Taints and
# Tolerations"); PreferNoSchedule only steers.
HARD_EFFECTS = ("NoSchedule", "NoExecute")


def _taint_list(value, name):
    """``value`` (list of str) after each string passed parse_taint; ``name`` names the variable."""
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("gpu_node_taints: %s must be a list of taints key[=value]:Effect, got %r"
                                 % (name, value))
    for text in value:
        try:
            parse_taint(text)
        except AnsibleFilterError as exc:
            raise AnsibleFilterError("gpu_node_taints: %s: %s" % (name, exc.message))
    return list(value)


def _unique(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def gpu_node_taints(groups, gpu_taints, taints=None, node_taints=None, gpu_hosts=None):
    """Return the taints of each GPU k3s node under the rule (see DOCUMENTATION).

    :param groups: dict, group name (str) to host names (list of str), Ansible's ``groups``.
    :param gpu_taints: list of str, ``k3s_gpu_node_taints``.
    :param taints: None (the rule) or list of str, ``nvidia_node_taints``.
    :param node_taints: dict, host name to that host's ``k3s_node_taints`` (list of str).
    :param gpu_hosts: list of str, GPU hosts found outside group ``gpu``.
    :returns: dict, host name to ``{"present": [str], "absent": [str]}``, for every GPU host (group
        ``gpu`` or ``gpu_hosts``); only k3s nodes (groups k3s_server, k3s_agent) count as non-GPU nodes.
    :raises AnsibleFilterError: naming the variable and the value, when a value is not of
        the expected shape or a taint string breaks the kubelet's rules.
    """
    if not isinstance(groups, dict):
        raise AnsibleFilterError("gpu_node_taints: the input must be the inventory's groups (a dict), got %r" % (groups,))
    gpu_taints = _taint_list(gpu_taints, "k3s_gpu_node_taints")
    if taints is not None:
        taints = _taint_list(taints, "nvidia_node_taints")
    node_taints = node_taints or {}
    if not isinstance(node_taints, dict):
        raise AnsibleFilterError("gpu_node_taints: node_taints must map host names to k3s_node_taints, got %r"
                                 % (node_taints,))
    own = {host: _taint_list(value or [], "k3s_node_taints of %s" % host) for host, value in node_taints.items()}
    gpu = set(groups.get("gpu") or []) | set(gpu_hosts or [])
    nodes = _unique([h for g in K3S_GROUPS for h in groups.get(g) or []])
    free = [h for h in nodes if h not in gpu
            and not any(parse_taint(t)["effect"] in HARD_EFFECTS for t in own.get(h, []))]
    if taints is None:
        present = gpu_taints if free else []
    else:
        present = taints
    # kubernetes.core.k8s_taint matches taints by key and effect (its _equal_dicts).
    kept = [(parse_taint(t)["key"], parse_taint(t)["effect"]) for t in present]
    absent = [t for t in _unique(gpu_taints + (taints or []))
              if (parse_taint(t)["key"], parse_taint(t)["effect"]) not in kept]
    # Every GPU host gets the rule, also one outside the k3s groups whose node joined another
    # way (an agent joined by hand; the cluster scenario's kwok node); only k3s nodes count as free.
    gpu_nodes = _unique(nodes + list(groups.get("gpu") or []) + list(gpu_hosts or []))
    return {h: {"present": list(present), "absent": absent} for h in gpu_nodes if h in gpu}


class FilterModule(object):
    def filters(self):
        return {"gpu_node_taints": gpu_node_taints}

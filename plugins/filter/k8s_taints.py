# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.k8s_taints``: taint strings (``key[=value]:Effect``) as Kubernetes taint objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k8s_taints
short_description: Taints written as k3s' node-taint strings, as Kubernetes taint objects
version_added: 0.3.0
description:
  - Turns each taint written as k3s' C(node-taint) and C(kubectl taint) take it,
    C(key[=value]:Effect) (e.g. V(nvidia.com/gpu=true:NoSchedule)), into the taint object
    of a Node's C(spec.taints) (C({key, value, effect})) that M(kubernetes.core.k8s_taint)
    takes. C(value) is an empty string when the taint has none.
  - "The syntax and rules are the kubelet's and kubectl's (k8s.io/kubernetes
    pkg/util/taints ParseTaint): the key is a qualified name (an optional DNS subdomain
    prefix and C(/), then at most 63 characters of letters, digits, C(-), C(_), C(.),
    starting and ending with a letter or digit), the value a label value (at most 63
    such characters, possibly empty), the effect one of C(NoSchedule),
    C(PreferNoSchedule), C(NoExecute)."
options:
  _input:
    description: Taint strings (list of str).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Taint the GPU node
  kubernetes.core.k8s_taint:
    name: gpu-1
    taints: "{{ ['nvidia.com/gpu=true:NoSchedule'] | onprem.stack.k8s_taints }}"
"""

RETURN = r"""
_value:
  description: One C({key, value, effect}) dict (str values) per taint string, in order.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.module_utils._validate._kube import (
    TAINT_EFFECTS as EFFECTS, is_label_value, is_qualified_name)


def parse_taint(text):
    """Return the taint object (dict: key, value, effect; str) of one taint string.

    :param text: ``key[=value]:Effect`` (str), as k3s' ``node-taint`` takes it.
    :raises AnsibleFilterError: naming the string and what is wrong with it (syntax, key,
        value or effect), after the kubelet's rules (k8s.io/kubernetes pkg/util/taints).
    """
    if not isinstance(text, str):
        raise AnsibleFilterError("k8s_taints: %r is not a string (want key[=value]:Effect)" % (text,))
    spec, sep, effect = text.rpartition(":")
    if not sep or not spec:
        raise AnsibleFilterError("k8s_taints: %r has no effect (want key[=value]:Effect, e.g. "
                                 "nvidia.com/gpu=true:NoSchedule)" % text)
    key, _sep, value = spec.partition("=")
    if not is_qualified_name(key):
        raise AnsibleFilterError("k8s_taints: %r: key %r is not a qualified name (an optional DNS subdomain "
                                 "prefix and '/', then up to 63 letters, digits, '-', '_', '.', starting and "
                                 "ending with a letter or digit)" % (text, key))
    if not is_label_value(value):
        raise AnsibleFilterError("k8s_taints: %r: value %r is not a label value (up to 63 letters, digits, '-', "
                                 "'_', '.', starting and ending with a letter or digit)" % (text, value))
    if effect not in EFFECTS:
        raise AnsibleFilterError("k8s_taints: %r: effect %r is not one of %s" % (text, effect, ", ".join(EFFECTS)))
    return {"key": key, "value": value, "effect": effect}


def k8s_taints(taints):
    """Return the taint objects (list of dict) of ``taints`` (list of str); see parse_taint.

    :raises AnsibleFilterError: when ``taints`` is not a list, or for the first bad string."""
    if not isinstance(taints, (list, tuple)):
        raise AnsibleFilterError("k8s_taints: want a list of taint strings, got %r" % (taints,))
    return [parse_taint(t) for t in taints]


class FilterModule(object):
    def filters(self):
        return {"k8s_taints": k8s_taints}

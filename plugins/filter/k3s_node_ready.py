# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.k3s_node_ready``: is a node back, with the kubelet the role installed, after a (re)start?"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k3s_node_ready
short_description: Whether a k3s node is Ready with the installed kubelet and has reported since a restart
version_added: 0.3.0
description:
  - Decides the k3s role's Ready wait from the Node object (and optionally its Lease) as
    C(kubectl get -n kube-node-lease lease/<node> node/<node> -o json) prints them.
  - "A node is back when all hold: its C(Ready) condition is C(True); the Kubernetes part
    (before C(+)) of C(status.nodeInfo.kubeletVersion) equals that of O(version) (k3s
    reports V(v1.31.4+k3s1), a plain kubelet V(v1.31.4)); and, when O(since) is given, the
    kubelet reported after O(since): the Ready condition's C(lastHeartbeatTime) or the
    Lease's C(spec.renewTime) is later than O(since)."
  - "Why the heartbeat: after a restart the Ready condition stays C(True) until the
    controller manager's node-monitor grace period (40 s by default) passes without a
    report, so Ready alone passes at once. The kubelet renews its Lease every 10 s but
    posts node status only on a change or every 5 minutes, so either time counts."
  - "Formats: Kubernetes API v1 Node (k8s.io/api core/v1 NodeStatus: C(conditions[].type),
    C(status), C(lastHeartbeatTime) a metav1.Time in RFC 3339, C(nodeInfo.kubeletVersion))
    and coordination.k8s.io/v1 Lease (C(spec.renewTime), a metav1.MicroTime in RFC 3339
    with microseconds); a C(kind: List) holding them is accepted."
options:
  _input:
    description: A Node object, or a List whose C(items) hold the Node and possibly its Lease (dict, parsed JSON).
    type: dict
    required: true
  version:
    description: The k3s release the role installed (C(k3s_version), e.g. V(v1.31.4+k3s1)).
    type: str
    required: true
  since:
    description:
      - Seconds since the epoch (the host's clock) when k3s was (re)started; empty or
        null when it was not restarted (then no heartbeat is required).
      - The kubelet writes its times with the same host's clock, so no clock skew enters.
    type: raw
"""

EXAMPLES = r"""
- name: Wait until the node is back after the restart
  ansible.builtin.command:
    argv: [k3s, kubectl, get, -n, kube-node-lease, "lease/{{ node }}", "node/{{ node }}", -o, json]
  register: __node
  changed_when: false
  retries: 60
  delay: 5
  until: >-
    __node.rc == 0 and (__node.stdout | from_json
    | onprem.stack.k3s_node_ready(k3s_version, since=restart_epoch)).ready
"""

RETURN = r"""
_value:
  description: C(ready) (bool) and C(reason) (str, a sentence naming the node and what is missing or found).
  type: dict
"""

import calendar
import re

from ansible.errors import AnsibleFilterError

_RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_VERSION_RE = re.compile(r"^v?([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)(\+[0-9A-Za-z.-]+)?$")


def parse_rfc3339(text):
    """Seconds since the epoch (float) of an RFC 3339 time (str), as the Kubernetes API writes
    metav1.Time (``2026-12-04T21:00:00Z``) and metav1.MicroTime (``...:00.123456Z``).

    :raises ValueError: when ``text`` is not an RFC 3339 date-time (RFC 3339 section 5.6).
    """
    match = _RFC3339_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError("%r is not an RFC 3339 time" % (text,))
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) + float(match.group(7) or 0)
    zone = match.group(8)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        epoch -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return epoch


def _kubernetes_version(version):
    """The Kubernetes part (str, e.g. ``1.31.4``) of a k3s tag or kubelet version, or None."""
    match = _VERSION_RE.match(version) if isinstance(version, str) else None
    return match.group(1) if match else None


def _objects(value):
    """(node, lease or None) from a Node or a List of items; raises AnsibleFilterError without a Node."""
    items = value.get("items") if isinstance(value, dict) and value.get("kind") == "List" else [value]
    items = [i for i in (items or []) if isinstance(i, dict)]
    nodes = [i for i in items if i.get("kind") == "Node"]
    if not nodes:
        raise AnsibleFilterError("k3s_node_ready: the input is neither a Node nor a List holding one (found %s); pass "
                                 "the parsed output of kubectl get node/<name> -o json"
                                 % (", ".join(sorted(set(str(i.get("kind")) for i in items))) or type(value).__name__))
    leases = [i for i in items if i.get("kind") == "Lease"]
    return nodes[0], (leases[0] if leases else None)


def _since(since):
    """The restart time (float seconds) or None; raises AnsibleFilterError naming a bad value."""
    if since is None or (isinstance(since, str) and not since.strip()):
        return None
    try:
        if isinstance(since, bool):
            raise ValueError
        return float(since)
    except (TypeError, ValueError):
        raise AnsibleFilterError("k3s_node_ready: since %r is not seconds since the epoch (the restart time, "
                                 "e.g. the output of date +%%s on the node)" % (since,))


def _time(obj, path, text):
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise AnsibleFilterError("k3s_node_ready: %s %s %r is not an RFC 3339 time (as the Kubernetes API writes "
                                 "it, e.g. 2026-12-04T21:00:00Z)" % (obj, path, text))


def k3s_node_ready(value, version, since=None):
    """Whether the node is back (see DOCUMENTATION).

    :param value: dict, a Kubernetes v1 Node, or a ``kind: List`` with the Node and
        optionally its coordination.k8s.io/v1 Lease in ``items``.
    :param version: str, the k3s release tag installed (``v1.31.4+k3s1``).
    :param since: float/int/str seconds since the epoch of the restart, or None/'' for none.
    :returns: dict ``{"ready": bool, "reason": str}``.
    :raises AnsibleFilterError: when the input holds no Node, ``version`` is not a release
        tag, ``since`` is not a number, or a time the API wrote is not RFC 3339.
    """
    want = _kubernetes_version(version)
    if not want or not isinstance(version, str) or "+k3s" not in version:
        raise AnsibleFilterError("k3s_node_ready: k3s_version %r is not a k3s release tag such as v1.31.4+k3s1"
                                 % (version,))
    restart = _since(since)
    node, lease = _objects(value)
    name = (node.get("metadata") or {}).get("name", "?")
    status = node.get("status") or {}
    ready = [cond for cond in status.get("conditions") or [] if isinstance(cond, dict) and cond.get("type") == "Ready"]
    if not ready:
        return {"ready": False, "reason": "node %s has no Ready condition yet" % name}
    if ready[0].get("status") != "True":
        return {"ready": False, "reason": "node %s: Ready condition is %s" % (name, ready[0].get("status"))}
    kubelet = (status.get("nodeInfo") or {}).get("kubeletVersion", "")
    if _kubernetes_version(kubelet) != want:
        reason = "node %s runs kubelet %s, not yet v%s (%s)" % (name, kubelet or "(none)", want, version)
        return {"ready": False, "reason": reason}
    if restart is not None:
        heartbeat = ready[0].get("lastHeartbeatTime") or ""
        times = [_time("node %s" % name, "Ready lastHeartbeatTime", heartbeat)] if heartbeat else []
        renew = ((lease or {}).get("spec") or {}).get("renewTime") or ""
        if renew:
            times.append(_time("lease %s" % name, "renewTime", renew))
        if not any(t > restart for t in times):
            return {"ready": False, "reason": "node %s: no heartbeat since the restart at %d (Ready lastHeartbeatTime "
                    "%s, lease renewTime %s)" % (name, restart, heartbeat or "(none)", renew or "(none)")}
    return {"ready": True, "reason": "node %s is Ready, kubelet %s" % (name, kubelet)}


class FilterModule(object):
    """Ansible filter plugin entry point."""

    def filters(self):
        """The filters this file provides (dict: name to function)."""
        return {"k3s_node_ready": k3s_node_ready}

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.cidr_overlaps``: which of several named networks overlap."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cidr_overlaps
short_description: Name the pairs of networks (CIDRs or addresses) that overlap
version_added: 0.3.0
description:
  - Takes a dict of name to network and returns one message per overlapping pair, e.g.
    C(cluster-cidr 10.42.0.0/16 overlaps service-cidr 10.42.128.0/17). An empty list
    means no overlap. The k3s role uses it for C(cluster-cidr), C(service-cidr) and the node address.
  - A value may hold several networks separated by commas (k3s dual-stack notation,
    C(10.42.0.0/16,2001:cafe:42::/56)); a plain address counts as a /32 (/128) network.
  - Networks are parsed with Python's C(ipaddress) module, host bits allowed (C(strict=False)).
options:
  _input:
    description: Dict of name (str) to network (str).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Pod and service networks do not overlap
  ansible.builtin.assert:
    that: "{{ {'cluster-cidr': '10.42.0.0/16', 'service-cidr': '10.43.0.0/16'} | onprem.stack.cidr_overlaps | length == 0 }}"
"""

RETURN = r"""
_value:
  description: One message per overlapping pair, in the order of the input; empty when none overlap.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net


def cidr_overlaps(networks):
    """Return messages naming each pair of overlapping networks.

    :param networks: dict of name (str) to a network, address, or comma-separated list of them (str).
    :returns: list of str, one per overlapping pair (empty when none overlap).
    :raises AnsibleFilterError: when the input is not a dict or a value is not a network or address,
        naming the entry and the value found.
    """
    if not isinstance(networks, dict):
        raise AnsibleFilterError("cidr_overlaps: expected a dict of name to network, got %r" % (networks,))
    # One rule for the filter and the validators (plugins/module_utils/_validate/_net.py).
    found = net.cidr_overlaps(networks)
    for problem in found:
        if problem.endswith("which is not a CIDR network or IP address"):
            raise AnsibleFilterError("cidr_overlaps: %s" % problem)
    return found


class FilterModule(object):
    """onprem.stack network filters."""

    def filters(self):
        return {"cidr_overlaps": cidr_overlaps}

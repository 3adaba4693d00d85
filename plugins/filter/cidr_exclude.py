# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.cidr_exclude``: the addresses that lie in none of some networks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cidr_exclude
short_description: Keep the IP addresses that lie in none of the given networks
version_added: 0.3.0
description:
  - Returns the addresses of the input, in order, without those inside any of the networks
    given as the argument. The pki role uses it to leave the k3s pod and service networks
    out of a host certificate's addresses (C(cni0), C(flannel.1) and the like appear once
    k3s runs on a host, and would otherwise change the certificate on the next run).
  - A network may be a comma-separated list (k3s dual-stack notation,
    C(10.42.0.0/16,2001:cafe:42::/56)); parsed with Python's C(ipaddress), host bits allowed.
options:
  _input:
    description: IP addresses (list of str).
    type: list
    elements: str
    required: true
  networks:
    description: Networks (list of str, each a CIDR, an address, or a comma-separated list of them).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The host's addresses outside the pod and service networks
  ansible.builtin.debug:
    msg: "{{ ansible_facts['all_ipv4_addresses'] | onprem.stack.cidr_exclude(['10.42.0.0/16', '10.43.0.0/16']) }}"
"""

RETURN = r"""
_value:
  description: The input addresses (str) that lie in none of the networks, in input order.
  type: list
  elements: str
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def cidr_exclude(addresses, networks):
    """Return the addresses (list of str) of ``addresses`` outside every network of ``networks``.

    :param addresses: IP addresses (list of str).
    :param networks: networks (list of str; each a CIDR, an address or a comma-separated list).
    :raises AnsibleFilterError: when an input is not a list, an address is not an IP address or a
        network not a network, naming the value found.
    """
    if not isinstance(addresses, (list, tuple)) or not isinstance(networks, (list, tuple)):
        raise AnsibleFilterError("cidr_exclude: expected a list of addresses and a list of networks, got %r and %r"
                                 % (addresses, networks))
    nets = []
    for value in networks:
        for part in to_text(value).split(","):
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise AnsibleFilterError("cidr_exclude: network %r is not a CIDR network or IP address" % part)
    out = []
    for addr in addresses:
        try:
            ip = ipaddress.ip_address(to_text(addr).strip())
        except ValueError:
            raise AnsibleFilterError("cidr_exclude: %r is not an IP address" % (addr,))
        if not any(ip.version == n.version and ip in n for n in nets):
            out.append(addr)
    return out


class FilterModule(object):
    def filters(self):
        return {"cidr_exclude": cidr_exclude}

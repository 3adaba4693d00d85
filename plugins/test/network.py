# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Tests ``onprem.stack.cidr`` and ``onprem.stack.ip_address`` for inventory validation.

Formats: IPv4 dotted quad and IPv6 text (RFC 4291 section 2.2) with an optional
``/prefix`` (RFC 4632), parsed by Python's ``ipaddress`` module (strict: host bits
may be set, octets must be 0-255, the prefix 0-32 or 0-128).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net

DOCUMENTATION = r"""
name: cidr
short_description: Whether a string is an IPv4 or IPv6 network in CIDR form
version_added: 0.2.0
description:
  - True for C(a.b.c.d/n) (octets 0-255, n 0-32) or C(ipv6/n) (n 0-128); host bits may be set.
  - The companion test C(onprem.stack.ip_address) is true for one address without a prefix.
options:
  _input:
    description: The value to test; anything that is not a string is false.
    type: raw
    required: true
"""

EXAMPLES = r"""
- ansible.builtin.assert:
    that: "'10.0.0.0/8' is onprem.stack.cidr"
"""

RETURN = r"""
_value:
  description: Whether the value is a network in CIDR form.
  type: bool
"""


def cidr(value):
    """Return True when value (str) is ``address/prefix`` with a valid IPv4/IPv6 address and prefix.

    Never raises: non-strings and malformed text give False (``_validate._net.is_cidr``).
    """
    return net.is_cidr(value)


def ip_address(value):
    """Return True when value (str) is one IPv4 or IPv6 address (no prefix). Never raises (``_validate._net.is_ip_address``)."""
    return net.is_ip_address(value)


class TestModule(object):
    """Ansible test plugin entry point."""

    def tests(self):
        return {"cidr": cidr, "ip_address": ip_address}

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the registry TLS and authentication options; argument spec:
module_utils/_argspec.py registry_argument_spec()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  tls_verify:
    description: Verify the TLS certificates of the registries.
    type: bool
    default: true
  ca_cert_dir:
    description:
      - Directory of C(*.crt) CA certificates (PEM) trusted for the registries, in
        addition to the system's.
    type: path
  authfile:
    description:
      - containers-auth.json(5) file with registry credentials.
      - Not used when O(username) is given.
    type: path
  username:
    description:
      - Registry user name; requires O(password).
    type: str
  password:
    description:
      - Password of O(username). It is written to a containers-auth.json(5) file (mode
        0600) in the module's temporary directory, removed when the module ends, and
        never appears on a command line or in the module's output.
    type: str
"""

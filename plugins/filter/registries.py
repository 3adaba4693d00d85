# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.k3s_registries``: the k3s ``registries.yaml`` content that
mirrors the public registries to the site registry.

Format: k3s "Private Registry Configuration"
(https://docs.k3s.io/installation/private-registry): ``mirrors.<registry>.endpoint``
(list of URLs) and ``configs.<host:port>.auth`` / ``.tls``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k3s_registries
short_description: Build k3s registries.yaml mirroring public registries to the site registry
version_added: 0.1.0
description:
  - Returns a dict to write as C(/etc/rancher/k3s/registries.yaml) with
    C(ansible.builtin.to_nice_yaml). Every registry in O(mirrored) is mirrored to
    C(https://<site_registry>) and the site registry is configured with its CA and
    credentials.
  - containerd still tries each registry's own endpoint after its mirrors unless k3s
    runs with C(disable-default-registry-endpoint) (k3s v1.26.13+ config.yaml or flag);
    the k3s role sets it with O(stack_airgap), this filter only writes registries.yaml.
options:
  _input:
    description: Site registry C(host[:port]).
    type: str
    required: true
  ca_file:
    description: Path of the site CA certificate on the k3s node.
    type: str
    required: true
  username:
    description: Registry user name (omit for anonymous pulls).
    type: str
  password:
    description: Password of O(username).
    type: str
  mirrored:
    description: Registries whose images come from the site registry.
    type: list
    elements: str
    default: [docker.io, ghcr.io, quay.io, registry.k8s.io, nvcr.io]
"""

EXAMPLES = r"""
- name: Write registries.yaml
  ansible.builtin.copy:
    content: "{{ 'registry.site:5000' | onprem.stack.k3s_registries(ca_file='/etc/rancher/k3s/site-ca.crt',
                 username='k3s', password=registry_k3s_password) | ansible.builtin.to_nice_yaml }}"
    dest: /etc/rancher/k3s/registries.yaml
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: A dict with keys C(mirrors) and C(configs), as k3s reads them.
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

DEFAULT_MIRRORED = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "nvcr.io"]
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                   r"|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$")


def k3s_registries(site_registry, ca_file, username=None, password=None, mirrored=None):
    """Return the registries.yaml dict (see module DOCUMENTATION).

    :raises AnsibleFilterError: when ``site_registry`` is not ``host[:port]``, ``ca_file``
        is empty, a mirrored name is not a registry host, or only one of
        username/password is given.
    """
    if not isinstance(site_registry, str) or not _HOST.match(site_registry):
        raise AnsibleFilterError("k3s_registries: site registry must be host[:port], got %r" % (site_registry,))
    if not ca_file:
        raise AnsibleFilterError("k3s_registries: ca_file (the site CA on the node) is required")
    if bool(username) != bool(password):
        raise AnsibleFilterError("k3s_registries: give both username and password, or neither")
    mirrored = DEFAULT_MIRRORED if mirrored is None else list(mirrored)
    mirrors = {}
    for name in mirrored:
        if not isinstance(name, str) or not _HOST.match(name):
            raise AnsibleFilterError("k3s_registries: mirrored entry %r is not a registry host" % (name,))
        mirrors[name] = {"endpoint": ["https://%s" % site_registry]}
    # The site registry itself, so images referenced by its own name resolve too.
    mirrors.setdefault(site_registry, {"endpoint": ["https://%s" % site_registry]})
    config = {"tls": {"ca_file": ca_file}}
    if username:
        config["auth"] = {"username": username, "password": password}
    return {"mirrors": mirrors, "configs": {site_registry: config}}


class FilterModule(object):
    """onprem.stack filters."""

    def filters(self):
        return {"k3s_registries": k3s_registries}

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Argument specs of the option groups shared by several modules.

Each function returns a new dict on every call, so a module may change its copy
(add a default, merge it into its own spec) without touching another module's. Each
group is documented once, in the doc fragment of the same name
(``plugins/doc_fragments/<group>.py``), which the module names in
``extends_documentation_fragment``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def helm_argument_spec():
    """Options of the helm binary (doc fragment ``onprem.stack.helm``).

    :returns: dict, AnsibleModule argument_spec entries: ``helm_binary`` (path or None).
    """
    return dict(
        helm_binary=dict(type="path"),
    )


def kubeconfig_argument_spec():
    """Options that choose the cluster helm talks to (doc fragment ``onprem.stack.kubeconfig``).

    :returns: dict, AnsibleModule argument_spec entries: ``kubeconfig`` (path or None)
        and ``context`` (str or None).
    """
    return dict(
        kubeconfig=dict(type="path"),
        context=dict(type="str"),
    )


def release_argument_spec():
    """Options naming a helm release (doc fragment ``onprem.stack.release``).

    :returns: dict, AnsibleModule argument_spec entries: ``name`` and ``namespace``
        (str, both required).
    """
    return dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
    )


def registry_argument_spec():
    """Registry TLS and authentication options (doc fragment ``onprem.stack.registry``).

    :returns: dict, AnsibleModule argument_spec entries: ``tls_verify`` (bool, default
        True), ``ca_cert_dir`` and ``authfile`` (path or None), ``username`` (str or
        None) and ``password`` (str or None, ``no_log``). A module using them declares
        ``required_together=[("username", "password")]``.
    """
    return dict(
        tls_verify=dict(type="bool", default=True),
        ca_cert_dir=dict(type="path"),
        authfile=dict(type="path"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
    )

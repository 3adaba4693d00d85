# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.registry role's inventory input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c

USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def validate(params, context):
    """Return the problems (list of Problem) of the registry role's input on one host.

    :param params: dict of the role's variables (``registry_*``) as Ansible rendered them;
        users' passwords are read by no rule and never printed.
    :param context: dict with ``bundle_dir`` (str: the bundle directory on the control
        node, ``_registry_bundle_dir``), read when ``registry_load_bundle`` is true.
    :returns: list of Problem, empty when the input is acceptable. Reads the control node's
        file system (bundle.json); never raises on bad values.
    """
    p = params
    problems = []
    add = problems.append
    port = p.get("registry_port")
    if not c.is_port(port):
        add(c.Problem("registry_port", "registry_port must be 1-65535 (is %s)." % c.text(port), c.SRC_TCP))
    users = p.get("registry_users")
    if not c.is_list(users) or not users:
        add(c.Problem("registry_users", "registry_users must be a non-empty list of {name: letters, digits, . _ -; "
                      "password?} (is %s)." % (users if c.is_list(users) else c.type_name(users)),
                      c.SRC_ROLE.format(role="registry")))
        users = []
    names = [u.get("name") if c.is_mapping(u) else None for u in users]
    for idx, name in enumerate(names):
        if not isinstance(name, str) or not USER_RE.match(name):
            add(c.Problem("registry_users[%d].name" % idx,
                          "registry_users[%d]: name '%s' must be letters, digits, . _ - (starting with a letter or "
                          "digit)." % (idx, c.text(name)), c.SRC_HTPASSWD))
    for name in c.duplicates(names):
        add(c.Problem("registry_users", "registry_users: '%s' appears more than once." % c.text(name), c.SRC_HTPASSWD))
    cert, key = c.text(p.get("registry_tls_cert")), c.text(p.get("registry_tls_key"))
    if bool(cert) != bool(key):
        add(c.Problem("registry_tls_cert", "registry_tls_cert ('%s') and registry_tls_key ('%s') must be given together."
                      % (cert, key), c.SRC_REGISTRY))
    if c.as_bool(p.get("registry_load_bundle")):
        bundle_json = "%s/bundle.json" % c.text(context.get("bundle_dir"))
        if not os.path.exists(bundle_json):
            add(c.Problem("registry_load_bundle",
                          "registry_load_bundle is true but %s does not exist on the control node (stack_bundle_dir). "
                          "Build the bundle with playbooks/bundle.yml, or set registry_load_bundle: false."
                          % bundle_json, c.SRC_ROLE.format(role="registry")))
    return problems

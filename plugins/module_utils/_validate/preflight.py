# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the inventory input that preflight checks itself (beyond each role's own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c

# The services that listen on a host, by group: (group, variable, the role's default port).
SERVICE_PORTS = (("postgres", "postgresql_port", 5432), ("redis", "redis_port", 6379),
                 ("registry", "registry_port", 5000))


def path_mode(path):
    """The permission bits of ``path`` as four octal digits (str, e.g. ``'0700'``); '' when absent."""
    try:
        return "%04o" % stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return ""


def validate(params, context):
    """Return the problems (list of Problem) of the inventory input preflight checks on one host.

    :param params: dict with ``stack_credentials_dir`` (str, optional: the control node's
        directory of generated secrets) and the service ports ``postgresql_port``,
        ``redis_port``, ``registry_port`` (int or str, optional: the roles' defaults apply).
    :param context: dict with ``host`` (str: inventory_hostname) and ``groups`` (list of str:
        group_names).
    :returns: list of Problem, empty when the input is acceptable. Reads the mode of
        ``stack_credentials_dir`` on the control node; never raises on bad values.
    """
    p = params
    problems = []
    if "stack_credentials_dir" in p:
        creds = p["stack_credentials_dir"]
        mode = path_mode(creds) if c.is_absolute_path(creds) else ""
        if not c.is_absolute_path(creds) or int(mode or "0", 8) % 64 != 0:
            problems.append(c.Problem(
                "stack_credentials_dir",
                "stack_credentials_dir must be an absolute path on the control node that group and others cannot read "
                "(mode 0700; it holds generated secrets); found '%s' (mode %s)." % (c.text(creds), mode or "absent"),
                "POSIX file modes (chmod(2)); the credential lookup's contract (plugins/lookup/credential.py)"))
    groups = context.get("groups") or []
    owners = {}
    for group, var, default in SERVICE_PORTS:
        if group in groups:
            owners.setdefault(c.text(p.get(var, default)), []).append(var)
    for port, names in owners.items():
        if len(names) > 1:
            problems.append(c.Problem(
                names[0], "%s: %s name the same port (%s); each service on a host needs its own port."
                % (context.get("host"), ", ".join(names), port), "TCP: one listener per address and port (bind(2))"))
    return problems

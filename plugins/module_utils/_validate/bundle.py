# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.bundle role's input (types: meta/argument_specs.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c

_OS_TARGET_RE = re.compile(r"^[a-z]+-[0-9]+$")
_SHA256_ANY_CASE_RE = re.compile(r"^([0-9a-fA-F]{64})?$")
# split -b SIZE: a number with an optional K, M or G multiplier (1024-based).
SPLIT_UNITS = ("", "K", "M", "G")


def validate(params, context):
    """Return the problems (list of Problem) of the bundle role's input.

    :param params: dict of the role's variables (``bundle_*``) as Ansible rendered them.
    :param context: unused (dict); the bundle's rules are its own variables'.
    :returns: list of Problem, empty when the input is acceptable. Never raises on bad values.
    """
    p = params
    problems = []
    add = problems.append
    if c.as_bool(p.get("bundle_binaries", True)):
        for var, pattern, expected, source in (
                ("bundle_k3s_version", c.K3S_VERSION_RE, "a k3s release tag such as v1.37.2+k3s1", c.SRC_K3S_RELEASES),
                ("bundle_helm_version", c.HELM_VERSION_RE, "a helm release tag such as v4.3.0", c.SRC_HELM_RELEASES)):
            value = p.get(var)
            if not isinstance(value, str) or not pattern.match(value):
                add(c.Problem(var, "%s is %s; expected %s." % (var, json.dumps(c.text(value)), expected), source))
    targets = [t for t in p.get("bundle_os_targets") or [] if c.is_mapping(t)]
    names = [t.get("name") for t in targets]
    for target in targets:
        name = target.get("name")
        if not isinstance(name, str) or not _OS_TARGET_RE.match(name) or names.count(name) != 1:
            add(c.Problem("bundle_os_targets", "bundle_os_targets has a target named %s; expected a unique "
                          "<distribution>-<major version> in lower case, the name a host of that OS looks for (e.g. "
                          "debian-13, ubuntu-24; not ubuntu-24.04)." % json.dumps(c.text(name)),
                          "os-release(5) ID and VERSION_ID major; roles/airgap (repos/<name>)"))
        if "packages" in target and not target.get("packages"):
            add(c.Problem("bundle_os_targets", "bundle_os_targets entry %s has packages: []; expected a non-empty list, "
                          "or no packages key to use the list derived from the roles." % c.text(name),
                          c.SRC_ROLE.format(role="bundle")))
    files = [f for f in p.get("bundle_files") or [] if c.is_mapping(f)]
    dests = [f.get("dest") for f in files]
    for item in files:
        dest, sha = c.text(item.get("dest")), item.get("sha256", "")
        if (dest.startswith("/") or c.escapes(dest) or dests.count(item.get("dest")) != 1
                or not _SHA256_ANY_CASE_RE.match(c.text(sha))):
            add(c.Problem("bundle_files", "bundle_files entry %s has dest %s and sha256 %s; expected a unique relative "
                          "path under files/ without '..' (e.g. models/tiny.bin) and an optional 64-digit hex sha256."
                          % (c.text(item.get("url")), json.dumps(dest), json.dumps(c.text(sha))), c.SRC_SHA256))
    part_size = c.text(p.get("bundle_pack_part_size"))
    if not c.is_size(part_size, SPLIT_UNITS):
        add(c.Problem("bundle_pack_part_size", "bundle_pack_part_size is %s; expected a size as split -b takes it (a "
                      "number with an optional K, M or G suffix, e.g. 2G), or \"0\" for one file."
                      % json.dumps(part_size), c.SRC_SPLIT))
    return problems

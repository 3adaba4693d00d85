# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.airgap role's inventory input (run with stack_airgap)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c

_HOST_DIR_RE = re.compile(r"^/[^ ]*[^/ ]$")


def validate(params, context):
    """Return the problems (list of Problem) of the airgap role's input on one host.

    :param params: dict of the role's variables (``airgap_*``) as Ansible rendered them.
    :param context: dict with ``bundle_dir`` (str: the bundle on the control node) and
        ``os_id`` (str: ``<distribution>-<major>`` of the host, e.g. debian-13).
    :returns: list of Problem, empty when the input is acceptable. Reads the control node's
        file system (the bundle's apt repository for the host's OS); never raises.
    """
    problems = []
    host_dir = params.get("airgap_host_bundle_dir")
    if not isinstance(host_dir, str) or not _HOST_DIR_RE.match(host_dir):
        problems.append(c.Problem("airgap_host_bundle_dir",
                                  "airgap_host_bundle_dir must be an absolute directory path without spaces or a "
                                  "trailing slash (e.g. /var/lib/onprem-bundle); found %s." % json.dumps(c.text(host_dir)),
                                  "apt sources.list file: URIs (manpages.debian.org sources.list(5))"))
    bundle_dir, os_id = c.text(context.get("bundle_dir")), c.text(context.get("os_id"))
    if not os.path.exists("%s/repos/%s/Packages" % (bundle_dir, os_id)):
        problems.append(c.Problem("stack_bundle_dir",
                                  "stack_airgap is true but the bundle %s (stack_bundle_dir) has no apt repository for "
                                  "%s (repos/%s/Packages). Add {name: %s, image: <a %s container image>} to "
                                  "bundle_os_targets and rebuild the bundle with playbooks/bundle.yml."
                                  % (bundle_dir, os_id, os_id, os_id, os_id),
                                  "apt flat repositories (wiki.debian.org/DebianRepository/Format)"))
    return problems

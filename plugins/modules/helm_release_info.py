#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release_info
short_description: Read a Helm release as onprem.stack.helm_release compares it
version_added: 0.2.0
description:
  - Reads release O(name) in O(namespace) with C(helm status -o json) and C(helm history
    -o json) and returns its status, revision history, user values and the sha256 of its
    manifest, which is what M(onprem.stack.helm_release) compares with the chart it is given.
  - Read-only. A release that does not exist is not an error (RV(exists) is false).
  - The user values are returned as helm stores them, masked as
    M(onprem.stack.helm_release) masks them in its reasons and diff - values under
    secret-looking keys (C(password), C(secret), C(token), C(key), C(credential), C(cert),
    C(jwt), C(auth), C(dsn), C(salt), ...) and at any depth below one are C(********), and
    every URL password is masked (C(postgresql://app:********@db/app)) - so they are
    meant for reading what is deployed, not for reusing secrets. The manifest itself is
    not returned.
  - "Values that M(onprem.stack.helm_release) took from its
    O(onprem.stack.helm_release#module:secret_values_files) are masked too, whatever their
    key: helm_release records their key paths (never the values) in the revision's
    description (C(secret_paths=))."
  - "Any other value that is secret under an ordinary key and not in a URL is not
    recognised: register the result with C(no_log: true) where values may hold such secrets."
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.release
  - onprem.stack.helm
  - onprem.stack.kubeconfig
attributes:
  check_mode:
    support: full
    description: The module changes nothing; check mode returns the same result.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
options:
  history_max:
    description: Number of newest revisions returned in RV(history).
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Read the demo release
  onprem.stack.helm_release_info:
    name: demo
    namespace: ai
  register: demo
  no_log: true

- name: Stop when it is stuck
  ansible.builtin.assert:
    that: demo.pending_age_seconds is not defined
    fail_msg: "demo is {{ demo.status }} since {{ demo.pending_age_seconds }} s"
"""

RETURN = r"""
exists:
  description: Whether the release has a revision (in any status other than C(uninstalled)).
  returned: always
  type: bool
status:
  description: Status of the last revision (C(deployed), C(failed), C(pending-upgrade), ...); empty when none.
  returned: always
  type: str
revision:
  description: Last revision; 0 when none.
  returned: always
  type: int
history:
  description:
    - The newest O(history_max) revisions, oldest first, as C(helm history -o json) prints them.
  returned: always
  type: list
  elements: dict
  contains:
    revision:
      description: Revision number.
      type: int
    updated:
      description: When it was written (RFC 3339).
      type: str
    status:
      description: Its status.
      type: str
    chart:
      description: Chart as C(name-version).
      type: str
    app_version:
      description: The chart's C(appVersion).
      type: str
    description:
      description: helm's description (for revisions written by helm_release, the chart record).
      type: str
values:
  description:
    - User values of the last revision (C(helm get values)), values under secret-looking
      keys and at the paths recorded from secret values files replaced by C(********), and
      URL passwords masked (C(scheme://user:********@host)).
  returned: always
  type: dict
manifest_sha256:
  description: sha256 (hex) of the last revision's manifest, surrounding white space trimmed; empty when none.
  returned: always
  type: str
chart:
  description: Chart of the last revision as C(name-version); empty when none.
  returned: always
  type: str
app_version:
  description: The chart's C(appVersion); empty when none.
  returned: always
  type: str
description:
  description: Description of the last revision.
  returned: always
  type: str
pending_age_seconds:
  description: Seconds since the pending operation started.
  returned: when the status is C(pending-install), C(pending-upgrade) or C(pending-rollback)
  type: int
commands:
  description: The helm commands run, as argv lists.
  returned: always
  type: list
  elements: list
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._argspec import (
    helm_argument_spec, kubeconfig_argument_spec, release_argument_spec)
from ansible_collections.onprem.stack.plugins.module_utils._helm import Cluster, Helm, HelmError
from ansible_collections.onprem.stack.plugins.module_utils._release import (
    ReleaseState, manifest_sha256, recorded_secret_paths, utc_now)
from ansible_collections.onprem.stack.plugins.module_utils._values import mask_secrets


def main():
    argument_spec = release_argument_spec()
    argument_spec.update(history_max=dict(type="int", default=20))
    argument_spec.update(helm_argument_spec())
    argument_spec.update(kubeconfig_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    helm = Helm(module, p["helm_binary"])
    cluster = Cluster(p["namespace"], p["kubeconfig"], p["context"])
    result = dict(changed=False, exists=False, status="", revision=0, history=[], values={}, manifest_sha256="",
                  chart="", app_version="", description="", commands=helm.commands)
    try:
        data = helm.status(cluster, p["name"])
        if data is not None:
            state = ReleaseState(data)
            secret_paths = recorded_secret_paths(state.description)
            history = helm.history(cluster, p["name"], max(1, p["history_max"]))
            last = history[-1] if history else {}
            result.update(exists=state.status != "uninstalled", status=state.status, revision=state.revision,
                          history=history, values=mask_secrets(state.values, secret_paths=secret_paths), manifest_sha256=manifest_sha256(state.manifest),
                          chart=last.get("chart", ""), app_version=last.get("app_version", ""),
                          description=state.description)
            if state.pending:
                result["pending_age_seconds"] = state.age_seconds(utc_now())
    except HelmError as exc:
        module.fail_json(msg="release %s in namespace %s: %s" % (p["name"], p["namespace"], exc), cmd=exc.cmd,
                         rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""kubectl, for the one thing helm does not do: applying a chart's CRDs server-side.

A failure raises :class:`HelmError` (the CommandError of the helm wrapper, so callers
handle both tools' failures alike) with the command, rc, stdout and stderr.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.onprem.stack.plugins.module_utils._helm import HelmError


class Kubectl(object):
    """kubectl, for the one thing helm does not do: upgrading a chart's CRDs.

    :param module: the AnsibleModule. :param binary: path (str or None: ``kubectl`` on PATH).
    :param commands: list the argv of every command is appended to (shared with Helm).
    """

    FIELD_MANAGER = "onprem.stack.helm_release"

    def __init__(self, module, binary=None, commands=None):
        self.module = module
        self.bin = binary or module.get_bin_path("kubectl", required=True)
        self.commands = commands if commands is not None else []

    def apply_server_side(self, files, kubeconfig=None, context=None):
        """``kubectl apply --server-side --force-conflicts`` of ``files`` (list of str).
        Raises HelmError (the shared CommandError type) when kubectl fails."""
        cmd = [self.bin, "apply", "--server-side", "--force-conflicts", "--field-manager=" + self.FIELD_MANAGER]
        if kubeconfig:
            cmd += ["--kubeconfig", kubeconfig]
        if context:
            cmd += ["--context", context]
        for f in files:
            cmd += ["-f", f]
        self.commands.append(list(cmd))
        rc, out, err = self.module.run_command(cmd)
        if rc != 0:
            last = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            raise HelmError("kubectl apply of the chart's CRDs failed: %s" % last, cmd, rc, out, err)
        return out

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of onprem.stack.chart_stage: a chart directory on the control node staged on the
host as one chart archive (.tgz). The archive is built in this process (module_utils/_chart.py,
``read_chart_dir`` then ``chart_tgz``: the files helm loads from the directory, .helmignore applied,
in a deterministic archive), written into a private temporary directory on the control node and
handed to ansible.builtin.copy's action, as ansible.builtin.template hands its rendering: one
transfer, and copy's checksum comparison leaves an unchanged chart unchanged (one stat of the
destination, no transfer). The temporary directory is removed afterwards, also on failure.
Documentation: plugins/modules/chart_stage.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

from ansible_collections.onprem.stack.plugins.module_utils._chart import ChartError, chart_tgz, read_chart_dir

OPTIONS = ("src", "dest", "owner", "group", "mode")


class ActionModule(ActionBase):
    """Build the chart archive of ``src`` on the control node and copy it to ``dest`` (see above)."""

    TRANSFERS_FILES = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        unknown = sorted(set(args) - set(OPTIONS))
        if unknown:
            raise AnsibleActionFail("chart_stage: unsupported option(s) %s; supported: %s"
                                    % (", ".join(unknown), ", ".join(OPTIONS)))
        src, dest = args.get("src"), args.get("dest")
        if not src or not dest:
            raise AnsibleActionFail("chart_stage: src (a chart directory on the control node) and dest "
                                    "(the archive's path on the host) are required")
        try:
            # As ansible.builtin.copy finds its src: absolute, or relative to the role's or play's files/.
            src = self._find_needle("files", os.path.expanduser(str(src)))
        except AnsibleError as exc:
            raise AnsibleActionFail("chart_stage: src: %s" % to_native(exc))
        if not os.path.isdir(src):
            raise AnsibleActionFail("chart_stage: src %s is not a directory on the control node" % src)
        try:
            chart = read_chart_dir(src)
            data = chart_tgz(chart)
        except (ChartError, OSError, IOError) as exc:
            raise AnsibleActionFail("chart_stage: cannot build the chart archive of %s: %s" % (src, to_native(exc)))
        local_tmp = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            archive = os.path.join(local_tmp, "%s-%s.tgz" % (chart.name, chart.version))
            with open(to_bytes(archive, errors="surrogate_or_strict"), "wb") as f:
                f.write(data)
            copy_task = self._task.copy()
            copy_task.args.clear()
            copy_task.args.update(dict((k, args[k]) for k in ("owner", "group") if args.get(k) is not None))
            copy_task.args.update(src=archive, dest=dest, mode=args.get("mode") or "0600")
            copy_action = self._shared_loader_obj.action_loader.get(
                "ansible.legacy.copy", task=copy_task, connection=self._connection, play_context=self._play_context,
                loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
            result.update(copy_action.run(task_vars=task_vars))
        finally:
            shutil.rmtree(to_bytes(local_tmp, errors="surrogate_or_strict"), ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result["chart"] = {"name": chart.name, "version": chart.version, "digest": chart.digest}
        result["files"] = sorted(chart.files)
        return result

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Shared failure type of the CLI wrappers (_helm.py, _skopeo.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CommandError(Exception):
    """An external command failed. Attributes: cmd (list of str, secrets masked), rc (int), stdout, stderr (str)."""

    def __init__(self, msg, cmd=None, rc=None, stdout="", stderr=""):
        super(CommandError, self).__init__(msg)
        self.cmd, self.rc, self.stdout, self.stderr = cmd or [], rc, stdout, stderr

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.path_mode``: the permission bits of a path on the control node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: path_mode
short_description: The permission bits of a path on the control node, read in-process
version_added: 0.3.0
description:
  - Returns the permission bits of a file or directory on the control node as four octal
    digits (V(0700), V(1777)), the same shape as the C(mode) that M(ansible.builtin.stat)
    returns, or an empty string when the path does not exist.
  - Filters run in the controller's process, so this costs no module run. Preflight uses
    it to check that C(stack_credentials_dir) is private (mode C(0700) or stricter)
    on every run; an M(ansible.builtin.stat) task on localhost took about 0.5 s of every
    run for the same answer.
  - A symbolic link is followed (Python's C(os.stat)), since what counts is the mode of the
    directory the secrets are written into, not of the link.
options:
  _input:
    description: Absolute path on the control node (str).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The credentials directory is not readable by others
  ansible.builtin.assert:
    that: (stack_credentials_dir | onprem.stack.path_mode or '0') | int(base=8) % 64 == 0
"""

RETURN = r"""
_value:
  description: >-
    Four octal digits of the permission bits (str, C(stat.S_IMODE) of C(st_mode)), or an
    empty string when the path (or the target of a link) does not exist.
  type: str
"""

import os
import stat

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text


def path_mode(path):
    """Return the permission bits of ``path`` on the control node.

    :param path: absolute path (str).
    :returns: four octal digits (str, e.g. ``'0700'``), or ``''`` when the path does
        not exist; a symbolic link is followed.
    :raises AnsibleFilterError: when ``path`` is not a non-empty string, or the path
        exists but cannot be read (e.g. a parent directory without search permission),
        naming the path and the reason.
    """
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError("path_mode: expected a path (non-empty string), got %r" % (path,))
    try:
        st_mode = os.stat(to_bytes(path, errors="surrogate_or_strict")).st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise AnsibleFilterError("path_mode: cannot read the mode of %s: %s" % (path, to_text(exc.strerror or exc)))
    return "%04o" % stat.S_IMODE(st_mode)


class FilterModule(object):
    """onprem.stack control-node path filters."""

    def filters(self):
        return {"path_mode": path_mode}

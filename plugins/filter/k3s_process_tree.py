# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.k3s_process_tree``: PIDs of k3s' containerd shims and every process below them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k3s_process_tree
short_description: PIDs of the processes matching a pattern and of all their descendants, from ps output
version_added: 0.3.0
description:
  - "Reads the output of C(ps -e -ww -o pid=,ppid=,args=) (procps ps(1): the PID, the parent
    PID and the full command line, one process per line) and returns the PID of every
    process whose command line matches one of O(roots), and of every process below one of
    them (children, grandchildren, ...)."
  - "This is what k3s' own k3s-killall.sh does on uninstall (k3s-io/k3s install.sh:
    C(getshims) finds the shims C(<data-dir>/data/*/bin/containerd-shim*), C(pstree) walks
    the children by PPID, C(killtree) sends SIGKILL to all): killing only the shims
    reparents the containers to init, and they keep running with their GPU memory, ports
    and files."
options:
  _input:
    description: The text printed by C(ps -e -ww -o pid=,ppid=,args=) (str).
    type: str
    required: true
  roots:
    description: Python regular expressions, matched (re.search) against each command line; anchor them with C(^).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Processes of k3s' pods (shims and everything below them)
  ansible.builtin.command:
    argv: [ps, -e, -ww, -o, "pid=,ppid=,args="]
  register: __ps
  changed_when: false

- name: Kill them
  ansible.builtin.command:
    argv: "{{ ['kill', '-9'] + (__ps.stdout | onprem.stack.k3s_process_tree(roots) | map('string') | list) }}"
  vars:
    roots: ['^/var/lib/rancher/k3s/data/[^/]+/bin/containerd-shim']
"""

RETURN = r"""
_value:
  description: PIDs (int), the matching processes in the order ps printed them, each followed by its descendants.
  type: list
  elements: int
"""

import re

from ansible.errors import AnsibleFilterError

_LINE_RE = re.compile(r"^\s*([0-9]+)\s+([0-9]+)\s?(.*)$")


def _table(text):
    """[(pid, ppid, args)] from ps output; raises AnsibleFilterError naming a line that is not one."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if not match:
            raise AnsibleFilterError("k3s_process_tree: line %d %r is not 'PID PPID COMMAND' (want the output of "
                                     "ps -e -ww -o pid=,ppid=,args=)" % (number, line[:200]))
        rows.append((int(match.group(1)), int(match.group(2)), match.group(3)))
    return rows


def k3s_process_tree(value, roots):
    """The PIDs (list of int) of the processes matching ``roots`` and of all their descendants.

    :param value: str, the output of ``ps -e -ww -o pid=,ppid=,args=`` (procps).
    :param roots: list of str, regular expressions searched in each command line.
    :returns: list of int without duplicates: each matching process in ps order, then its
        descendants depth first.
    :raises AnsibleFilterError: when ``value`` is not text, a line is not ``PID PPID COMMAND``,
        or ``roots`` is not a list of valid regular expressions.
    """
    if not isinstance(value, str):
        raise AnsibleFilterError("k3s_process_tree: the input is a %s, expected the text ps -e -ww -o pid=,ppid=,args= "
                                 "prints" % type(value).__name__)
    if not isinstance(roots, (list, tuple)) or not all(isinstance(r, str) for r in roots):
        raise AnsibleFilterError("k3s_process_tree: roots must be a list of regular expressions (is %r)" % (roots,))
    patterns = []
    for root in roots:
        try:
            patterns.append(re.compile(root))
        except re.error as err:
            raise AnsibleFilterError("k3s_process_tree: root %r is not a regular expression (%s)" % (root, err))
    rows = _table(value)
    children = {}
    for pid, ppid, _args in rows:
        if pid != ppid:
            children.setdefault(ppid, []).append(pid)
    found, seen = [], set()
    for pid, _ppid, args in rows:
        if pid in seen or not any(p.search(args) for p in patterns):
            continue
        stack = [pid]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            found.append(current)
            stack.extend(reversed(children.get(current, [])))
    return found


class FilterModule(object):
    """Ansible filter plugin entry point."""

    def filters(self):
        """The filters this file provides (dict: name to function)."""
        return {"k3s_process_tree": k3s_process_tree}

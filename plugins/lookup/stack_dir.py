# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: stack_dir
short_description: The collection-wide directories on the control node (credentials, bundle), with their one default
version_added: 0.2.0
description:
  - Returns the path of a collection-wide directory on the control node. It is the one
    place that knows their defaults, so that every role, playbook and lookup agrees.
  - V(credentials) is the variable C(stack_credentials_dir) when set, else C(<inventory_dir>/.credentials).
  - V(bundle) is the variable C(stack_bundle_dir) when set, else C(<inventory_dir>/bundle).
  - A host without C(inventory_dir), such as the implicit C(localhost) that
    C(playbooks/bundle.yml) and the bundle check of C(playbooks/airgap.yml) run on, takes
    the directory of the first inventory source instead (C(ansible_inventory_sources), as
    C(-i) or C(ansible.cfg) give it; a source that is a file counts by its directory), so
    that it finds the same C(<inventory_dir>/bundle) as the inventory's hosts.
  - With neither (no inventory file at all), the parent of the playbook directory takes
    its place.
  - The path is returned as given or derived; nothing is created or checked.
author:
  - onprem.stack contributors (!UNKNOWN)
options:
  _terms:
    description: Which directory, V(credentials) or V(bundle). Exactly one term.
    required: true
    type: list
    elements: str
notes:
  - Reads the variables C(stack_credentials_dir), C(stack_bundle_dir), C(inventory_dir),
    C(ansible_inventory_sources) and C(playbook_dir) of the current host.
"""

EXAMPLES = r"""
- name: Where generated secrets live
  ansible.builtin.debug:
    msg: "{{ lookup('onprem.stack.stack_dir', 'credentials') }}"
"""

RETURN = r"""
_raw:
  description: One absolute or inventory-relative path (str).
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

_DIRS = {
    "credentials": ("stack_credentials_dir", ".credentials"),
    "bundle": ("stack_bundle_dir", "bundle"),
}


def inventory_source_dir(sources):
    """Return the directory of the first inventory source that is a path, or None.

    :param sources: ``ansible_inventory_sources`` (list of str: absolute paths as the
        CLI resolves ``-i`` and ``ansible.cfg``'s ``inventory``, or host lists such as
        ``"h1,h2,"``), or None.
    :returns: the source itself when it is a directory, its directory when it is a file
        (str); None when no source is an existing path.
    """
    for source in sources or []:
        source = str(source)
        if os.path.isdir(source):
            return source
        if os.path.isfile(source):
            return os.path.dirname(os.path.abspath(source))
    return None


def stack_dir(which, variables, templar=None):
    """Return the path (str) of the collection-wide directory ``which``.

    :param which: ``credentials`` or ``bundle`` (str).
    :param variables: the host's variables (dict), as given to a lookup.
    :param templar: a Templar to render a templated variable value, or None.
    :raises AnsibleLookupError: for another ``which``.
    """
    if which not in _DIRS:
        raise AnsibleLookupError("onprem.stack.stack_dir: unknown directory %r, expected one of %s"
                                 % (which, ", ".join(sorted(_DIRS))))
    var, leaf = _DIRS[which]
    value = variables.get(var)
    if templar is not None and value:
        value = templar.template(value)
    if value:
        return str(value)
    base = variables.get("inventory_dir")
    if templar is not None and base:
        base = templar.template(base)
    # A host from a host list (-i 'h1,h2,') has inventory_dir None, which reaches a
    # lookup as the text 'None'.
    if not base or str(base) == "None":
        base = inventory_source_dir(variables.get("ansible_inventory_sources"))
    if not base:
        playbook_dir = variables.get("playbook_dir") or os.getcwd()
        base = os.path.dirname(os.path.abspath(str(playbook_dir)))
    return os.path.join(str(base), leaf)


class LookupModule(LookupBase):
    """``lookup('onprem.stack.stack_dir', 'credentials'|'bundle')``."""

    def run(self, terms, variables=None, **kwargs):
        if len(terms) != 1:
            raise AnsibleLookupError("onprem.stack.stack_dir takes exactly one term (credentials or bundle), got %d"
                                     % len(terms))
        return [stack_dir(terms[0], variables or {}, self._templar)]

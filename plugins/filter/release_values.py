# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.release_values``: a release's values split into the plain values
and the references to credentials (module_utils/_value_refs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_values
short_description: Split a release's values into plain values and references to credentials
version_added: 0.3.0
description:
  - "Finds the references in a values mapping: a leaf written as C({from: {<kind>: ...}}) (a
    mapping whose only key is C(from), with a mapping under it), the references
    C(platform_secrets) takes (C(credential), C(database_url), C(redis_url), ...)."
  - Returns the references with their key paths, and the values without them. Given the
    resolved values (same order), also returns the mapping of the resolved values alone,
    for a secret values file of M(onprem.stack.helm_release).
  - The role onprem.stack.platform uses it (tasks/values.yml); the preflight validator
    checks each reference.
options:
  _input:
    description: The release's values (a mapping, as in the chart's C(values.yaml)).
    type: dict
    required: true
  resolved:
    description: The resolved value of each reference, in the order of RV(_value.references).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The secret values of a release
  ansible.builtin.set_fact:
    secret_values: "{{ (release['values'] | onprem.stack.release_values(resolved=resolved)).secret }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The split.
  type: dict
  contains:
    references:
      description: Each reference, as a dict with keys C(path) (list of keys) and C(from), in the order of the values.
      type: list
      elements: dict
    in_lists:
      description: Paths (lists of keys and indices) of references inside a list, which are not allowed.
      type: list
      elements: list
    values:
      description: The values without the references.
      type: dict
    secret:
      description: With O(resolved), the values made of the references' paths and their resolved values.
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.onprem.stack.plugins.module_utils._value_refs import (
    find_references, resolved_tree, without_references)


def release_values(values, resolved=None):
    """Split ``values`` (dict).

    :param resolved: list of str (or None).
    :returns: dict with references, in_lists, values and, with ``resolved``, secret.
    :raises AnsibleFilterError: when ``values`` is not a mapping, or ``resolved`` is not a
        list as long as the references."""
    if not isinstance(values, dict):
        raise AnsibleFilterError("release_values: expected the release's values as a mapping, found %s"
                                 % type(values).__name__)
    references, in_lists = find_references(values)
    out = {"references": references, "in_lists": in_lists, "values": without_references(values)}
    if resolved is not None:
        if not is_sequence(resolved):
            raise AnsibleFilterError("release_values: resolved must be a list, found %s" % type(resolved).__name__)
        try:
            out["secret"] = resolved_tree(references, list(resolved))
        except ValueError as exc:
            raise AnsibleFilterError("release_values: %s" % exc)
    return out


class FilterModule(object):
    def filters(self):
        return {"release_values": release_values}

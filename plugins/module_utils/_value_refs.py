# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""References to credentials inside a release's values (platform_releases[].values).

A leaf of the values written as ``{from: {<kind>: ...}}`` - a mapping whose only key is
``from`` and whose value is a mapping, the shape of a platform_secrets data item's
reference - is a reference; the platform role resolves it on the control node (the
same references platform_secrets takes) and hands the resolved values to helm_release
in a secret values file. References sit under mapping keys only: an item of a list
(``env[0].value``) cannot be one, since a values file replaces a whole list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


def is_reference(value):
    """Whether ``value`` has the shape of a reference: a dict whose only key is ``from``
    and whose ``from`` is a dict."""
    return isinstance(value, dict) and list(value) == ["from"] and isinstance(value["from"], dict)


def find_references(values, path=()):
    """The references in a values tree: (found, in_lists), ``found`` a list of
    {path: list of str keys, from: the reference's ``from`` mapping} in the order of the
    tree, ``in_lists`` the paths (lists of str and int) of references inside lists (not
    allowed)."""
    found, in_lists = [], []
    if isinstance(values, dict):
        for key, value in values.items():
            if is_reference(value):
                found.append({"path": list(path) + [key], "from": value["from"]})
            else:
                sub_found, sub_lists = find_references(value, path + (key,))
                found += sub_found
                in_lists += sub_lists
    elif isinstance(values, list):
        for n, value in enumerate(values):
            if is_reference(value):
                in_lists.append(list(path) + [n])
            else:
                in_lists += _refs_below(value, path + (n,))
    return found, in_lists


def _refs_below(value, path):
    found, in_lists = find_references(value, path)
    return [f["path"] for f in found] + in_lists


def without_references(values):
    """A copy of the values tree (dict) with every reference under a mapping key left out
    (a mapping emptied by that stays, as an empty mapping)."""
    out = {}
    for key, value in values.items():
        if is_reference(value):
            continue
        out[key] = without_references(value) if isinstance(value, dict) else copy.deepcopy(value)
    return out


def resolved_tree(references, resolved):
    """The secret values (dict): each reference's path set to its resolved value.

    :param references: list of {path, from} (:func:`find_references`).
    :param resolved: list of the resolved values (str), in the same order.
    :raises ValueError: when the two lists differ in length."""
    if len(references) != len(resolved):
        raise ValueError("%d references but %d resolved values" % (len(references), len(resolved)))
    tree = {}
    for ref, value in zip(references, resolved):
        node = tree
        for key in ref["path"][:-1]:
            node = node.setdefault(key, {})
        node[ref["path"][-1]] = value
    return tree

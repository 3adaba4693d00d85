# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the options naming a helm release; argument spec: module_utils/_argspec.py release_argument_spec()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  name:
    description: Release name.
    type: str
    required: true
  namespace:
    description: Namespace of the release.
    type: str
    required: true
"""

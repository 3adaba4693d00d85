# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the helm binary option; argument spec: module_utils/_argspec.py helm_argument_spec()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  helm_binary:
    description:
      - Path of the helm binary (helm 3.8 or newer, or helm 4).
      - Default, C(helm) found on the E(PATH) of the host the module runs on.
    type: path
requirements:
  - helm 3.8 or newer (or 4) on the host the module runs on
"""

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Documentation of the cluster options; argument spec: module_utils/_argspec.py kubeconfig_argument_spec()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file of the cluster (helm's C(--kubeconfig)).
      - Default, helm's own choice (E(KUBECONFIG), else C(~/.kube/config)).
    type: path
  context:
    description:
      - Context of O(kubeconfig) to use (helm's C(--kube-context)).
      - Default, the kubeconfig's current context.
    type: str
"""

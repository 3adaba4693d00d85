# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Inventory validators of the onprem.stack roles, one module per role.

Each role module has ``validate(params, context) -> list[Problem]``: a pure function of
the role's variables (``params``, a dict of variable name to value as Ansible rendered
it) and of ``context`` (the inventory facts the role's rules need: the host, its
groups, the control node's paths and, where a rule crosses roles, the other role's
variables). ``_common`` holds the problem type and the parsers they share, ``_net`` the
address, host and URL forms, ``_kube`` the Kubernetes and k3s syntax. The filter
``onprem.stack.role_problems`` calls them from each role's ``tasks/validate.yml``.
"""

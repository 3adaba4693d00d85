# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.role_problems``: every problem of one role's inventory input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: role_problems
short_description: Every problem of one onprem.stack role's inventory input
version_added: 0.4.0
description:
  - Runs the validator of one role (C(plugins/module_utils/_validate/<role>.py)) on the
    role's variables and returns one message per problem; an empty list means the input
    is acceptable. Each message names the variable, the value found (never a secret's
    value), what was expected and, in brackets, the rule's source.
  - Each role's C(tasks/validate.yml) is one C(ansible.builtin.assert) on its result.
  - Reads the control node's file system where a rule is about a control-node path
    (chart directories, TLS files, the bundle); changes nothing.
options:
  _input:
    description: The role's variables, name (str) to value, as Ansible rendered them.
    type: dict
    required: true
  role:
    description: The role, without the collection prefix.
    type: str
    required: true
    choices: [airgap, bundle, k3s, nvidia, platform, postgresql, preflight, redis, registry]
  context:
    description:
      - The inventory facts the role's rules need beyond its own variables (host, groups,
        OS facts, control-node paths, other roles' variables); the keys each role reads
        are documented by its module's C(validate) function.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Validate | inventory input
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | length }} problem(s):\n- {{ __problems | join('\n- ') }}"
    quiet: true
  vars:
    __names: "{{ query('ansible.builtin.varnames', '^redis_') }}"
    __problems: >-
      {{ dict(__names | zip(query('ansible.builtin.vars', *__names)))
         | onprem.stack.role_problems('redis', {'facts': ansible_facts}) }}
"""

RETURN = r"""
_value:
  description: One message per problem, in rule order; empty when the input is acceptable.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.module_utils._validate import (
    airgap, bundle, k3s, nvidia, platform, postgresql, preflight, redis, registry)

VALIDATORS = {
    "airgap": airgap.validate,
    "bundle": bundle.validate,
    "k3s": k3s.validate,
    "nvidia": nvidia.validate,
    "platform": platform.validate,
    "postgresql": postgresql.validate,
    "preflight": preflight.validate,
    "redis": redis.validate,
    "registry": registry.validate,
}


def role_problems(params, role, context=None):
    """Return the messages (list of str) of every problem of ``role``'s input.

    :param params: dict of variable name (str) to value: the role's variables.
    :param role: str, a key of VALIDATORS.
    :param context: dict of the inventory facts the role's validator reads (see its docstring).
    :raises AnsibleFilterError: when ``role`` has no validator or ``params``/``context`` are not dicts
        (a wiring mistake, not bad input).
    """
    if role not in VALIDATORS:
        raise AnsibleFilterError("role_problems: no validator for role %r (known: %s)" % (role, ", ".join(VALIDATORS)))
    if not isinstance(params, dict) or not isinstance(context or {}, dict):
        raise AnsibleFilterError("role_problems: expected a dict of variables and a dict of context")
    return [str(problem) for problem in VALIDATORS[role](dict(params), dict(context or {}))]


class FilterModule(object):
    """onprem.stack validation filter."""

    def filters(self):
        return {"role_problems": role_problems}

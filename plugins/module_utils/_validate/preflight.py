# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of what preflight checks itself (beyond each role's own input): the inventory
input it owns and, on the first k3s server, the Python kubernetes client there.

Rules are small functions, each ``rule(params, context) -> list[Problem]``, listed in
RULES in the order they report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c

# The services that listen on a host, by group: (group, variable, the role's default port).
SERVICE_PORTS = (("postgres", "postgresql_port", 5432), ("redis", "redis_port", 6379),
                 ("registry", "registry_port", 5000), ("k3s_server", "k3s_api_port", 6443))
# kubernetes.core 6.x refuses server-side apply below this client version
# (plugins/module_utils/k8s/service.py: requires("kubernetes", "19.15.0", reason="to use
# server side apply")); the platform role applies its namespaces and Secrets that way.
KUBERNETES_CLIENT_MINIMUM = "19.15.0"
SRC_KUBERNETES_CORE = ("kubernetes.core's server-side apply (plugins/module_utils/k8s/service.py, "
                       "requires kubernetes>=19.15.0)")
# A version's release numbers: after a Debian epoch ("1:"), up to the first character that
# is neither a digit nor a dot (PEP 440 pre-releases "b1", a Debian revision "-2").
_RELEASE_RE = re.compile(r"^(?:[0-9]+:)?([0-9]+(?:\.[0-9]+)*)")
_CANDIDATE_RE = re.compile(r"^\s*Candidate:\s*(\S+)\s*$", re.M)


def path_mode(path):
    """The permission bits of ``path`` as four octal digits (str, e.g. ``'0700'``); '' when absent."""
    try:
        return "%04o" % stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return ""


def client_version(text):
    """The release numbers of a version (tuple of int), or None when ``text`` has none.

    :param text: str (or None): ``kubernetes.__version__`` (PEP 440, e.g. ``22.6.0``,
        ``29.0.0b1``) or a Debian package version (``[epoch:]upstream[-revision]``, Debian
        Policy 5.6.12, e.g. ``1:19.15.0-1``, ``12.0.1-1ubuntu1``).
    :returns: e.g. ``(22, 6, 0)``; a pre-release counts as its release, as kubernetes.core's
        LooseVersion comparison counts ``19.15.0b1`` as not older than ``19.15.0``. Never raises.
    """
    m = _RELEASE_RE.match(text.strip()) if isinstance(text, str) else None
    return tuple(int(n) for n in m.group(1).split(".")) if m else None


def apt_candidate(policy):
    """The ``Candidate:`` version (str) of ``apt-cache policy <package>`` output (str, C
    locale, apt's cmdline/apt-cache.cc), '' when there is none (``(none)``) or no output."""
    m = _CANDIDATE_RE.search(policy or "") if isinstance(policy, str) else None
    return m.group(1) if m and m.group(1) != "(none)" else ""


def rule_credentials_dir(params, context):  # noqa: ARG001  (rule signature)
    """stack_credentials_dir is an absolute path on the control node that only its owner reads."""
    if "stack_credentials_dir" not in params:
        return []
    creds = params["stack_credentials_dir"]
    mode = path_mode(creds) if c.is_absolute_path(creds) else ""
    if c.is_absolute_path(creds) and int(mode or "0", 8) % 64 == 0:
        return []
    return [c.Problem(
        "stack_credentials_dir",
        "stack_credentials_dir must be an absolute path on the control node that group and others cannot read "
        "(mode 0700; it holds generated secrets); found '%s' (mode %s)." % (c.text(creds), mode or "absent"),
        "POSIX file modes (chmod(2)); the credential lookup's contract (plugins/lookup/credential.py)")]


def rule_service_ports(params, context):
    """The services planned on one host listen on distinct ports."""
    groups = context.get("groups") or []
    owners = {}
    for group, var, default in SERVICE_PORTS:
        if group in groups:
            owners.setdefault(c.text(params.get(var, default)), []).append(var)
    return [c.Problem(names[0], "%s: %s name the same port (%s); each service on a host needs its own port."
                      % (context.get("host"), ", ".join(names), port), "TCP: one listener per address and port (bind(2))")
            for port, names in owners.items() if len(names) > 1]


def rule_kubernetes_client(params, context):  # noqa: ARG001  (rule signature)
    """The Python kubernetes client on the first k3s server does server-side apply (>= 19.15.0).

    Reads ``context['kubernetes_client']`` (absent: the rule does not apply): a dict with
    ``installed`` (str: ``kubernetes.__version__`` as the host's Python imports it, '' when
    it imports none), ``apt_policy`` (str: ``apt-cache policy python3-kubernetes``, read
    when none is installed) and ``python`` (str, optional: that Python's path). The
    installed client is judged when there is one, else the version apt would install; when
    neither is known (no apt source offers the package yet, as on an air-gapped host before
    the airgap role ran) nothing is reported here.
    """
    client = context.get("kubernetes_client")
    if not isinstance(client, dict):
        return []
    installed = c.text(client.get("installed") or "").strip()
    if installed:
        found, how = installed, "installed (%s imports it)" % (client.get("python") or "the host's Python")
    else:
        found, how = apt_candidate(client.get("apt_policy")), "what apt would install (python3-kubernetes)"
    version = client_version(found)
    if version is None or version >= client_version(KUBERNETES_CLIENT_MINIMUM):
        return []
    return [c.Problem(
        "python3-kubernetes",
        "%s: the Python kubernetes client is %s, %s; kubernetes.core needs %s or newer for server-side apply, which "
        "the platform role uses for its namespaces and Secrets on this first k3s server. Install python3-kubernetes "
        "%s or newer from the distribution (Debian 12 ships 22.6.0), or the PyPI package kubernetes>=%s "
        "(requirements.txt pins 31.0.0) for the Python Ansible uses on this host (ansible_python_interpreter)."
        % (context.get("host"), found, how, KUBERNETES_CLIENT_MINIMUM, KUBERNETES_CLIENT_MINIMUM,
           KUBERNETES_CLIENT_MINIMUM), SRC_KUBERNETES_CORE)]


RULES = (rule_credentials_dir, rule_service_ports, rule_kubernetes_client)


def validate(params, context):
    """Return the problems (list of Problem) of what preflight checks itself on one host.

    :param params: dict with ``stack_credentials_dir`` (str, optional: the control node's
        directory of generated secrets) and the service ports ``postgresql_port``,
        ``redis_port``, ``registry_port``, ``k3s_api_port`` (int or str, optional: the roles'
        defaults apply).
    :param context: dict with ``host`` (str: inventory_hostname), ``groups`` (list of str:
        group_names) and, on the first k3s server only, ``kubernetes_client`` (dict, see
        :func:`rule_kubernetes_client`).
    :returns: list of Problem, empty when the input is acceptable. Reads the mode of
        ``stack_credentials_dir`` on the control node; never raises on bad values.
    """
    problems = []
    for rule in RULES:
        problems.extend(rule(params, context))
    return problems

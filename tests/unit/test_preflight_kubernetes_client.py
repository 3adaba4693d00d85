"""Preflight refuses a Python kubernetes client older than server-side apply needs
(issue 19, item 7): kubernetes.core 6.x fails ``kubernetes.core.k8s`` with
``server_side_apply`` below kubernetes 19.15.0 (plugins/module_utils/k8s/service.py:
``requires("kubernetes", "19.15.0", reason="to use server side apply")``), which the
platform role uses for its namespaces and Secrets on the first k3s server.

The rule (plugins/module_utils/_validate/preflight.py, rule_kubernetes_client) reads what
roles/preflight/tasks/kubernetes_client.yml gathers there: the version the host's Python
imports (``kubernetes.__version__``, what kubernetes.core compares) and, when none is
installed, ``apt-cache policy python3-kubernetes`` (the version the platform role would
install). The apt outputs below are as apt 2.6 prints them (apt-cache policy, C locale).
"""
import pytest

from ansible_collections.onprem.stack.plugins.filter.role_problems import role_problems
from ansible_collections.onprem.stack.plugins.module_utils._validate import preflight

# `LC_ALL=C apt-cache policy python3-kubernetes` on Debian 12 (bookworm), nothing installed.
POLICY_BOOKWORM = """python3-kubernetes:
  Installed: (none)
  Candidate: 22.6.0-2
  Version table:
     22.6.0-2 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
"""
# The same for an older release (the version is that of Debian 11 and Ubuntu 22.04's archives).
POLICY_OLD = POLICY_BOOKWORM.replace("22.6.0-2", "12.0.1-1ubuntu1").replace("bookworm/main", "jammy/universe")
# A host whose apt sources do not offer the package (an air-gapped host before the airgap role ran).
POLICY_NONE = "python3-kubernetes:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n"


def _problems(client):
    return [str(p) for p in preflight.validate({}, {"host": "s1", "groups": ["k3s_server"],
                                                    "kubernetes_client": client})]


@pytest.mark.parametrize("text,want", [
    ("22.6.0", (22, 6, 0)), ("31.0.0", (31, 0, 0)), ("12.0.1", (12, 0, 1)), ("29.0.0b1", (29, 0, 0)),
    ("22.6.0-2", (22, 6, 0)), ("1:19.15.0-1", (19, 15, 0)), ("12.0.1-1ubuntu1", (12, 0, 1)), ("19.15", (19, 15)),
    ("", None), ("(none)", None), ("unknown", None), (None, None),
])
def test_client_version(text, want):
    assert preflight.client_version(text) == want


@pytest.mark.parametrize("client", [
    {"installed": "22.6.0", "apt_policy": ""},
    {"installed": "19.15.0", "apt_policy": ""},
    {"installed": "31.0.0", "apt_policy": POLICY_OLD},  # what is installed is what the modules import
    {"installed": "", "apt_policy": POLICY_BOOKWORM},
    {"installed": "", "apt_policy": POLICY_NONE},  # nothing known yet: the platform role's install reports it
    {"installed": "", "apt_policy": ""},
])
def test_new_enough_or_unknown_passes(client):
    assert _problems(client) == []


def test_old_installed_client_refused():
    problems = _problems({"installed": "12.0.1", "apt_policy": POLICY_BOOKWORM, "python": "/usr/bin/python3"})
    assert len(problems) == 1, problems
    msg = problems[0]
    for part in ("s1", "12.0.1", "installed", "/usr/bin/python3", "19.15.0", "python3-kubernetes", "server-side apply",
                 "kubernetes.core"):
        assert part in msg, (part, msg)


def test_old_candidate_refused():
    problems = _problems({"installed": "", "apt_policy": POLICY_OLD})
    assert len(problems) == 1, problems
    assert "12.0.1-1ubuntu1" in problems[0] and "apt would install" in problems[0] and "19.15.0" in problems[0]


def test_only_when_gathered():
    """Without the gathered client (every host but the first server, the inventory checks) no rule runs on it."""
    assert role_problems({"postgresql_port": 5432}, "preflight", {"host": "db1", "groups": ["postgres"]}) == []

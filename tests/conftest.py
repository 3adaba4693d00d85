"""Shared pytest fixtures and paths for the onprem.stack tests.

Skips: a test that cannot run here says why with one of two helpers, and under
``CI=true`` only one kind of skip is allowed:

- ``skip_missing_tool(tool, how)``: a program the test needs is not installed
  (helm 3/4, skopeo, docker-registry, umoci, ...). CI installs all of them
  (``make host venv``), so under ``CI=true`` this skip -- and any other plain
  ``pytest.skip``/``skipif`` -- is turned into a failure by the hooks below.
- ``skip_not_provided(what, how)``: something CI cannot have (a k3s binary,
  a Kubernetes API, a GPU); stays a skip everywhere and is listed by name in the
  summary of ``make test`` (scripts/test-summary.py).

Both live in tests/skips.py.
"""
import json
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from skips import NOT_PROVIDED, in_ci, skip_missing_tool, tool_path

REPO = Path(__file__).resolve().parents[1]


def _skip_reason(longrepr) -> str:
    """The message of a skip report's longrepr ((path, line, "Skipped: msg") or str)."""
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text[len("Skipped: "):] if text.startswith("Skipped: ") else text


def _fail_skip_in_ci(report):
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr)
    if reason.startswith(NOT_PROVIDED):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI=true, which is a failure: {reason}\n"
                       "CI installs every tool the tests use (make host venv); only "
                       "skip_not_provided() (k3s, Kubernetes API, GPU) may skip there.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001  (pytest hook signature)
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # noqa: ARG001  (pytest hook signature)
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


# The helm majors every helm-invoking test runs under: test id -> (program, major).
HELM_MAJORS = {"helm3": ("helm", 3), "helm4": ("helm4", 4)}


@pytest.fixture(scope="session", params=sorted(HELM_MAJORS))
def helm_binary(request) -> str:
    """Path of a real helm binary (str), once per major: test ids ``[helm3]`` (helm
    v3.10.1, .venv/bin/helm) and ``[helm4]`` (helm v4.1.4, .venv/bin/helm4), both
    installed by scripts/install-helm.sh. Skipped (a failure under CI=true) when that
    major is not installed; fails when the binary is of another major."""
    name, major = HELM_MAJORS[request.param]
    path = tool_path(name)
    if not path:
        skip_missing_tool(name, f"helm {major}: scripts/install-helm.sh")
    out = subprocess.run([path, "version", "--template", "{{ .Version }}"], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0 or not out.stdout.startswith(f"v{major}."):
        pytest.fail(f"{path} should be helm {major}, but `helm version` says: {out.stdout}{out.stderr}")
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the collection checkout (the directory holding galaxy.yml)."""
    return REPO


# Import the collection's Python code as Ansible does, by its FQCN:
# collections/ansible_collections/onprem/stack is a link to the repository root.
import sys as _sys  # noqa: E402

if str(REPO / "collections") not in _sys.path:
    _sys.path.insert(0, str(REPO / "collections"))


@pytest.fixture
def run_module(capsys):
    """Return run(main, args, check=False, diff=False) -> (failed: bool, result: dict)."""

    def run(main, args, check=False, diff=False):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                main()
        out = capsys.readouterr().out
        result = json.loads(out)
        return exc.value.code != 0, result

    return run

"""tests/unit stays pure: no test here may start an external program (those belong in
tests/functional). Every subprocess.Popen (which subprocess.run and
AnsibleModule.run_command use) fails the test that attempts it."""
import subprocess

import pytest

# ansible.utils.display looks up libc with ctypes (ldconfig -p) when first imported:
# import it before the guard is in place.
import ansible.utils.display  # noqa: F401  pylint: disable=unused-import


class _NoPrograms(subprocess.Popen):
    def __init__(self, args, *a, **kw):  # noqa: ARG002  (same signature as Popen)
        pytest.fail(f"tests/unit must not run external programs (move the test to tests/functional): {args!r}",
                    pytrace=False)


@pytest.fixture(autouse=True)
def _no_external_programs(monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", _NoPrograms)

"""tests/unit stays pure: no test here may start an external program (those belong in
tests/functional). Every subprocess.Popen (which subprocess.run and
AnsibleModule.run_command use) fails the test that attempts it."""
import subprocess
import sys
from pathlib import Path

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


def _forget_collections() -> None:
    """Drop the modules imported from ansible_collections (the loader imports them again its way)."""
    for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def collection_loader():
    """Ansible's collection loader, as ansible-playbook installs it, so that a Templar finds
    onprem.stack's filters and lookups; removed afterwards so that later test modules
    import the collection plainly."""
    # Imported here: importing the loader at collection time would change how every test imports.
    from ansible.plugins.loader import init_plugin_loader  # pylint: disable=import-outside-toplevel
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # pylint: disable=import-outside-toplevel
    _forget_collections()
    init_plugin_loader([str(Path(__file__).resolve().parents[2] / "collections")])
    yield
    _AnsibleCollectionFinder._remove()  # pylint: disable=protected-access
    _forget_collections()

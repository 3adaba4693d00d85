"""Shared pytest fixtures and paths for the onprem.stack tests."""
from pathlib import Path

import json

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[1]


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

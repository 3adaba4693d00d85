"""Shared pytest fixtures and paths for the onprem.stack tests."""
from pathlib import Path

import pytest

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

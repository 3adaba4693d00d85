"""Shared pytest fixtures and paths for the onprem.stack tests."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the collection checkout (the directory holding galaxy.yml)."""
    return REPO

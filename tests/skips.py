"""Skip helpers for the onprem.stack tests (see tests/conftest.py for the CI rule).

Importable from every test module (pytest puts tests/ on sys.path):
``from skips import skip_missing_tool, skip_not_provided, tool_path``.
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

MISSING_TOOL = "missing tool: "
NOT_PROVIDED = "not provided: "


def in_ci() -> bool:
    """True when the environment variable CI is ``true`` (or ``1``/``yes``), as CI
    services set it."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_missing_tool(tool: str, how: str):
    """Skip the running test because the program ``tool`` is not installed; ``how``
    says what installs it. A failure under CI=true."""
    pytest.skip(f"{MISSING_TOOL}{tool} ({how})")


def skip_not_provided(what: str, how: str):
    """Skip the running test because ``what`` (a k3s binary, a Kubernetes API, a GPU)
    is not provided to this run; ``how`` names the variable or host that provides
    it. Allowed under CI=true."""
    pytest.skip(f"{NOT_PROVIDED}{what} ({how})")


def tool_path(name: str) -> str:
    """Path of the program ``name``: the virtualenv's bin directory first (where
    scripts/install-helm.sh puts helm, helm4 and kubectl), then PATH; None when absent."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)

"""Fixtures of the credentials scenario: the control node's credentials directory, the
passwords the previous release generated (recorded by prepare.yml) and the target host.

The host is reached as every scenario reaches its hosts (``onprem_verify.get_host``: ssh through
scripts/ssh-proxy.sh), instead of one ansible ad-hoc run per command.
"""
import json
import os
from pathlib import Path

import pytest
from testinfra.utils.ansible_runner import AnsibleRunner

import onprem_verify

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


@pytest.fixture(scope="session")
def host_name():
    """Inventory name (and container name) of the one host of the scenario."""
    return AnsibleRunner(INVENTORY).get_hosts("postgres")[0]


@pytest.fixture(scope="session")
def creds():
    """<inventory_dir>/.credentials on the control node (stack_credentials_dir's default)."""
    return EPHEMERAL / "inventory" / ".credentials"


@pytest.fixture(scope="session")
def before():
    """Passwords the previous release generated, keyed service/user (prepare.yml)."""
    return json.loads((EPHEMERAL / "passwords-before.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def node(host_name):
    return onprem_verify.get_host(host_name)


@pytest.fixture(scope="session")
def ip(node):
    address = node.check_output("hostname -I").split()[0]
    assert address.count(".") == 3, address
    return address

"""Fixtures shared by every Molecule scenario's testinfra tests (helpers: ``onprem_verify``)."""

import pytest

import onprem_verify


@pytest.fixture(scope="module")
def client(host):
    """The module's ``host`` as a client of the site (``onprem_verify.Client``), its staged files removed afterwards."""
    staged = onprem_verify.Client(host)
    yield staged
    staged.cleanup()

"""Fixtures shared by every Molecule scenario's testinfra tests (helpers: ``onprem_verify``)."""

import os

import pytest
from testinfra.backend import base

import onprem_verify

# The verifier's own Ansible runs stay out of the scenario's Ansible log: testinfra reads the inventory with
# `ansible-inventory --list`, which prints every host variable (supplied passwords, decrypted vault values
# included) and so writes them to ANSIBLE_LOG_PATH. Taken out before any test module runs one.
# Kept as SCENARIO_ANSIBLE_LOG (which Ansible does not read) for the secret scan.
if "ANSIBLE_LOG_PATH" in os.environ:
    os.environ["SCENARIO_ANSIBLE_LOG"] = os.environ.pop("ANSIBLE_LOG_PATH")


@pytest.fixture(scope="module")
def client(host):
    """The module's ``host`` as a client of the site (``onprem_verify.Client``), its staged files removed afterwards."""
    staged = onprem_verify.Client(host)
    yield staged
    staged.cleanup()


@pytest.fixture(scope="session", autouse=True)
def record_commands():
    """Append every command line the verifier runs to ``onprem_verify.verify_commands_log()`` (0600).

    testinfra builds each command with ``BaseBackend.quote`` (``host.run``, ``check_output``, the ``podman exec``
    line that carries it, every module such as ``host.file``): the strings recorded are what a process listing on
    the control node or the host would show. The secret scan of molecule/default reads this file, so a password
    put on a command line by any verify step fails it.
    """
    path = onprem_verify.verify_commands_log()
    if path is None:
        yield
        return
    quote = base.BaseBackend.quote
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def recording_quote(command, *args):
        line = quote(command, *args)
        os.write(fd, (line.replace("\n", "\\n") + "\n").encode("utf-8", "surrogateescape"))
        return line

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base.BaseBackend, "quote", staticmethod(recording_quote))
        yield
    os.close(fd)

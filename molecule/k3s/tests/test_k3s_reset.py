"""playbooks/reset.yml removes k3s and, run a second time, changes nothing.

Runs after the other test modules of the scenario (file order), on every k3s host.
"""
import re

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s_server") + onprem_verify.hosts("k3s_agent")

RESET = "../../playbooks/reset.yml"


def _changed(stdout):
    """{host: changed count} from the PLAY RECAP of an ansible-playbook run (colour codes removed)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", stdout)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", plain, re.M)}


@pytest.fixture(scope="module")
def resets():
    first = onprem_verify.ansible_playbook(RESET, "-e", "stack_reset_confirm=yes")
    second = onprem_verify.ansible_playbook(RESET, "-e", "stack_reset_confirm=yes")
    return first, second


def test_reset_twice(resets):
    first, second = resets
    assert first.returncode == 0, first.stdout[-3000:]
    assert second.returncode == 0, second.stdout[-3000:]
    hosts = set(onprem_verify.host_names("k3s_server") + onprem_verify.host_names("k3s_agent"))
    assert set(_changed(first.stdout)) == hosts and set(_changed(second.stdout)) == hosts
    assert all(n > 0 for n in _changed(first.stdout).values()), first.stdout[-2000:]
    assert set(_changed(second.stdout).values()) == {0}, second.stdout[-3000:]


@pytest.mark.parametrize("path", ["/usr/local/bin/k3s", "/etc/rancher", "/var/lib/rancher", "/etc/systemd/system/k3s.service",
                                  "/etc/systemd/system/k3s-agent.service", "/etc/sysctl.d/90-k3s.conf"])
def test_k3s_is_gone(host, resets, path):
    assert not host.file(path).exists

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


SHIM = "/var/lib/rancher/k3s/data/standin/bin/containerd-shim-runc-v2"
POD_PID = "/run/onprem-standin-pod.pid"
NETNS = "cni-onprem-standin-0000"


def _standin_pod(name):
    """A stand-in pod on host ``name``, as a stopped k3s leaves it (KillMode=process): a "containerd shim" (a copy
    of sh, so its command line starts with the shim's path) whose child is the pod's process, and a cni- network
    namespace. The reset must kill both processes, not only the shim, and delete the namespace."""
    host = onprem_verify.get_host(name)
    script = "sleep 3600 & echo $! > %s; wait" % POD_PID
    for cmd in ("mkdir -p %s && cp /bin/sh %s" % (SHIM.rsplit("/", 1)[0], SHIM),
                "rm -f %s && systemd-run --collect --unit=onprem-standin-pod %s -c '%s'" % (POD_PID, SHIM, script),
                "for i in $(seq 50); do [ -s %s ] && exit 0; sleep 0.1; done; exit 1" % POD_PID,
                "ip netns add %s" % NETNS):
        result = host.run(cmd)
        assert result.rc == 0, (name, cmd, result.stderr)


@pytest.fixture(scope="module")
def resets():
    for name in onprem_verify.host_names("k3s_server") + onprem_verify.host_names("k3s_agent"):
        _standin_pod(name)
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


def test_reset_ordered_agents_then_servers(resets):
    """Two plays: every agent is reset before the first server is touched."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", resets[0].stdout)
    assert plain.index("PLAY [Reset | k3s agents") < plain.index("PLAY [Reset | k3s servers"), plain[-3000:]


def test_pod_processes_and_network_namespaces_are_gone(host, resets):
    """The pod's process (the shim's child) is killed with the shim, and the cni- namespace is deleted."""
    pid = host.file(POD_PID).content_string.strip()
    assert pid.isdigit()
    assert host.run("test -d /proc/%s && ! grep -q '^State:.*Z' /proc/%s/status", pid, pid).rc != 0, \
        "the pod's process %s survived the reset" % pid
    assert host.run("pgrep -f '^%s'", SHIM).rc == 1
    assert NETNS not in host.check_output("ip netns list")


@pytest.mark.parametrize("path", ["/usr/local/bin/k3s", "/etc/rancher", "/var/lib/rancher", "/etc/systemd/system/k3s.service",
                                  "/etc/systemd/system/k3s-agent.service", "/etc/sysctl.d/90-k3s.conf"])
def test_k3s_is_gone(host, resets, path):
    assert not host.file(path).exists

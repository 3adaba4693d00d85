"""Real-start steps: need a real k3s release (K3S_ARTIFACTS_DIR) and, for the upgrade, a
second one (K3S_UPGRADE_ARTIFACTS_DIR). The CI host cannot fetch or run k3s
(shared TEST-HOST.md), so without the variables each step is skipped by name
(tests/skips.py skip_not_provided); `make test` also records them in its summary.
"""
import os

import onprem_verify
from skips import skip_not_provided  # pylint: disable=import-error

testinfra_hosts = onprem_verify.hosts("k3s-s1-d12")

HOW = "K3S_ARTIFACTS_DIR: a k3s release's k3s, sha256sum-amd64.txt and k3s-airgap-images-amd64.tar.zst"


def _need(variable, how):
    if not os.environ.get(variable):
        skip_not_provided("k3s release (%s)" % variable, how)


def test_all_nodes_ready(host):
    """Every node of the scenario reports Ready."""
    _need("K3S_ARTIFACTS_DIR", HOW)
    result = host.run("k3s kubectl get nodes --no-headers")
    assert result.rc == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert len(rows) == 4 and all(row[1] == "Ready" for row in rows), result.stdout


def test_upgrade_rolls_one_node_at_a_time(host):
    """playbooks/upgrade.yml to the release in K3S_UPGRADE_ARTIFACTS_DIR; every node ends Ready on it."""
    _need("K3S_ARTIFACTS_DIR", HOW)
    _need("K3S_UPGRADE_ARTIFACTS_DIR", "K3S_UPGRADE_ARTIFACTS_DIR: a second, newer k3s release")
    upgrade = os.environ["K3S_UPGRADE_ARTIFACTS_DIR"]
    result = onprem_verify.ansible_playbook("../../playbooks/upgrade.yml", "-e", "k3s_artifacts_dir=" + upgrade)
    assert result.returncode == 0, result.stdout[-3000:]
    nodes = host.run("k3s kubectl get nodes --no-headers")
    assert all(line.split()[1] == "Ready" for line in nodes.stdout.splitlines()), nodes.stdout

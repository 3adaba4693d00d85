"""helm_release and the platform role's functional tests, run against this scenario's API.

tests/functional/test_helm_release_cluster.py and test_platform_cluster.py need a Kubernetes
API (KUBECONFIG) and skip by name without one; `make test` leaves them out of its pytest
part and runs them here, with KUBECONFIG set to the admin kubeconfig prepare.yml fetched
(server at cluster-s1's address), from the control node, under helm 3 and helm 4. A skip
is a failure here: this is where they must run.
"""
import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s_server")

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."))
FILES = ["tests/functional/test_helm_release_cluster.py", "tests/functional/test_platform_cluster.py"]


def test_functional_cluster_tests_pass_with_none_skipped(host):  # pylint: disable=unused-argument
    junit = EPHEMERAL / "functional-cluster.xml"
    env = dict(os.environ, KUBECONFIG=str(EPHEMERAL / "kubeconfig"), CI=os.environ.get("CI", "true"))
    for key in ("ANSIBLE_LOG_PATH", "ANSIBLE_INVENTORY", "ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH",
                "ANSIBLE_LIBRARY", "ANSIBLE_FILTER_PLUGINS", "ANSIBLE_COLLECTIONS_PATH"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "--junitxml", str(junit), *FILES], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=2400, check=False)
    print(proc.stdout[-20000:])
    print(proc.stderr[-5000:])
    assert proc.returncode == 0, proc.stdout[-8000:]
    cases = ET.parse(junit).getroot().iter("testcase")
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert not skipped, "skipped against the cluster: %s" % skipped

"""helm_release and the platform role's functional tests, run against this scenario's API.

tests/functional/test_helm_release_cluster.py and test_platform_cluster.py need a Kubernetes
API (KUBECONFIG) and skip by name without one; `make test` leaves them out of its pytest
part and runs them here, with KUBECONFIG set to the admin kubeconfig prepare.yml fetched
(server at cluster-s1's address), from the control node, under helm 3 and helm 4 (three
pytest runs side by side). A skip is a failure here: this is where they must run.
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


# Three runs side by side (separate namespaces; the time is mostly helm waiting for pods
# and Ansible starting): helm_release under each helm major, and the platform role.
RUNS = {
    "helm3": ["tests/functional/test_helm_release_cluster.py", "-k", "helm3"],
    "helm4": ["tests/functional/test_helm_release_cluster.py", "-k", "helm4"],
    # -s: the secret scan's figures ("secret scan: ...") reach the log, printed below.
    "platform": ["-s", "tests/functional/test_platform_cluster.py"],
}


def test_functional_cluster_tests_pass_with_none_skipped(host, capsys):  # pylint: disable=unused-argument
    env = dict(os.environ, KUBECONFIG=str(EPHEMERAL / "kubeconfig"), CI=os.environ.get("CI", "true"))
    for key in ("ANSIBLE_LOG_PATH", "ANSIBLE_INVENTORY", "ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH",
                "ANSIBLE_LIBRARY", "ANSIBLE_FILTER_PLUGINS", "ANSIBLE_COLLECTIONS_PATH",
                "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_SSH_ARGS"):
        env.pop(key, None)
    procs = {}
    for name, args in RUNS.items():
        log = open(EPHEMERAL / ("functional-%s.log" % name), "w")  # pylint: disable=consider-using-with
        procs[name] = (subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
             "--junitxml", str(EPHEMERAL / ("functional-%s.xml" % name)), *args],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT), log)
    failed, skipped, ran = [], [], 0
    for name, (proc, log) in procs.items():
        rc = proc.wait(timeout=2400)
        log.close()
        text = (EPHEMERAL / ("functional-%s.log" % name)).read_text()
        print("=== %s (exit %d) ===\n%s" % (name, rc, text[-15000:]))
        if rc != 0:
            failed.append(name)
        cases = list(ET.parse(EPHEMERAL / ("functional-%s.xml" % name)).getroot().iter("testcase"))
        ran += len(cases)
        skipped += ["%s::%s" % (name, c.get("name")) for c in cases if c.find("skipped") is not None]
    with capsys.disabled():
        for line in (EPHEMERAL / "functional-platform.log").read_text().splitlines():
            if line.startswith("secret scan:"):
                print("\n" + line)
    assert not failed, "failed: %s (their output is above)" % failed
    assert not skipped, "skipped against the cluster: %s" % skipped
    assert ran >= 20, "only %d tests ran" % ran

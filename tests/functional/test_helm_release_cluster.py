"""onprem.stack.helm_release against a real Kubernetes cluster, driven through Ansible
(`ansible localhost -m onprem.stack.helm_release`, this checkout as the collection),
under helm 3 and helm 4: install, re-run unchanged, values change -> upgrade, failing
upgrade with atomic -> rolled back, recovery of a release left pending-upgrade by a
killed helm, uninstall.

They run when KUBECONFIG names a cluster that answers `kubectl version`; otherwise
each is skipped with skip_not_provided("Kubernetes API", ...) and listed by name in
the summary of make test. The CI host cannot run a cluster (docs: TEST-HOST facts).
The example chart's images must be pullable by the cluster (or pre-loaded, e.g. k3s
airgap images); the failing upgrade uses an image tag that does not exist.
"""
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from skips import skip_not_provided, tool_path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "examples" / "charts" / "onprem-demo"
KUBECTL = tool_path("kubectl")


def _cluster_reachable():
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig or not KUBECTL:
        return False
    p = subprocess.run([KUBECTL, "version", "--request-timeout=10s"], capture_output=True, text=True, check=False)
    return p.returncode == 0


REACHABLE = _cluster_reachable()


@pytest.fixture
def cluster():
    if not REACHABLE:
        skip_not_provided("Kubernetes API", "KUBECONFIG pointing at a reachable cluster")
    return os.environ["KUBECONFIG"]


@pytest.fixture
def namespace(cluster, helm_binary):
    ns = "onprem-test-" + uuid.uuid4().hex[:8]
    yield ns
    subprocess.run([helm_binary, "uninstall", "demo", "--namespace", ns, "--wait"], capture_output=True, check=False)
    subprocess.run([KUBECTL, "delete", "namespace", ns, "--wait=false"], capture_output=True, check=False)


def module(args, check=False):
    """Run onprem.stack.helm_release through `ansible localhost -m`; return (failed, result)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"), ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    cmd = [str(Path(sys.executable).with_name("ansible")), "localhost", "-m", "onprem.stack.helm_release",
           "-a", json.dumps(args)] + (["--check"] if check else [])
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=900)
    out = json.loads(p.stdout)
    res = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return bool(res.get("failed")), res


def base(helm_binary, namespace, **kw):
    args = {"name": "demo", "namespace": namespace, "chart": str(CHART), "create_namespace": True,
            "helm_binary": helm_binary, "timeout": 180, "values": {"ingress": {"host": "demo.test.internal"}}}
    args.update(kw)
    return args


def status(helm_binary, namespace):
    p = subprocess.run([helm_binary, "status", "demo", "--namespace", namespace, "-o", "json"], capture_output=True,
                       text=True, check=True)
    data = json.loads(p.stdout)
    return data["version"], data["info"]["status"]


def test_cluster_install_and_rerun_unchanged(helm_binary, namespace):
    failed, res = module(base(helm_binary, namespace), check=True)
    assert not failed and res["changed"] is True, res
    failed, res = module(base(helm_binary, namespace))
    assert not failed and res["changed"] is True and (res["revision"], res["status"]) == (1, "deployed"), res
    for check in (True, False):
        failed, res = module(base(helm_binary, namespace), check=check)
        assert not failed and res["changed"] is False and res["changed_reasons"] == [], res
        assert len(res["commands"]) <= 3, res["commands"]


def test_cluster_values_change_upgrades(helm_binary, namespace):
    assert not module(base(helm_binary, namespace))[0]
    failed, res = module(base(helm_binary, namespace, set_values=[{"value": "replicaCount=2"}]))
    assert not failed and res["changed"] is True and res["revision"] == 2, res
    assert "values.replicaCount: (unset) -> 2" in res["changed_reasons"]
    assert module(base(helm_binary, namespace, set_values=[{"value": "replicaCount=2"}]))[1]["changed"] is False


def test_cluster_failing_upgrade_with_atomic_is_rolled_back(helm_binary, namespace):
    assert not module(base(helm_binary, namespace))[0]
    failed, res = module(base(helm_binary, namespace, timeout=30,
                              set_values=[{"value": "image.tag=does-not-exist-0", "value_type": "string"}]))
    assert failed and "helm rolled it back (atomic)" in res["msg"], res
    revision, state = status(helm_binary, namespace)
    assert state == "deployed" and revision == 3  # 2 failed, 3 = rollback to 1


def test_cluster_pending_recovery_after_killing_helm(helm_binary, namespace, tmp_path):
    assert not module(base(helm_binary, namespace))[0]
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"ingress": {"host": "demo.test.internal"}, "image": {"tag": "does-not-exist-1"}}))
    wait = "--wait" if "helm4" not in helm_binary else "--wait=watcher"
    proc = subprocess.Popen([helm_binary, "upgrade", "demo", str(CHART), "--namespace", namespace, "--values",
                             str(values), wait, "--timeout", "600s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _attempt in range(60):
        if status(helm_binary, namespace)[1] == "pending-upgrade":
            break
        time.sleep(1)
    proc.kill()
    proc.wait()
    assert status(helm_binary, namespace) == (2, "pending-upgrade")
    failed, res = module(base(helm_binary, namespace))
    assert failed and "is pending-upgrade" in res["msg"] and "recover_pending" in res["msg"], res
    failed, res = module(base(helm_binary, namespace, recover_pending=True, timeout=600))
    assert failed and "the operation may still be running" in res["msg"], res
    time.sleep(6)
    failed, res = module(base(helm_binary, namespace, recover_pending=True, timeout=5))
    assert not failed, res
    assert res["changed_reasons"][0].startswith("recovered: pending-upgrade revision 2")
    assert res["changed_reasons"][0].endswith("rolled back to revision 1 (deployed)")
    assert res["status"] == "deployed"


def test_cluster_uninstall(helm_binary, namespace):
    assert not module(base(helm_binary, namespace))[0]
    failed, res = module({"name": "demo", "namespace": namespace, "state": "absent", "helm_binary": helm_binary})
    assert not failed and res["changed"] is True and res["status"] == "uninstalled", res
    failed, res = module({"name": "demo", "namespace": namespace, "state": "absent", "helm_binary": helm_binary})
    assert not failed and res["changed"] is False, res

"""roles/k3s drain.yml and uncordon.yml (the entry points playbooks/upgrade.yml uses)
through a real ansible-playbook run on localhost, with `kubectl` replaced by a
stub on the PATH that log their arguments and print what the API would: a Node as
`kubectl get -o json` prints it (Kubernetes API v1). The real-API test of the drain is the
cluster scenario; these cover the decisions: which node name, uncordon after a failed
drain, no uncordon before the node runs the installed kubelet."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VERSION = "v1.31.4+k3s1"


def _node(version, heartbeat="2026-12-04T21:00:10Z"):
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "gpu-1", "namespace": "kube-node-lease"},
         "spec": {"holderIdentity": "gpu-1", "renewTime": heartbeat.replace("Z", ".000000Z")}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1"},
         "status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": heartbeat,
                                    "reason": "KubeletReady"}],
                    "nodeInfo": {"kubeletVersion": version}}}]}


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _run(tmp_path: Path, entry: str, node: dict, drain_rc: int = 0, extra: dict | None = None):
    """Run roles/k3s/tasks/<entry>.yml on localhost (group k3s_server); return (result, log lines)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    (tmp_path / "node.json").write_text(json.dumps(node))
    _stub(bin_dir / "kubectl", f'echo "kubectl $*" >> {log}\n'
          f'case "$*" in *" drain "*) echo "error: cannot evict pod as it would violate the pod\'s disruption budget" >&2;'
          f' exit {drain_rc};; *" uncordon "*) echo "node/gpu-1 uncordoned";; *" get "*) cat {tmp_path / "node.json"};;'
          f' esac\n')
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"k3s_server": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    play_vars = {"k3s_version": VERSION, "k3s_ready_timeout": 1, "k3s_extra_config": {"node-name": "gpu-1"}}
    play_vars.update(extra or {})
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "k3s_server", "gather_facts": False, "vars": play_vars,
        "tasks": [{"ansible.builtin.include_role": {"name": "onprem.stack.k3s", "tasks_from": entry}}]}]))
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    res = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(tmp_path / "inventory.yml"),
                          str(tmp_path / "play.yml")], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    return res, (log.read_text().splitlines() if log.exists() else [])


def test_uncordon_waits_for_the_installed_kubelet(tmp_path):
    """A node still Ready with the old kubelet (right after the restart) is not uncordoned."""
    res, calls = _run(tmp_path, "uncordon", _node("v1.30.8+k3s1"))
    assert res.returncode != 0, res.stdout
    assert not [c for c in calls if " uncordon " in c], calls
    assert "runs kubelet v1.30.8+k3s1, not yet v1.31.4" in res.stdout


def test_uncordon_after_a_heartbeat_since_the_restart(tmp_path):
    """With the restart time known, a heartbeat older than it keeps the node cordoned; a newer one does not."""
    stale, calls = _run(tmp_path, "uncordon", _node(VERSION, "2026-12-04T20:59:00Z"),
                        extra={"__k3s_restart_epoch": {"stdout": "1796418000"}})
    assert stale.returncode != 0 and not [c for c in calls if " uncordon " in c], stale.stdout
    assert "no heartbeat since the restart" in stale.stdout
    fresh, calls = _run(tmp_path, "uncordon", _node(VERSION, "2026-12-04T21:00:05Z"),
                        extra={"__k3s_restart_epoch": {"stdout": "1796418000"}})
    assert fresh.returncode == 0, fresh.stdout
    assert calls[-1].startswith("kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml uncordon gpu-1"), calls


def test_failed_drain_uncordons_the_node_name(tmp_path):
    """drain and uncordon use the node name (k3s node-name), and a failed drain uncordons again."""
    res, calls = _run(tmp_path, "drain", _node(VERSION), drain_rc=1)
    assert res.returncode != 0
    assert [c.split()[3:5] for c in calls] == [["drain", "gpu-1"], ["uncordon", "gpu-1"]]
    assert "Draining node gpu-1 (localhost) failed" in res.stdout and "disruption budget" in res.stdout


def test_drain_that_succeeds(tmp_path):
    res, calls = _run(tmp_path, "drain", _node(VERSION), drain_rc=0)
    assert res.returncode == 0, res.stdout
    assert [c.split()[3] for c in calls] == ["drain"]

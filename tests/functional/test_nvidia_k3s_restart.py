"""roles/nvidia k3s_runtime.yml (toolkit.yml's k3s restart) through a real ansible-playbook
run on localhost: after k3s restarts to detect the nvidia runtime, the node is back only by
the k3s role's rule (roles/k3s/tasks/wait_ready.yml, plugins/filter/k3s_node_ready.py):
Ready, the kubelet of k3s_version and a heartbeat newer than the restart. Ready alone stays
True until the node-monitor grace period runs out, so it must not pass.

`systemctl` and `kubectl` are stubs on the PATH: systemctl answers `show` as systemd prints
it (key=value lines) and logs the restart; kubectl prints a Lease and a Node as
`kubectl get -o json` does (Kubernetes API v1). The real-API test is the cluster scenario."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from test_k3s_drain_uncordon import VERSION, _node, _stub  # the Node/Lease list and the PATH stubs

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, heartbeat: str):
    """Run the nvidia role's k3s_runtime.yml with a changed toolkit; return (result, logged calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    (tmp_path / "node.json").write_text(json.dumps(_node(VERSION, heartbeat)))
    _stub(bin_dir / "systemctl", f'echo "systemctl $*" >> {log}\n'
          'case "$1" in show) printf "Id=k3s.service\\nLoadState=loaded\\nActiveState=active\\nSubState=running\\n'
          'UnitFileState=enabled\\n";; esac\nexit 0\n')
    _stub(bin_dir / "kubectl", f'echo "kubectl $*" >> {log}\ncat {tmp_path / "node.json"}\n')
    containerd = tmp_path / "config.toml"
    containerd.write_text('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]\n')
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"children": {
        "k3s_server": {"hosts": {"localhost": {}}}, "gpu": {"hosts": {"localhost": {}}}},
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "k3s_server", "gather_facts": False,
        "vars": {"k3s_version": VERSION, "nvidia_k3s_ready_timeout": 1, "k3s_extra_config": {"node-name": "gpu-1"}},
        "tasks": [{"ansible.builtin.include_role": {"name": "onprem.stack.nvidia", "tasks_from": "k3s_runtime"},
                   "vars": {"__nvidia_toolkit_changed": True}}]}]))
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    res = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(tmp_path / "inventory.yml"),
                          "-e", json.dumps({"_nvidia_k3s_containerd_config": str(containerd)}), str(tmp_path / "play.yml")],
                         cwd=REPO, env=env, capture_output=True, text=True, check=False)
    return res, (log.read_text().splitlines() if log.exists() else [])


def test_ready_with_a_heartbeat_from_before_the_restart_is_not_back(tmp_path):
    """Right after the restart the node is still Ready with its last heartbeat: that is not back."""
    res, calls = _run(tmp_path, "2000-01-01T00:00:00Z")
    assert "systemctl restart k3s.service" in calls, calls
    assert res.returncode != 0, res.stdout
    assert "no heartbeat since the restart" in res.stdout, res.stdout


def test_a_heartbeat_since_the_restart_is_back(tmp_path):
    res, calls = _run(tmp_path, "2099-01-01T00:00:00Z")
    assert res.returncode == 0, res.stdout
    restart = calls.index("systemctl restart k3s.service")
    assert [c for c in calls[restart:] if c.startswith("kubectl")] == [
        "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get -n kube-node-lease lease/gpu-1 node/gpu-1 -o json"], calls

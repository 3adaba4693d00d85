"""roles/k3s tasks/reset_processes.yml through a real ansible-playbook run on localhost: a
stand-in pod (a "containerd shim" under a temporary k3s data dir whose children are a pod's
processes, one of them with a child of its own) is killed as a whole tree, as k3s'
k3s-killall.sh does; killing only the shim would leave the pod running under init. The data
dir and the binary are pointed at the temporary directory (_k3s_data_dir, _k3s_bin), so no
process of the test host matches."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_reset_kills_the_shims_process_trees(tmp_path):
    data = tmp_path / "k3s"
    shim = data / "data" / "0123abcd" / "bin" / "containerd-shim-runc-v2"
    shim.parent.mkdir(parents=True)
    pids = tmp_path / "pids"
    # The "shim" is a copy of sh (a binary, so its command line starts with its path, as a
    # real shim's does); it starts the "pod" (a shell with a child sleep) and waits.
    shutil.copy("/bin/sh", shim)
    script = f"sh -c 'sleep 600 & echo $! >> {pids}; wait' & echo $! >> {pids}; wait"
    proc = subprocess.Popen([str(shim), "-c", script], start_new_session=True)
    for _attempt in range(100):
        if pids.exists() and len(pids.read_text().split()) == 2:
            break
        time.sleep(0.05)
    tree = [proc.pid] + [int(p) for p in pids.read_text().split()]
    assert all(_alive(p) for p in tree)
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"ansible.builtin.include_role": {"name": "onprem.stack.k3s", "tasks_from": "reset_processes"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    try:
        res = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                              "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"_k3s_data_dir={data}",
                              "-e", f"_k3s_bin={tmp_path}/bin/k3s", str(tmp_path / "play.yml")],
                             cwd=REPO, env=env, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout + res.stderr
        proc.wait(timeout=10)
        for _attempt in range(100):
            if not any(_alive(p) for p in tree):
                break
            time.sleep(0.05)
        alive = [p for p in tree if _alive(p)]
        assert not alive, f"still running after the reset: {alive} of the tree {tree} (shim first)"
        again = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c",
                                "local", "-e", f"ansible_python_interpreter={sys.executable}", "-e",
                                f"_k3s_data_dir={data}", "-e", f"_k3s_bin={tmp_path}/bin/k3s", str(tmp_path / "play.yml")],
                               cwd=REPO, env=env, capture_output=True, text=True, check=False)
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout
    finally:
        for pid in tree:
            if _alive(pid):
                os.kill(pid, 9)

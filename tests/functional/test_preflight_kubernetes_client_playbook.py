"""roles/preflight/tasks/kubernetes_client.yml through a real ansible-playbook run on the
first k3s server (this host, local connection): the Python kubernetes client that host's
Python imports is judged against kubernetes.core's minimum for server-side apply
(19.15.0), and an older one stops preflight with a message naming the version found, the
minimum and the package (issue 19, item 7).

The host's Python is the test's own (.venv, kubernetes 31.0.0 from requirements.txt). The
old client is a stand-in package on PYTHONPATH whose ``__version__`` is 12.0.1 (the module
reads nothing else of it); the tasks, the filter and the rule are the real ones. apt-cache
is the host's own (read only when no client is installed). Cost: two ansible-playbook runs,
about 35 s on the 2-core CI host.
"""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: Preflight's kubernetes client check on the first k3s server
  hosts: k3s_server[0]
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: The role's task file
      ansible.builtin.include_role:
        name: onprem.stack.preflight
        tasks_from: kubernetes_client.yml
"""


def _run(tmp_path, pythonpath=None):
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    k3s_server:\n      hosts:\n        s1:\n          ansible_connection: local\n"
        f"          ansible_python_interpreter: {sys.executable}\n", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(tmp_path / "play.yml"),
         "-i", str(tmp_path / "hosts.yml")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_current_client_passes(tmp_path):
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "[WARNING]" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_old_client_stops_preflight(tmp_path):
    old = tmp_path / "old" / "kubernetes"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text('__version__ = "12.0.1"\n', encoding="utf-8")
    proc = _run(tmp_path, old.parent)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "s1: the Python kubernetes client is 12.0.1, installed (%s imports it)" % sys.executable in out, out
    assert "kubernetes.core needs 19.15.0 or newer for server-side apply" in out, out
    assert "Install python3-kubernetes 19.15.0 or newer" in out, out

"""onprem.stack.k3s_registries through a real ansible-playbook run (the pure filter
tests are in tests/unit/test_k3s_registries.py)."""
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_filter_through_ansible_renders_yaml(tmp_path):
    """The filter resolves by FQCN in a real playbook run and to_nice_yaml gives valid YAML."""
    out = tmp_path / "registries.yaml"
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "ansible.builtin.copy": {"dest": str(out), "mode": "0600", "content":
                                 "{{ 'reg.site:5000' | onprem.stack.k3s_registries(ca_file='/ca.crt') "
                                 "| ansible.builtin.to_nice_yaml }}"}}]}]))
    res = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                          "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
                         cwd=REPO, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    data = yaml.safe_load(out.read_text())
    assert data["mirrors"]["nvcr.io"]["endpoint"] == ["https://reg.site:5000"]

"""onprem.stack.stack_dir through real ansible-playbook runs: the implicit localhost (where
playbooks/bundle.yml builds the bundle and playbooks/airgap.yml verifies it) resolves the
same default bundle and credentials directories as the inventory's hosts.

Until this was fixed the implicit localhost, which has no inventory_dir, fell back to the parent
of the playbook directory: `ansible-playbook playbooks/bundle.yml -i inventories/<site>`
wrote the bundle to <checkout>/bundle while every host looked in inventories/<site>/bundle.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: The implicit localhost and the inventory host h1 record what the lookup gives them
  hosts: localhost:h1
  gather_facts: false
  tasks:
    - name: Record
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ {'bundle': lookup('onprem.stack.stack_dir', 'bundle'),
                      'credentials': lookup('onprem.stack.stack_dir', 'credentials')} | to_json }}"
        mode: "0600"
      delegate_to: localhost
"""


def _run(tmp_path, inventory_arg, *extra):
    """Run the probe playbook (from a directory of its own) with ``-i inventory_arg``; return {host: dirs}."""
    plays = tmp_path / "plays"
    plays.mkdir(exist_ok=True)
    (plays / "probe.yml").write_text(PLAYBOOK, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(plays / "probe.yml"), "-i", inventory_arg,
         "-e", f"out={out}", *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {name: json.loads((out / f"{name}.json").read_text(encoding="utf-8")) for name in ("localhost", "h1")}


@pytest.fixture()
def site(tmp_path):
    """An inventory directory inventories/<site> with one host h1 (local connection)."""
    inv = tmp_path / "inventories" / "site"
    inv.mkdir(parents=True)
    (inv / "hosts.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n", encoding="utf-8")
    return inv


@pytest.mark.parametrize("source", ["directory", "file"])
def test_implicit_localhost_uses_the_inventory_directory(tmp_path, site, source):
    found = _run(tmp_path, str(site if source == "directory" else site / "hosts.yml"))
    expected = {"bundle": str(site / "bundle"), "credentials": str(site / ".credentials")}
    assert found["h1"] == expected
    assert found["localhost"] == expected


def test_explicit_directories_win(tmp_path, site):
    found = _run(tmp_path, str(site), "-e", f"stack_bundle_dir={tmp_path}/b", "-e", f"stack_credentials_dir={tmp_path}/c")
    assert found["localhost"] == found["h1"] == {"bundle": f"{tmp_path}/b", "credentials": f"{tmp_path}/c"}


def test_host_list_without_a_file_falls_back_to_the_playbook_parent(tmp_path):
    """`-i h1,` names no inventory file: hosts and localhost use the parent of the playbook directory."""
    found = _run(tmp_path, "h1,", "-e", "ansible_connection=local", "-e", f"ansible_python_interpreter={sys.executable}")
    expected = {"bundle": str(tmp_path / "bundle"), "credentials": str(tmp_path / ".credentials")}
    assert found["localhost"] == found["h1"] == expected

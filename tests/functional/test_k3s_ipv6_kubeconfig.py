"""roles/k3s with IPv6 addresses and a non-default API port, through real ansible-playbook
runs on localhost: the server URL a joining node gets is https://[addr]:port (RFC 3986
section 3.2.2: an IPv6 literal in a URL is bracketed) and passes validation; the kubeconfig
fetched to the control node names the API endpoint with k3s_api_port (k3s writes
https://127.0.0.1:<https-listen-port> into /etc/rancher/k3s/k3s.yaml)."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi==
    server: https://127.0.0.1:7443
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
users:
- name: default
  user: {client-certificate-data: LS0t, client-key-data: LS0t}
"""


def _play(tmp_path: Path, entry: str, play_vars: dict, hostvars: dict, extra: dict | None = None):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"children": {
        "k3s_server": {"hosts": {"s1": dict(local, **hostvars.get("s1", {}))}},
        "k3s_agent": {"hosts": {"a1": dict(local, **hostvars.get("a1", {}))}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "all", "gather_facts": False, "vars": play_vars,
        "tasks": [{"ansible.builtin.include_role": {"name": "onprem.stack.k3s", "tasks_from": entry, "public": True}},
                  {"ansible.builtin.debug": {"msg": "URL={{ _k3s_url }}"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    return subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(tmp_path / "inventory.yml"),
                           "-e", json.dumps(extra or {}), str(tmp_path / "play.yml")], cwd=REPO, env=env, capture_output=True, text=True, check=False)


def test_ipv6_first_server_gives_a_bracketed_server_url(tmp_path):
    res = _play(tmp_path, "validate", {"k3s_api_port": 7443}, {"s1": {"k3s_node_ip": "fd00::11"}})
    assert res.returncode == 0, res.stdout + res.stderr
    assert '"msg": "URL=https://[fd00::11]:7443"' in res.stdout, res.stdout


def test_kubeconfig_names_endpoint_and_api_port(tmp_path):
    (tmp_path / "k3s.yaml").write_text(KUBECONFIG)
    dest = tmp_path / "out" / "kubeconfig"
    res = _play(tmp_path, "kubeconfig", {"k3s_api_port": 7443, "k3s_api_endpoint": "fd00::100",
                                         "k3s_kubeconfig_dest": str(dest)}, {}, {"_k3s_config_dir": str(tmp_path)})
    assert res.returncode == 0, res.stdout + res.stderr
    config = yaml.safe_load(dest.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://[fd00::100]:7443"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert "LS0t" not in res.stdout

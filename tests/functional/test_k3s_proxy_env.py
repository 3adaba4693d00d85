"""roles/k3s tasks/proxy.yml (k3s_proxy) through a real ansible-playbook run on localhost,
writing into a temporary directory instead of /etc/systemd/system (_k3s_systemd_dir): the
environment file k3s reads (docs.k3s.io/advanced, "Configuring an HTTP proxy") is 0600,
NO_PROXY holds what must not go through the proxy, the credentials never reach the output
(also with --diff), a second run changes nothing and an empty k3s_proxy removes the file."""
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROXY = {"http_proxy": "http://bob:s3cret-pw@proxy.corp:3128", "https_proxy": "http://bob:s3cret-pw@proxy.corp:3128",
         "no_proxy": [".corp.example", "10.99.0.0/16"]}


def _run(tmp_path: Path, proxy: dict):
    inventory = {"all": {"children": {
        "k3s_server": {"hosts": {"localhost": {"ansible_connection": "local", "k3s_node_ip": "192.0.2.11",
                                               "ansible_python_interpreter": sys.executable},
                                 "s2": {"ansible_host": "192.0.2.12"}, "s3": {"ansible_host": "fd00::13"}}},
        "registry": {"hosts": {"reg1": {"ansible_host": "192.0.2.50", "registry_port": 5000}}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"k3s_proxy": proxy, "k3s_api_endpoint": "api.site.test",
                 "k3s_cluster_config": {"cluster-cidr": "10.42.0.0/16,fd42::/56", "service-cidr": "10.43.0.0/16",
                                        "cluster-domain": "k8s.site"}},
        "tasks": [{"ansible.builtin.include_role": {"name": "onprem.stack.k3s", "tasks_from": "proxy"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    return subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(tmp_path / "inventory.yml"),
                           "-e", f"_k3s_systemd_dir={tmp_path}", "--diff", "-v", str(tmp_path / "play.yml")],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)


def _changed(res):
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", res.stdout).group(1))


def test_proxy_env_file(tmp_path):
    first = _run(tmp_path, PROXY)
    assert first.returncode == 0, first.stdout + first.stderr
    env_file = tmp_path / "k3s.service.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and not line.startswith("#"))
    assert values["HTTP_PROXY"] == PROXY["http_proxy"] and values["HTTPS_PROXY"] == PROXY["https_proxy"]
    no_proxy = values["NO_PROXY"].split(",")
    for entry in ["localhost", "127.0.0.0/8", "::1", "10.42.0.0/16", "fd42::/56", "10.43.0.0/16", ".svc", ".k8s.site",
                  "192.0.2.11", "192.0.2.12", "fd00::13", "api.site.test", "192.0.2.50", ".corp.example", "10.99.0.0/16"]:
        assert entry in no_proxy, (entry, no_proxy)
    assert len(no_proxy) == len(set(no_proxy))
    assert "s3cret-pw" not in first.stdout + first.stderr
    again = _run(tmp_path, PROXY)
    assert again.returncode == 0 and _changed(again) == 0, again.stdout
    gone = _run(tmp_path, {})
    assert gone.returncode == 0 and _changed(gone) == 1 and not env_file.exists(), gone.stdout

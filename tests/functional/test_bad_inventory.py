"""Wrong or unsafe inventory values stop site.yml before any host is changed.

Each case runs the real site.yml with ansible-playbook against the CI host itself
(connection local, host name `target` in groups postgres and redis) with one bad
value. Preflight validates every planned role's input first with
any_errors_fatal, so the run must fail in the preflight play with a message that
names the variable, report changed=0 and never reach the data-layer plays. If
validation were missing the data plays would start: the assertions catch that.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

INVENTORY = """
all:
  hosts:
    target:
      ansible_connection: local
      ansible_python_interpreter: {python}
  children:
    postgres: {{hosts: {{target: {{}}}}}}
    redis: {{hosts: {{target: {{}}}}}}
    registry: {{hosts: {{target: {{}}}}}}
"""

# Small enough for any CI host; the point here is input validation.
BASE_VARS = {
    "preflight_requirements": {"postgres": {"cpus": 1, "memory_mb": 1, "disk_gb": 0}},
    "preflight_time_sync_required": False,
    "postgresql_users": [{"name": "app"}],
    "postgresql_databases": [{"name": "appdb", "owner": "app"}],
    "registry_load_bundle": False,
}

CASES = {
    "postgresql_version_too_old": ({"postgresql_version": 13}, ["postgresql_version", "15 or newer", "'13'"]),
    "pg_hba_trust_over_network": (
        {"postgresql_hba_rules": [{"contype": "host", "address": "10.0.0.0/8", "method": "trust"}]},
        ["postgresql_hba_rules[0]", "trust"],
    ),
    "redis_maxmemory_not_a_size": ({"redis_maxmemory": "lots"}, ["redis_maxmemory", "'lots'"]),
    "unknown_os": (
        {"preflight_supported_os": {"Plan9": ["4"]}},
        ["which onprem.stack does not support", "Plan9 4"],
    ),
    "tls_cert_path_missing": (
        {"postgresql_tls_cert": "/nonexistent/server.crt", "postgresql_tls_key": "/nonexistent/server.key"},
        ["postgresql_tls_cert", "/nonexistent/server.crt", "existing PEM files"],
    ),
    "pg_hba_method_not_a_choice": (
        {"postgresql_hba_rules": [{"contype": "host", "address": "10.0.0.0/8", "method": "plaintext"}]},
        ["postgresql_hba_rules", "method", "plaintext"],
    ),
    "database_owner_unknown": (
        {"postgresql_databases": [{"name": "appdb", "owner": "nobody"}]},
        ["postgresql_databases", "owner 'nobody'"],
    ),
    "redis_policy_not_a_choice": ({"redis_maxmemory_policy": "lru"}, ["redis_maxmemory_policy", "lru"]),
    "registry_port_out_of_range": ({"registry_port": 70000}, ["registry_port", "70000"]),
    "registry_bundle_missing": (
        {"registry_load_bundle": True, "stack_bundle_dir": "/nonexistent/bundle"},
        ["/nonexistent/bundle/bundle.json", "playbooks/bundle.yml"],
    ),
    "airgap_bundle_without_repository": (
        {"stack_airgap": True, "stack_bundle_dir": "/nonexistent/bundle"},
        ["/nonexistent/bundle (stack_bundle_dir) has no apt repository for", "bundle_os_targets"],
    ),
    "airgap_host_bundle_dir_relative": (
        {"stack_airgap": True, "airgap_host_bundle_dir": "relative/dir"}, ["airgap_host_bundle_dir", '"relative/dir"'],
    ),
}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inv") / "hosts.yml"
    path.write_text(INVENTORY.format(python=sys.executable), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_value_stops_before_any_change(case: str, inventory: Path, tmp_path: Path) -> None:
    bad, expected = CASES[case]
    extra = dict(BASE_VARS, stack_credentials_dir=str(tmp_path / "credentials"), **bad)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "site.yml", "-i", str(inventory), "-e", json.dumps(extra)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for text in expected:
        assert text in " ".join(out.split()), f"{text!r} not in output:\n{out}"
    assert "PLAY [PostgreSQL with pgvector]" not in out, out
    assert "PLAY [Redis]" not in out, out
    recap = out.split("PLAY RECAP", 1)[1]
    assert "changed=0" in recap, recap
    assert not (tmp_path / "credentials").exists(), "credentials were generated before the failure"

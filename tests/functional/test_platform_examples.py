"""The product examples (examples/align, examples/alexandria, examples/aileron) stay valid.

Each example is a complete inventory (hosts.yml and group_vars/, only the groups its
product needs): `ansible-inventory -i examples/<product> --list` parses it, and a copy of
it, with the charts it points at stood in for by minimal charts of the same name and
version in the inventory directory (the user supplies the real ones), passes the real
preflight (playbooks/preflight.yml, which runs every role's validation, the platform
role's on the first k3s_server). Host measurements are turned
off as in test_example_inventory.py; nothing is changed on the CI host.
"""
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from test_example_inventory import HOST_CHECKS_OFF  # preflight's host measurements, off

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = ["align", "alexandria", "aileron"]
# What a site keeps in its vault (group_vars/all/vault.yml) for the examples.
VAULT = {"vault_alexandria_okta_client_secret": "stand-in-okta-secret"}
# The groups each product needs (../shared/products: Alexandria keeps SQLite on a PVC).
GROUPS = {"align": {"k3s_server", "k3s_agent", "gpu", "postgres", "redis", "registry"},
          "alexandria": {"k3s_server", "registry"},
          "aileron": {"k3s_server", "k3s_agent", "postgres", "redis", "registry"}}


def _chart_yaml(name: str, version: str) -> bytes:
    return yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}).encode()


def _stand_in_chart(inventory: Path, release: dict) -> None:
    """A minimal chart at the release's (relative) chart path, named and versioned as the release says."""
    chart = release["chart"]
    if chart.startswith("oci://"):
        return
    path = inventory / chart
    name = Path(chart).name.split("-" + str(release.get("version", "")))[0] if chart.endswith(".tgz") else path.name
    version = str(release.get("version", "0.1.0"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if chart.endswith(".tgz"):
        data = _chart_yaml(name, version)
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(f"{name}/Chart.yaml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    else:
        path.mkdir(parents=True, exist_ok=True)
        (path / "Chart.yaml").write_bytes(_chart_yaml(name, version))


def _site(tmp: Path, example: str) -> Path:
    """A copy of the example's inventory with stand-in charts; returns the inventory directory."""
    inventory = tmp / "inventory"
    shutil.copytree(REPO / "examples" / example, inventory, ignore=shutil.ignore_patterns("README.md"))
    platform = yaml.safe_load((REPO / "examples" / example / "group_vars" / "all" / "platform.yml").read_text())
    assert platform.get("platform_releases"), f"examples/{example} has no platform_releases"
    for release in platform["platform_releases"]:
        _stand_in_chart(inventory, release)
    return inventory


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_is_an_inventory(example):
    """`ansible-inventory -i examples/<product> --list` parses it; it has exactly its product's groups."""
    res = subprocess.run([str(BIN / "ansible-inventory"), "-i", f"examples/{example}", "--list"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    inv = json.loads(res.stdout)
    groups = {g for g, v in inv.items() if g not in ("_meta", "all", "ungrouped") and v.get("hosts")}
    assert groups == GROUPS[example], f"examples/{example}: groups {sorted(groups)}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_passes_preflight(tmp_path, example):
    """The example's inventory data passes every role's real validation (about 15 s each)."""
    inventory = _site(tmp_path, example)
    variables = dict(HOST_CHECKS_OFF, ansible_connection="local", ansible_python_interpreter=sys.executable,
                     stack_credentials_dir=str(tmp_path / "credentials"), **VAULT)
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/preflight.yml",
                          "-e", json.dumps(variables)], cwd=REPO, capture_output=True, text=True, timeout=600,
                         check=False)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    out = res.stdout
    assert "Validate onprem.stack.platform input (first k3s_server)" in out
    # One task validates releases and Secrets together (plugins/module_utils/_validate/platform.py).
    assert re.search(r"TASK \[onprem\.stack\.platform : Validate \| inventory input[^\n]*\][^\n]*\n(?:[^\n]*\n)*?ok: \[k3s-1\]", out), \
        "the platform role did not validate the releases and Secrets"
    assert not (tmp_path / "credentials").exists() or not any((tmp_path / "credentials").rglob("*")), \
        "validation wrote a credential"


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_names_no_password(example):
    """No example carries a password or a secret in clear: only references and vault variables."""
    for path in (REPO / "examples" / example / "group_vars").rglob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for secret in data.get("platform_secrets", []):
            for key, item in secret["data"].items():
                if "value" in item and any(word in key.lower() for word in ("password", "secret", "key", "token")):
                    assert str(item["value"]).startswith("{{ vault_"), f"{path}: {secret['name']}.{key} is not vaulted"
        for user in data.get("postgresql_users", []) + data.get("redis_acl_users", []):
            assert str(user.get("password", "{{ vault_")).startswith("{{ vault_"), \
                f"{path}: {user['name']} has a password in clear"

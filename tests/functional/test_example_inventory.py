"""inventories/example is a usable starting point: it parses, has every group of
DESIGN.md, and the data-layer roles accept its variables as written.

The role validation runs for real on the CI host (connection local, the example's
postgres/redis host standing in); it changes nothing.
"""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GROUPS = {"k3s_server", "k3s_agent", "gpu", "postgres", "redis", "registry"}


def _run(*argv):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_example_inventory_has_every_group():
    res = _run(str(BIN / "ansible-inventory"), "-i", "inventories/example", "--list")
    assert res.returncode == 0, res.stderr
    inv = json.loads(res.stdout)
    missing = {g for g in GROUPS if not inv.get(g, {}).get("hosts")}
    assert not missing, f"groups without hosts in inventories/example: {sorted(missing)}"
    assert inv["k3s_server"]["hosts"][0] == "k3s-1"
    assert set(inv["gpu"]["hosts"]) <= set(inv["k3s_agent"]["hosts"]) | set(inv["k3s_server"]["hosts"])


def test_example_inventory_passes_role_validation():
    res = _run(
        str(BIN / "ansible-playbook"), "-i", "inventories/example", "tests/fixtures/validate_inventory.yml",
        "-e", "ansible_connection=local", "-e", f"ansible_python_interpreter={sys.executable}",
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "ok=" in res.stdout and "failed=0" in res.stdout
    # It really validated (the assertions ran) for db-1.
    assert "Validate | postgresql_client_cidrs" in res.stdout
    # ... and for the k3s servers and agents.
    assert "Validate | odd number of servers" in res.stdout

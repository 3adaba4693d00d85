"""inventories/example is a usable starting point: it parses, has every group of
DESIGN.md, and the real preflight (playbooks/preflight.yml, role onprem.stack.preflight,
which validates the input of every role planned on each host) accepts it as written.
So does inventories/local, the embedded default that `make demo` runs site.yml on.

The example's hosts do not exist here, so every host is reached with the local
connection: the CI host (Debian 12) stands in for each of them. Only the checks that
measure a host are turned off through preflight's own variables (resources, time
sync, kernel features, swap, ports); the OS check and every role's validation run
unchanged. Nothing is changed on the CI host.
"""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GROUPS = {"k3s_server", "k3s_agent", "gpu", "postgres", "redis", "registry"}
# preflight's host measurements, off: the stand-in host is not the example's hardware.
HOST_CHECKS_OFF = {
    "preflight_requirements": {},
    "preflight_time_sync_required": False,
    "preflight_kernel_features": [],
    "preflight_k3s_swap_off": False,
    "preflight_ports": {},
}


def _run(*argv):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def _preflight(tmp_path, inventory="inventories/example", **extra):
    """Run playbooks/preflight.yml on ``inventory`` (local connection); return the CompletedProcess."""
    variables = dict(HOST_CHECKS_OFF, ansible_connection="local", ansible_python_interpreter=sys.executable,
                     stack_credentials_dir=str(tmp_path / "credentials"), **extra)
    return _run(str(BIN / "ansible-playbook"), "-i", inventory, "playbooks/preflight.yml",
                "-e", json.dumps(variables))


def test_example_inventory_has_every_group():
    res = _run(str(BIN / "ansible-inventory"), "-i", "inventories/example", "--list")
    assert res.returncode == 0, res.stderr
    inv = json.loads(res.stdout)
    missing = {g for g in GROUPS if not inv.get(g, {}).get("hosts")}
    assert not missing, f"groups without hosts in inventories/example: {sorted(missing)}"
    assert inv["k3s_server"]["hosts"][0] == "k3s-1"
    assert set(inv["gpu"]["hosts"]) <= set(inv["k3s_agent"]["hosts"]) | set(inv["k3s_server"]["hosts"])


def test_example_inventory_passes_preflight(tmp_path):
    """README's "Your own site": the copied example passes the real preflight validation (about 15 s).

    Before 0.2.1 registry_load_bundle defaulted to true, so registry-1 failed here without a bundle.
    """
    res = _preflight(tmp_path)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    # Every role's validation really ran on the hosts that plan it.
    for task, host in [("onprem.stack.postgresql : Validate | inventory input", "db-1"),
                       ("onprem.stack.registry : Validate | inventory input", "registry-1"),
                       ("Supported operating system", "gpu-1"), ("onprem.stack.k3s : Validate | inventory input", "k3s-1")]:
        assert task in res.stdout, f"preflight did not run {task!r}"
        assert f"ok: [{host}]" in res.stdout
    assert "redis" in res.stdout and "Validate onprem.stack.redis input" in res.stdout


def test_preflight_refuses_registry_load_without_bundle(tmp_path):
    """The same run with registry_load_bundle true and no bundle fails in preflight, naming the variable (about 15 s)."""
    res = _preflight(tmp_path, registry_load_bundle=True, stack_bundle_dir=str(tmp_path / "no-bundle"))
    assert res.returncode != 0
    assert "registry_load_bundle is true but %s/bundle.json does not exist" % (tmp_path / "no-bundle") in res.stdout
    assert "registry-1" in res.stdout


def test_embedded_default_inventory_passes_preflight(tmp_path):
    """README's first command, `make demo`, runs site.yml on inventories/local: its input passes the
    real preflight, every role's validation included (about 10 s).

    Once preflight refused Redis beyond loopback without TLS (unless redis_allow_plaintext_network),
    inventories/local still bound Redis to 0.0.0.0 without TLS, and `make demo` stopped here while
    `make test`, which never ran it, passed.
    """
    res = _preflight(tmp_path, inventory="inventories/local")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    for task in ("onprem.stack.redis : Validate | inventory input", "onprem.stack.postgresql : Validate | inventory input"):
        assert task in res.stdout, f"preflight did not run {task!r}"
    assert "ok: [onprem-local]" in res.stdout

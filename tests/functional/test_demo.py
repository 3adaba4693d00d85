"""README's first command works: `make demo`'s script (scripts/demo.sh) converges the
embedded default inventory (inventories/local) on a fresh podman host, a second run is a
no-op (changed=0), and the psql and redis-cli lines it prints connect over TLS as printed.

Real components: the Debian 13 systemd image that `make test` builds (`make images`),
podman, site.yml over the containers.podman connection, and the CI host's psql and
redis-cli (`make host` installs postgresql-client and redis-tools). The k3s layer is left
out (DEMO_K3S=0): it needs a k3s release, which the k3s scenario covers.

The demo's names are fixed (container onprem-local, volume onprem-local-data,
inventories/local/.credentials). When any of them exists it is someone's demo: the test
is skipped, by name, rather than touching it. Otherwise it ends with
`scripts/demo.sh --reset`. Cost: about 100 s for the first converge and 50 s for the
second on the 2-core CI host.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from skips import skip_missing_tool, skip_not_provided

REPO = Path(__file__).resolve().parents[2]
NAME = "onprem-local"
IMAGE = "localhost/onprem-debian13-systemd:latest"
CREDS = REPO / "inventories" / "local" / ".credentials"


def _podman(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *argv], capture_output=True, text=True, timeout=120, check=False)


def _demo(*argv) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEMO_K3S="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_STRATEGY", None)
    return subprocess.run([str(REPO / "scripts" / "demo.sh"), *argv], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def _recap_changed(out: str) -> int:
    """changed= of onprem-local in the PLAY RECAP of ansible-playbook's default output."""
    found = re.findall(r"^onprem-local\s+:.*?changed=(\d+)", out, re.M)
    assert found, "no PLAY RECAP line for onprem-local in:\n" + out[-3000:]
    return int(found[-1])


@pytest.fixture(scope="module")
def demo():
    """Run the demo twice on a fresh host; yield (first, second) CompletedProcess; reset after."""
    missing = [tool for tool in ("podman", "psql", "redis-cli") if not shutil.which(tool)]
    if missing:
        skip_missing_tool(", ".join(missing), "make host installs them")
    if _podman("image", "exists", IMAGE).returncode != 0:
        skip_missing_tool(f"image {IMAGE}", "make images builds it")
    mine = [what for what, there in (
        (f"container {NAME}", _podman("container", "exists", NAME).returncode == 0),
        ("volume onprem-local-data", _podman("volume", "exists", "onprem-local-data").returncode == 0),
        (str(CREDS), CREDS.exists()),
    ) if there]
    if mine:
        skip_not_provided("a host without a demo of its own", f"{', '.join(mine)} exist; make demo-reset removes them")
    try:
        first = _demo()
        second = _demo() if first.returncode == 0 else None
        yield first, second
    finally:
        reset = _demo("--reset")
        assert reset.returncode == 0, reset.stderr


def test_demo_converges_then_is_a_no_op(demo):
    first, second = demo
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
    assert _recap_changed(first.stdout) > 0
    assert "onprem-local is ready at" in first.stdout
    assert "k3s cluster layer LEFT OUT: DEMO_K3S=0." in first.stdout
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-2000:]
    assert _recap_changed(second.stdout) == 0, "the second make demo changed something"


def test_printed_connection_lines_work_over_tls(demo):
    """The psql and redis-cli lines the demo prints, run as printed: pgvector is there, Redis
    takes the ACL user's SET over TLS verified against the site CA, and its plain port is closed."""
    out = demo[0].stdout
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith(("PGPASSWORD=", "REDISCLI_AUTH="))]
    assert len(lines) == 2, f"expected a psql and a redis-cli line, found {lines}"
    for line in lines:
        res = subprocess.run(["bash", "-c", line], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 0, f"{line}\n{res.stdout}{res.stderr}"
        if line.startswith("PGPASSWORD="):
            assert re.search(r"^\s*\d+\.\d+\.\d+\s*$", res.stdout, re.M), res.stdout
        else:
            assert res.stdout.strip() == "OK", res.stdout
            assert "--tls --cacert" in line
    ip = re.search(r"onprem-local is ready at (\S+)\.", out).group(1)
    plain = subprocess.run(["redis-cli", "-h", ip, "PING"], capture_output=True, text=True, timeout=30, check=False)
    assert "PONG" not in plain.stdout, "Redis answered on its port without TLS"

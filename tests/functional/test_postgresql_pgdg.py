"""The PGDG path of onprem.stack.postgresql on a host whose apt lists are fresh.

apt.postgresql.org is not reachable from the CI host, so PGDG is replaced by a local
apt repository built here in its layout (dists/bookworm-pgdg/main, InRelease signed
with a throw-away GnuPG key, the public key as an ASCII-armoured file). Its packages
are stand-ins (empty packages named postgresql-16, postgresql-16-pgvector,
postgresql-client-16 and python3-psycopg2): what is tested is that apt finds them
right after the role adds the repository. Everything else is real: the role's
os_vars.yml and install.yml, ansible.builtin.deb822_repository with signed-by, apt
verifying the signature, python3-debian (which deb822_repository needs) from Debian's
archive, in a podman container of the Debian 12 test image (`make images`) whose apt
lists were just refreshed from Debian's archive (so cache_valid_time: 3600 alone would
skip the refresh after PGDG is added). The stand-ins' version (99.0) is above Debian's,
so apt takes them from the stand-in repository. Needs podman, that image and Debian's
archive. Cost: 50-80 s on the 2-core CI host (most of it apt-get update and python3-debian).
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from skips import skip_missing_tool

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
IMAGE = "localhost/onprem-debian12-systemd:latest"
ENV = dict(os.environ, CONTAINERS_CONF=str(REPO / ".config" / "containers.conf"))
STAND_INS = ["postgresql-16", "postgresql-16-pgvector", "postgresql-client-16", "python3-psycopg2"]
VERSION = "99.0-1.pgdg-test"


def _sh(*argv, **kw):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=True, env=ENV, **kw)


def _build_repo(root: Path) -> None:
    """Write a signed PGDG-layout repository (suite bookworm-pgdg, component main) to root."""
    pool = root / "pool"
    pool.mkdir(parents=True)
    entries = []
    for name in STAND_INS:
        pkg = root / "build" / name
        (pkg / "DEBIAN").mkdir(parents=True)
        (pkg / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: {VERSION}\nArchitecture: all\nMaintainer: onprem.stack tests <t@example.invalid>\n"
            f"Description: stand-in for PGDG's {name} (test only)\n")
        deb = pool / f"{name}_{VERSION}_all.deb"
        _sh("dpkg-deb", "--root-owner-group", "--build", pkg, deb)
        data = deb.read_bytes()
        control = _sh("dpkg-deb", "--field", deb).stdout.rstrip("\n")
        entries.append(f"{control}\nFilename: pool/{deb.name}\nSize: {len(data)}\n"
                       f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
    shutil.rmtree(root / "build")
    binary = root / "dists" / "bookworm-pgdg" / "main" / "binary-amd64"
    binary.mkdir(parents=True)
    packages = "\n".join(entries).encode()
    (binary / "Packages").write_bytes(packages)
    (binary / "Packages.gz").write_bytes(gzip.compress(packages))
    dist = root / "dists" / "bookworm-pgdg"
    sums = "".join(f" {hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_size} {p.relative_to(dist)}\n"
                   for p in sorted(binary.iterdir()))
    (dist / "Release").write_text(
        "Origin: onprem-test\nLabel: PGDG stand-in\nSuite: bookworm-pgdg\nCodename: bookworm-pgdg\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\nArchitectures: amd64\n"
        f"Components: main\nSHA256:\n{sums}")
    home = tempfile.mkdtemp(prefix="g", dir="/tmp")  # gpg-agent's socket path must stay short
    try:
        gpg = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        _sh(*gpg, "--quick-generate-key", "onprem pgdg stand-in <t@example.invalid>", "ed25519", "sign", "never")
        _sh(*gpg, "--clearsign", "--output", dist / "InRelease", dist / "Release")
        (root / "key.asc").write_text(_sh(*gpg, "--armor", "--export").stdout)
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def target(tmp_path):
    """A Debian 12 container whose apt lists were refreshed from Debian's archive seconds ago; the
    stand-in PGDG repository mounted read-only at /srv/pgdg. Yields the container's name."""
    for tool in ("podman", "dpkg-deb", "gpg"):
        if not shutil.which(tool):
            skip_missing_tool(tool, "make host")
    if subprocess.run(["podman", "image", "exists", IMAGE], env=ENV, check=False).returncode != 0:
        skip_missing_tool(IMAGE, "make images")
    _build_repo(tmp_path / "pgdg")
    os.chmod(tmp_path, 0o755)
    name = "onprem-pytest-pgdg-%d" % os.getpid()
    _sh("podman", "run", "-d", "--rm", "--name", name,
        "-v", f"{tmp_path / 'pgdg'}:/srv/pgdg:ro", IMAGE, "sleep", "infinity")
    try:
        _sh("podman", "exec", name, "apt-get", "update", "-q")
        yield name
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], env=ENV, capture_output=True, check=False)


def test_pgdg_packages_found_right_after_the_repository_is_added(target, tmp_path):
    """Fresh lists (touched seconds ago), then the role adds PGDG and installs postgresql-16 from it."""
    playbook = tmp_path / "install.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "PGDG install", "hosts": "all", "gather_facts": True,
        "vars": {"postgresql_version": 16, "postgresql_package_source": "pgdg",
                 "postgresql_pgdg_repo_url": "file:///srv/pgdg",
                 "postgresql_pgdg_key_url": "file:///srv/pgdg/key.asc"},
        "tasks": [{"name": step, "ansible.builtin.include_role": {"name": "onprem.stack.postgresql", "tasks_from": tasks}}
                  for step, tasks in (("OS data", "os_vars.yml"), ("Install", "install.yml"))]}]))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {target: {
        "ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    env = dict(ENV, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    p = subprocess.run([PLAYBOOK, "-i", str(inventory), str(playbook)], env=env, cwd=REPO,
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    for name in STAND_INS:
        version = _sh("podman", "exec", target, "dpkg-query", "-W", "-f=${Version}", name).stdout
        assert version == VERSION, f"{name}: {version!r}"
    # Signed-by, not trusted: apt verified InRelease with the key the role installed.
    source = _sh("podman", "exec", target, "cat", "/etc/apt/sources.list.d/pgdg.sources").stdout
    assert "Signed-By:" in source and "Trusted" not in source, source

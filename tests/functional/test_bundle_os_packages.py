"""The package list of a bundle's apt repository comes from the roles' own vars files.

Drives the real role onprem.stack.bundle (playbooks/bundle.yml) on a copy of the
collection in which one package was added to roles/redis/vars/main.yml, and resolves
the Debian 13 repository for real in a podman container of the Debian 13 test image
(`make images`), from Debian's archive. Nothing is replaced: the test needs podman,
that image and the Debian archive, and is skipped (naming what is missing) without them.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
IMAGE = "localhost/onprem-debian13-systemd:latest"
ADDED = "jq"  # in Debian 13, installed by no role of the collection


def _missing():
    if not shutil.which("podman"):
        return "podman not installed (make host)"
    env = dict(os.environ, CONTAINERS_CONF=str(REPO / ".config" / "containers.conf"))
    if subprocess.run(["podman", "image", "exists", IMAGE], env=env, check=False).returncode != 0:
        return f"{IMAGE} not built (make images)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def _copy_collection(dest: Path) -> Path:
    """Copy the collection's roles, plugins and playbooks to dest/ansible_collections/onprem/stack."""
    root = dest / "ansible_collections" / "onprem" / "stack"
    root.mkdir(parents=True)
    for name in ("galaxy.yml", "meta", "roles", "plugins", "playbooks"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, root / name)
    return root


def _run(root: Path, collections: Path, extra: dict):
    varsfile = collections / "vars.yml"
    varsfile.write_text(yaml.safe_dump(extra))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               CONTAINERS_CONF=str(REPO / ".config" / "containers.conf"))
    p = subprocess.run([PLAYBOOK, str(root / "playbooks" / "bundle.yml"), "-e", f"@{varsfile}"],
                       env=env, cwd=collections, capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    return p


def test_package_added_to_a_role_vars_file_is_in_the_bundle_repository(tmp_path):
    root = _copy_collection(tmp_path)
    redis_vars = root / "roles" / "redis" / "vars" / "main.yml"
    data = yaml.safe_load(redis_vars.read_text())
    assert ADDED not in data["_redis_packages"]
    data["_redis_packages"].append(ADDED)
    redis_vars.write_text("---\n" + yaml.safe_dump(data, sort_keys=False))

    bundle = tmp_path / "bundle"
    extra = {"stack_bundle_dir": str(bundle), "bundle_cache_dir": str(tmp_path / "cache"), "bundle_binaries": False,
             "bundle_charts": [], "bundle_extra_images": [], "bundle_files": [],
             "bundle_os_targets": [{"name": "debian-13", "image": IMAGE}]}
    _run(root, tmp_path, extra)

    repo = bundle / "repos" / "debian-13"
    inputs = json.loads((repo / "onprem-inputs.json").read_text())
    # The added package, next to what the unchanged roles declare: PostgreSQL's major
    # version comes from roles/postgresql/vars/Debian-13.yml.
    assert ADDED in inputs["packages"]
    assert {"postgresql-17", "postgresql-17-pgvector", "redis-server", "docker-registry", "skopeo"} <= set(inputs["packages"])
    names = {line.split(": ", 1)[1] for line in (repo / "Packages").read_text().splitlines()
             if line.startswith("Package: ")}
    assert ADDED in names and "postgresql-17" in names

    # Same inputs: the repository is not resolved again.
    p = _run(root, tmp_path, extra)
    assert int(p.stdout.rsplit("changed=", 1)[1].split()[0]) == 0, p.stdout[-3000:]

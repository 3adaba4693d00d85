"""Bad inputs of playbooks/bundle.yml stop the build before anything is created.

Runs the real playbook (role onprem.stack.bundle) with one bad variable per case. The
role's argument specs and tasks/validate.yml, and the package derivation from the
roles' vars, run before the first download or directory: the message must name the
variable (or the file), the value found and what was expected, and the bundle
directory must not exist afterwards. Needs only ansible-playbook.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))

CASES = {
    "os_target_name_with_minor_version": (
        {"bundle_os_targets": [{"name": "ubuntu-24.04", "image": "docker.io/library/ubuntu:24.04"}]},
        ["bundle_os_targets", '"ubuntu-24.04"', "<distribution>-<major version>", "ubuntu-24"],
    ),
    "os_target_without_image": (
        {"bundle_os_targets": [{"name": "debian-13"}]},
        ["bundle_os_targets", "image"],
    ),
    "os_target_no_role_supports": (
        {"bundle_os_targets": [{"name": "debian-11", "image": "docker.io/library/debian:bullseye"}]},
        ["debian-11", "onprem.stack.postgresql", "Debian-11.yml", "debian-13"],
    ),
    "file_dest_escapes_files_dir": (
        {"bundle_files": [{"url": "file:///etc/hostname", "dest": "../outside"}]},
        ["bundle_files", '"../outside"', "relative path under files/"],
    ),
    "pack_part_size_not_a_size": (
        {"bundle_pack_part_size": "2 GB"}, ["bundle_pack_part_size", '"2 GB"', "2G"],
    ),
    "container_engine_not_a_choice": (
        {"bundle_container_engine": "lxc"}, ["bundle_container_engine", "lxc", "podman, docker"],
    ),
    "k3s_version_not_a_release_tag": (
        {"bundle_k3s_version": "1.37"}, ["bundle_k3s_version", '"1.37"', "v1.37.2+k3s1"],
    ),
    "chart_entry_without_chart": (
        {"bundle_charts": [{"version": "1.0.0"}]}, ["bundle_charts", "chart"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_bundle_input_stops_before_anything_is_created(case, tmp_path):
    bad, expected = CASES[case]
    bundle = tmp_path / "bundle"
    extra = dict({"stack_bundle_dir": str(bundle), "bundle_cache_dir": str(tmp_path / "cache"),
                  "bundle_os_targets": []}, **bad)
    varsfile = tmp_path / "vars.yml"
    varsfile.write_text(yaml.safe_dump(extra))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    p = subprocess.run([PLAYBOOK, str(REPO / "playbooks" / "bundle.yml"), "-e", f"@{varsfile}"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    out = " ".join((p.stdout + p.stderr).split())
    assert p.returncode != 0, out[-3000:]
    for text in expected:
        assert text in out, f"{text!r} not in output: {out[-3000:]}"
    assert not bundle.exists() and not (tmp_path / "cache").exists()

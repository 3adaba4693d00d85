"""Every tag the roles declare runs alone: ``ansible-playbook site.yml --tags <tag>`` against the converged
host, connected as the scenario's non-root SSH user without the verifier's become (the playbooks ask for
privilege themselves), succeeds and changes nothing (``changed=0``).

The tags are read from the roles' ``tasks/main.yml`` (``always`` excepted), so a new tag is tested without
editing this file. Cost: one site.yml run per tag, about 10-15 s each.
"""

import os
import pathlib
import re
import subprocess

import pytest
import yaml

import onprem_verify

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).resolve().parents[3]))


def declared_tags():
    """Return the sorted tags (list of str) of every task in ``roles/*/tasks/main.yml``, ``always`` excepted."""
    tags = set()
    for main in PROJECT.glob("roles/*/tasks/main.yml"):
        for task in yaml.safe_load(main.read_text()) or []:
            tags.update(task.get("tags", []))
    return sorted(tags - {"always"})


def test_the_roles_declare_the_documented_tags():
    """README names every tag, and the list below is not empty by mistake."""
    tags = declared_tags()
    readme = (PROJECT / "README.md").read_text()
    assert {"postgresql_configure", "redis_configure", "registry_load"} <= set(tags)
    assert [t for t in tags if "`%s`" % t not in readme] == []


@pytest.mark.parametrize("tag", declared_tags())
def test_tag_runs_alone_and_changes_nothing(tag):
    """site.yml --tags <tag> on the converged host: rc 0, changed=0, failed=0."""
    env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_BECOME", "ANSIBLE_FORCE_COLOR", "PY_COLORS")}
    env["ANSIBLE_NOCOLOR"] = "true"
    res = subprocess.run(["ansible-playbook", "-i", str(onprem_verify.inventory_dir()), str(PROJECT / "site.yml"),
                          "--tags", tag], env=env, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-6000:]
    out = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout)
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+).*failed=(\d+)", out, re.MULTILINE)
    assert recap, out[-3000:]
    assert [(h, c, f) for h, c, f in recap if c != "0" or f != "0"] == [], out[-6000:]

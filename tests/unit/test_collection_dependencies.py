"""galaxy.yml and requirements.yml list the same collections with the same versions,
every collection the shipped content uses by FQCN is listed, and nothing unused is."""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["roles", "playbooks", "plugins", "inventories", "site.yml", "meta"]
OWN = {"ansible.builtin", "ansible.legacy", "onprem.stack"}
FQCN = re.compile(r"\b([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")  # in YAML: ns.name.plugin
IMPORT = re.compile(r"\bansible_collections\.([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\b")  # in Python


def _collections_used():
    used = {}
    namespaces = {"ansible", "community", "containers", "kubernetes"}
    for top in SHIPPED:
        root = REPO / top
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.suffix in (".yml", ".yaml", ".py", ".j2")]
        for f in files:
            pattern = IMPORT if f.suffix == ".py" else FQCN
            for m in pattern.finditer(f.read_text(errors="replace")):
                name = m.group(1)
                if name.split(".")[0] in namespaces and name not in OWN:
                    used.setdefault(name, f.relative_to(REPO).as_posix())
    return used


def test_galaxy_and_requirements_agree():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]
    reqs = {c["name"]: c["version"] for c in yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]}
    assert galaxy == reqs


def test_every_used_collection_is_listed_and_only_those():
    listed = set(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"])
    used = _collections_used()
    assert not set(used) - listed, {n: used[n] for n in set(used) - listed}
    assert not listed - set(used), f"listed but unused: {sorted(listed - set(used))}"

"""Every module's documentation, as ansible-doc reads it (doc fragments merged),
documents each option with a type and a description, and its EXAMPLES and RETURN
parse (what ansible-doc and ansible-lint read). Each doc fragment documents exactly
the options its argument-spec function returns."""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.stack.plugins.module_utils import _argspec

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
FRAGMENTS = {
    "helm": _argspec.helm_argument_spec,
    "kubeconfig": _argspec.kubeconfig_argument_spec,
    "registry": _argspec.registry_argument_spec,
}


@pytest.fixture(scope="module")
def docs():
    """{module name: ansible-doc's JSON for it}, with this checkout as onprem.stack."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"))
    cmd = [str(Path(sys.executable).with_name("ansible-doc")), "--json", "-t", "module"]
    proc = subprocess.run(cmd + ["onprem.stack." + m for m in MODULES], env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return {name.rsplit(".", 1)[-1]: value for name, value in json.loads(proc.stdout).items()}


def _options(opts, prefix=""):
    for name, spec in (opts or {}).items():
        yield prefix + name, spec
        yield from _options(spec.get("suboptions"), prefix + name + ".")


@pytest.mark.parametrize("name", MODULES)
def test_module_documentation(name, docs):
    mod = importlib.import_module(f"ansible_collections.onprem.stack.plugins.modules.{name}")
    yaml.safe_load(mod.EXAMPLES)
    doc, ret = docs[name]["doc"], docs[name]["return"]
    assert doc["module"] == name
    assert doc["short_description"] and doc["description"]
    assert {"check_mode", "diff_mode"} <= set(doc["attributes"])
    for fragment in yaml.safe_load(mod.DOCUMENTATION).get("extends_documentation_fragment", []):
        own = yaml.safe_load(importlib.import_module(
            "ansible_collections.onprem.stack.plugins.doc_fragments." + fragment.rsplit(".", 1)[-1]
        ).ModuleDocFragment.DOCUMENTATION)["options"]
        assert set(own) <= set(doc["options"]), f"{name}: {fragment} options not merged by ansible-doc"
    for opt, spec in _options(doc["options"]):
        assert spec.get("type"), f"{name}: option {opt} has no type"
        assert spec.get("description"), f"{name}: option {opt} has no description"
    for key, spec in ret.items():
        assert spec.get("type") and spec.get("returned") and spec.get("description"), f"{name}: RETURN {key}"


@pytest.mark.parametrize("fragment", sorted(FRAGMENTS))
def test_fragment_documents_its_argument_spec(fragment):
    func = FRAGMENTS[fragment]
    mod = importlib.import_module("ansible_collections.onprem.stack.plugins.doc_fragments." + fragment)
    opts = yaml.safe_load(mod.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = func()
    assert set(opts) == set(spec)
    for name, doc in opts.items():
        assert doc["type"] == spec[name]["type"], f"{fragment}.{name}"
        assert doc.get("default") == spec[name].get("default"), f"{fragment}.{name}"
        assert doc.get("description"), f"{fragment}.{name}"


@pytest.mark.parametrize("fragment", sorted(FRAGMENTS))
def test_argument_spec_is_fresh_on_every_call(fragment):
    func = FRAGMENTS[fragment]
    mine = func()
    first = next(iter(mine))
    mine[first]["default"] = "changed by one module"
    mine["extra"] = {"type": "str"}
    again = func()
    assert "extra" not in again and again[first].get("default") != "changed by one module"


def test_secret_options_are_no_log():
    spec = _argspec.registry_argument_spec()
    assert spec["password"]["no_log"] is True
    assert "no_log" not in spec["username"]

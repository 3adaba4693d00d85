"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse as YAML and document
each option with a type and a description (what ansible-doc and ansible-lint read)."""
import importlib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def _options(opts, prefix=""):
    for name, spec in (opts or {}).items():
        yield prefix + name, spec
        yield from _options(spec.get("suboptions"), prefix + name + ".")


@pytest.mark.parametrize("name", MODULES)
def test_module_documentation(name):
    mod = importlib.import_module(f"ansible_collections.onprem.stack.plugins.modules.{name}")
    doc = yaml.safe_load(mod.DOCUMENTATION)
    yaml.safe_load(mod.EXAMPLES)
    ret = yaml.safe_load(mod.RETURN)
    assert doc["module"] == name
    assert doc["short_description"] and doc["description"]
    assert {"check_mode", "diff_mode"} <= set(doc["attributes"])
    for opt, spec in _options(doc["options"]):
        assert spec.get("type"), f"{name}: option {opt} has no type"
        assert spec.get("description"), f"{name}: option {opt} has no description"
    for key, spec in ret.items():
        assert spec.get("type") and spec.get("returned") and spec.get("description"), f"{name}: RETURN {key}"

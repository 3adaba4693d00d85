"""docs/inventory.md is generated from the roles' argument specs and defaults and
must be regenerated whenever a role variable changes."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_inventory_doc_is_current():
    """What `scripts/gen-inventory-doc.py --check` compares, in-process."""
    spec = importlib.util.spec_from_file_location("gen_inventory_doc", REPO / "scripts" / "gen-inventory-doc.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.render() == gen.OUT.read_text(), "docs/inventory.md is out of date: run scripts/gen-inventory-doc.py"


def test_inventory_doc_names_every_role_variable():
    import yaml
    text = (REPO / "docs" / "inventory.md").read_text()
    for role_dir in sorted((REPO / "roles").iterdir()):
        defaults = yaml.safe_load((role_dir / "defaults" / "main.yml").read_text()) or {}
        for name in defaults:
            assert f"| `{name}` |" in text, f"{name} of role {role_dir.name} missing from docs/inventory.md"

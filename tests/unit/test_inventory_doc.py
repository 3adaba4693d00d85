"""docs/inventory.md is generated from the roles' argument specs and defaults and
must be regenerated whenever a role variable changes."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_inventory_doc_is_current():
    res = subprocess.run([sys.executable, "scripts/gen-inventory-doc.py", "--check"], cwd=REPO,
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_inventory_doc_names_every_role_variable():
    import yaml
    text = (REPO / "docs" / "inventory.md").read_text()
    for role_dir in sorted((REPO / "roles").iterdir()):
        defaults = yaml.safe_load((role_dir / "defaults" / "main.yml").read_text()) or {}
        for name in defaults:
            assert f"| `{name}` |" in text, f"{name} of role {role_dir.name} missing from docs/inventory.md"

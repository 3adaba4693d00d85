"""Each role's meta/argument_specs.yml and defaults/main.yml declare the same variables.

The argument spec is what Ansible validates inventory input against, and the
defaults are what a user reads to learn the variables: a variable in one and not
the other is either unvalidated or undocumented.
"""
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (REPO / "roles").iterdir() if (p / "defaults" / "main.yml").exists())


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_defaults_match_argument_spec(role: Path) -> None:
    defaults = set(_load(role / "defaults" / "main.yml"))
    spec = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert defaults == set(spec), (
        f"{role.name}: only in defaults/main.yml: {sorted(defaults - set(spec))}; "
        f"only in meta/argument_specs.yml: {sorted(set(spec) - defaults)}"
    )


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_public_variables_are_role_prefixed(role: Path) -> None:
    prefix = f"{role.name}_"
    names = _load(role / "defaults" / "main.yml")
    assert [n for n in names if not n.startswith(prefix)] == []


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_every_option_is_typed_and_described(role: Path) -> None:
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry, spec in specs.items():
        for name, option in spec.get("options", {}).items():
            assert "type" in option, f"{role.name}:{entry}:{name} has no type"
            assert option.get("description") or entry != "main", f"{role.name}:{entry}:{name} has no description"

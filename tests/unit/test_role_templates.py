"""Every role template starts with the ansible_managed header (STYLE.md), so an operator
reading a file on a host knows Ansible writes it; the exceptions name their reason."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(REPO.glob("roles/*/templates/**/*.j2"))
HEADER = "{{ ansible_managed | comment }}"
# Files whose format has no comment syntax; the template itself must say why.
NO_COMMENTS = {"roles/redis/templates/users.acl.j2": "Redis refuses any line of an ACL file"}


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(REPO)) for p in TEMPLATES])
def test_template_starts_with_ansible_managed(path):
    rel = str(path.relative_to(REPO))
    lines = path.read_text(encoding="utf-8").splitlines()
    if rel in NO_COMMENTS:
        assert HEADER not in "\n".join(lines)
        assert NO_COMMENTS[rel] in "\n".join(lines[:5]), f"{rel} must explain why it has no header"
        return
    first = lines[1] if lines and lines[0].startswith("#!") else (lines[0] if lines else "")
    assert first == HEADER, f"{rel} starts with {first!r}, expected {HEADER!r} (after a shebang, if any)"


def test_templates_found():
    assert len(TEMPLATES) >= 10

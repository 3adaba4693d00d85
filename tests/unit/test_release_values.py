"""The filter onprem.stack.release_values (plugins/filter/release_values.py,
module_utils/_value_refs.py): a release's values split into plain values and credential
references ({from: {...}}, the shape of a platform_secrets item's reference), and the
secret values built from the resolved references (issue 20)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.filter.release_values import release_values

VALUES = {
    "replicas": 1,
    "auth": {"adminPassword": {"from": {"credential": "site/platform/kc-admin"}}, "adminUser": "admin"},
    "config": {"database": {"url": {"from": {"database_url": {"database": "kc", "user": "kc"}}}}},
    # not references: a NetworkPolicy-style `from` list, a mapping with more than `from`, `from` not a mapping
    "networkPolicy": {"ingress": [{"from": [{"podSelector": {}}]}]},
    "other": {"x": {"from": {"credential": "a/b/c"}, "extra": 1}, "y": {"from": "somewhere"}},
    "env": [{"name": "A", "value": {"from": {"credential": "a/b/c"}}}],
}


def test_split():
    out = release_values(VALUES)
    assert out["references"] == [
        {"path": ["auth", "adminPassword"], "from": {"credential": "site/platform/kc-admin"}},
        {"path": ["config", "database", "url"], "from": {"database_url": {"database": "kc", "user": "kc"}}},
    ]
    assert out["in_lists"] == [["env", 0, "value"]]
    assert out["values"]["auth"] == {"adminUser": "admin"} and out["values"]["config"] == {"database": {}}
    assert out["values"]["networkPolicy"] == VALUES["networkPolicy"] and out["values"]["other"] == VALUES["other"]
    assert VALUES["auth"]["adminPassword"] == {"from": {"credential": "site/platform/kc-admin"}}, "input unchanged"


def test_resolved_tree():
    out = release_values(VALUES, resolved=["pw-1", "postgresql://kc:pw-2@db/kc"])
    assert out["secret"] == {"auth": {"adminPassword": "pw-1"}, "config": {"database": {"url": "postgresql://kc:pw-2@db/kc"}}}


@pytest.mark.parametrize("values,resolved,msg", [
    ([], None, "expected the release's values as a mapping, found list"),
    (VALUES, ["one"], "2 references but 1 resolved values"),
    (VALUES, "pw", "resolved must be a list, found str"),
])
def test_errors(values, resolved, msg):
    with pytest.raises(AnsibleFilterError, match=msg):
        release_values(values, resolved=resolved)

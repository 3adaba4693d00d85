"""Secrets in what helm_release and helm_release_info return (issue 19, item 11): a value
under a secret-like key and the password of a URL with userinfo
(``scheme://user:pass@host``, RFC 3986 section 3.2.1) are masked as ``********`` in
helm_release's ``changed_reasons`` and diff, and in helm_release_info's ``values``,
by one function, module_utils._values.mask_secrets.

The modules run through main() with their real argument specs; helm is answered by
FakeHelm from tests/unit/modules/test_helm_release.py (outputs recorded from the real
helm 3.10.1 and 4.1.4, see tests/unit/data/helm/README.md).
"""
import json

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils import _release, _release_run, _values
from ansible_collections.onprem.stack.plugins.module_utils._chart import read_chart_dir
from ansible_collections.onprem.stack.plugins.modules import helm_release, helm_release_info
from modules.test_helm_release import CHART, DEFAULT, NOW, FakeHelm, marker

DB_URL = "postgresql://app:Db-pw-789@db.site.internal:5432/app?sslmode=require"
DB_URL_MASKED = "postgresql://app:********@db.site.internal:5432/app?sslmode=require"
REDIS_URL = "rediss://:Redis-pw-321@redis.site.internal:6380/0"
CONFIGMAP = ("---\n# Source: onprem-demo/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
             "  name: demo-env\ndata:\n  DATABASE_URL: {url}\n")


@pytest.mark.parametrize("text,want", [
    (DB_URL, DB_URL_MASKED),
    (REDIS_URL, "rediss://:********@redis.site.internal:6380/0"),
    ("amqp://user:p@ss@mq:5672/", "amqp://user:********@mq:5672/"),  # an unencoded @: up to the last one
    ("DATABASE_URL=postgres://u:x%2Fy@h/db other", "DATABASE_URL=postgres://u:********@h/db other"),
    ("https://user@host/path", "https://user@host/path"),  # no password
    ("https://host/a:b@c", "https://host/a:b@c"),  # ':' and '@' in the path, not in userinfo
    ("not a url: a:b@c", "not a url: a:b@c"),
])
def test_mask_url_passwords(text, want):
    assert _values.mask_url_passwords(text) == want


def test_mask_secrets_keys_and_urls():
    values = {"database": {"url": DB_URL, "port": 5432}, "auth": {"jwtSecret": "j", "enabled": True},
              "apiKey": 7, "secrets": {"oidc": {"clientSecret": "c", "issuer": "https://id"}},
              "env": [{"name": "REDIS_URL", "value": REDIS_URL}], "credentials": None, "image": {"tag": "1.0"}}
    assert _values.mask_secrets(values) == {
        "database": {"url": DB_URL_MASKED, "port": 5432},
        "auth": {"jwtSecret": "********", "enabled": True},  # booleans say nothing secret
        "apiKey": "********",
        "secrets": {"oidc": {"clientSecret": "********", "issuer": "********"}},  # under a secret-like key
        "env": [{"name": "REDIS_URL", "value": "rediss://:********@redis.site.internal:6380/0"}],
        "credentials": None, "image": {"tag": "1.0"}}
    assert values["database"]["url"] == DB_URL, "the argument is not changed"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(_release, "utc_now", lambda: NOW)
    monkeypatch.setattr(_release_run, "utc_now", lambda: NOW)


@pytest.fixture(params=[3, 4], ids=["helm3", "helm4"])
def helm(request, monkeypatch):
    fake = FakeHelm(request.param)
    monkeypatch.setattr(AnsibleModule, "run_command", fake.run_command)
    return fake


def test_release_reasons_and_diff_mask_url_passwords(helm, run_module, tmp_path):
    helm.revision("deployed", {"database": {"url": DB_URL.replace("Db-pw-789", "Old-pw-111")}},
                  description=marker(), manifest=DEFAULT + CONFIGMAP.format(url="postgresql://app:Old-pw-111@db/app"))
    helm.manifests = lambda c, v: DEFAULT + CONFIGMAP.format(url=v["database"]["url"])
    (tmp_path / "t").mkdir()
    failed, res = run_module(helm_release.main, {
        "name": "demo", "namespace": "ai", "chart": str(CHART), "helm_binary": "/opt/helm/helm",
        "_ansible_tmpdir": str(tmp_path / "t"), "values": {"database": {"url": DB_URL}}}, check=True, diff=True)
    assert not failed, res
    text = json.dumps(res)
    assert "Db-pw-789" not in text and "Old-pw-111" not in text, text
    assert ('values.database.url: "postgresql://app:********@db.site.internal:5432/app?sslmode=require" -> "%s"'
            % DB_URL_MASKED) in res["changed_reasons"]
    values_diff, manifest_diff = res["diff"]
    assert "url: %s" % DB_URL_MASKED in values_diff["after"]
    assert "DATABASE_URL: %s" % DB_URL_MASKED in manifest_diff["after"]
    assert "DATABASE_URL: postgresql://app:********@db/app" in manifest_diff["before"]


def test_release_info_masks_values(helm, run_module):
    helm.revision("deployed", {"database": {"url": DB_URL, "password": "Pw-1"}, "image": {"tag": "1.0.0"}},
                  description=marker())
    failed, res = run_module(helm_release_info.main, {"name": "demo", "namespace": "ai",
                                                      "helm_binary": "/opt/helm/helm"})
    assert not failed, res
    assert res["values"] == {"database": {"url": DB_URL_MASKED, "password": "********"}, "image": {"tag": "1.0.0"}}
    assert "Db-pw-789" not in json.dumps(res) and "Pw-1" not in json.dumps(res)


BOOT_CM = ("---\n# Source: onprem-demo/templates/boot.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
           "  name: demo-boot\ndata:\n  boot.ini: 'token = {boot}'\n")


def test_secret_values_files_masked_by_path_and_string_and_recorded(helm, run_module, tmp_path):
    """Values of a secret values file under a key that does not look secret (``bootstrap.value``):
    masked in the reasons and in both halves of the diff (the earlier value by the path its
    revision recorded), in the manifest wherever the string appears; the upgrade records
    the path (not the value) in the description; helm_release_info masks it from there."""
    old = "Old-boot-value-123"
    new = "New-boot-value-456"
    helm.revision("deployed", {"bootstrap": {"value": old}, "image": {"tag": "1.0.0"}},
                  description=_release.marker(read_chart_dir(str(CHART)), [("bootstrap", "value")]),
                  manifest=DEFAULT + BOOT_CM.format(boot=old))
    helm.manifests = lambda c, v: DEFAULT + BOOT_CM.format(boot=v["bootstrap"]["value"])
    (tmp_path / "t").mkdir()
    secret = tmp_path / "secret.yml"
    secret.write_text("bootstrap:\n  value: %s\n" % new)
    params = {"name": "demo", "namespace": "ai", "chart": str(CHART), "helm_binary": "/opt/helm/helm",
              "_ansible_tmpdir": str(tmp_path / "t"), "values": {"image": {"tag": "1.0.0"}},
              "secret_values_files": [str(secret)]}
    for check in (True, False):
        failed, res = run_module(helm_release.main, params, check=check, diff=True)
        assert not failed, res
        text = json.dumps(res)
        assert old not in text and new not in text, text
        assert "values.bootstrap.value: ******** -> ********" in res["changed_reasons"], res["changed_reasons"]
        values_diff, manifest_diff = res["diff"]
        assert "value: '********'" in values_diff["before"] and "value: '********'" in values_diff["after"]
        assert "token = ********" in manifest_diff["after"], manifest_diff["after"]
    description = helm.revisions[-1]["info"]["description"]
    assert new not in description and _release.recorded_secret_paths(description) == [("bootstrap", "value")]
    assert helm.revisions[-1]["config"]["bootstrap"]["value"] == new, "helm got the value itself"
    failed, res = run_module(helm_release_info.main, {"name": "demo", "namespace": "ai",
                                                      "helm_binary": "/opt/helm/helm"})
    assert not failed and res["values"] == {"bootstrap": {"value": "********"}, "image": {"tag": "1.0.0"}}, res
    assert new not in json.dumps(res)

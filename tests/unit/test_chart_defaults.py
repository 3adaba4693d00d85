"""module_utils/_chart_defaults.py (issue 20): which keys of a chart's default values hold
secrets, which default leaves are searched for, where a rendered manifest hands values
to workloads, and which defaults survive. The renders with the real helm 3 and 4 are in
tests/functional/test_helm_release_chart_defaults.py; here the inputs are written out:
values as in a chart's values.yaml, manifests as ``helm template`` prints them (one
YAML document per object after ``---`` and a ``# Source:`` line, helm/helm
pkg/action/action.go).
"""
import base64
import io
import tarfile

import pytest

from ansible_collections.onprem.stack.plugins.module_utils import _chart_defaults as d
from ansible_collections.onprem.stack.plugins.module_utils._chart import ChartError
from ansible_collections.onprem.stack.plugins.module_utils._values import parse_key


@pytest.mark.parametrize("key", [
    "password", "adminPassword", "postgresPassword", "KEYCLOAK_ADMIN_PASSWORD", "SECRET_KEY", "secretKey",
    "jwtSecret", "client_secret", "apiKey", "accessKey", "privateKey", "token", "bootstrapToken", "credentials",
    "dsn", "sentryDsn", "passwd", "adminpassword", "pass", "turnSecret",
])
def test_secret_keys(key):
    assert d.is_secret_key(key)


@pytest.mark.parametrize("key", [
    "existingSecret", "existingSecretPasswordKey", "secretName", "keyName", "secretKeyRef", "passwordKey",
    "userPasswordKey", "secretKeys", "passwordFile", "tokenPath", "keySize", "key", "keycloak", "tokenizer",
    "username", "host", "tls.crt", "secretsEnabled", "",
])
def test_keys_that_name_objects_or_are_not_secret(key):
    assert not d.is_secret_key(key)


def test_secret_defaults_leaves_and_urls():
    values = {
        "auth": {"password": "changeme", "username": "admin", "existingSecret": "", "passwordKey": "admin-password",
                 "enabled": True},
        "short": {"password": "pw"},  # under MIN_LENGTH
        "empty": {"token": ""},
        "flags": {"secret": False, "token": None, "apiKey": 1.5},
        "pin": {"password": 123456},
        "env": [{"name": "DATABASE_URL", "value": "postgresql://app:default-pw@db/app"}],
        "tokens": ["tok-one", "tok-two"],  # list items under a secret key
        "sentryDsn": "https://pub@sentry.example/1",  # a DSN without a password: the whole value
        "dsn": "postgres://u:dsn-pass@h/db",  # the whole value and the password
    }
    got = sorted(d.secret_defaults(values))
    assert got == sorted([
        (("auth", "password"), "changeme"),
        (("pin", "password"), "123456"),
        (("env", 0, "value"), "default-pw"),
        (("tokens", 0), "tok-one"), (("tokens", 1), "tok-two"),
        (("sentryDsn",), "https://pub@sentry.example/1"),
        (("dsn",), "postgres://u:dsn-pass@h/db"), (("dsn",), "dsn-pass"),
    ])


@pytest.mark.parametrize("path", [("auth", "password"), ("env", 0, "value"), ("annotations", "a.b/c"),
                                  ("x", "with[bracket", 2)])
def test_format_path_round_trips_through_helm_set_syntax(path):
    assert tuple(parse_key(d.format_path(path))) == path


def _b64(text):
    return base64.b64encode(text.encode()).decode()


MANIFEST = """---
# Source: c/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: s
data:
  password: {pw}
  binary: {binary}
stringData:
  url: postgresql://app:changeme@db/app
---
# Source: c/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  app.ini: "pass=changeme;"
binaryData:
  blob: {blob}
---
# Source: c/templates/job.yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cj
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - name: init
              env:
                - {{name: A, value: changeme}}
                - name: B
                  valueFrom: {{secretKeyRef: {{name: s, key: changeme}}}}
          containers:
            - name: main
              args: [changeme]
              env: [{{name: C, value: "x-changeme-y"}}]
---
# Source: c/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: changeme
"""


def test_manifest_strings_reads_secrets_configmaps_and_env_only():
    text = MANIFEST.format(pw=_b64("changeme"), binary=base64.b64encode(b"\xff\xfe").decode(), blob=_b64("blob!"))
    got = d.manifest_strings(text)
    assert got == [
        ("Secret s, data.password", "changeme"),  # data.binary is not UTF-8: left out
        ("Secret s, stringData.url", "postgresql://app:changeme@db/app"),
        ("ConfigMap cm, data.app.ini", "pass=changeme;"),
        ("ConfigMap cm, binaryData.blob", "blob!"),
        ("CronJob cj, container init, env A", "changeme"),
        ("CronJob cj, container main, env C", "x-changeme-y"),
    ]


CHART_FILES = {
    "Chart.yaml": b"apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "values.yaml": b"auth:\n  username: admin\n  password: changeme\n",
}
SECRET_DOC = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: %s\n"
ENV_DOC = ("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n"
           "      env:\n        - {name: USER, value: %s}\n")


def test_surviving_default_named_by_path_and_place():
    found = d.surviving_defaults(CHART_FILES, "c-0.1.0", {}, SECRET_DOC % "changeme")
    assert found == [{"path": "auth.password", "found_in": ["Secret s, stringData.a"]}]


@pytest.mark.parametrize("text,found", [
    ("changeme", True), ("x=changeme;", True), ("postgresql://u:changeme@h/db", True),
    ("postgresql://u:change%6De@h/db", True),  # percent-encoded in a URL
    ("changemenot", False), ("notchangeme", False), ("", False),
])
def test_appearance_rule(text, found):
    got = d.surviving_defaults(CHART_FILES, "c", {}, SECRET_DOC % ('"%s"' % text))
    assert bool(got) is found


def test_override_and_waivers():
    manifest = SECRET_DOC % "site-pw"
    assert d.surviving_defaults(CHART_FILES, "c", {"auth": {"password": "site-pw"}}, manifest) == []
    manifest = SECRET_DOC % "changeme"
    assert d.surviving_defaults(CHART_FILES, "c", {}, manifest, [("auth", "password")]) == []
    assert d.surviving_defaults(CHART_FILES, "c", {}, manifest, [("auth",)]) == [], "a path waives what is below"
    assert d.surviving_defaults(CHART_FILES, "c", {}, manifest, [("auth", "username")]) != []


def test_a_user_name_equal_to_the_default_counts_only_while_the_default_is_in_effect():
    manifest = ENV_DOC % "changeme"
    overridden = {"auth": {"username": "changeme", "password": "site-pw"}}
    assert d.surviving_defaults(CHART_FILES, "c", overridden, manifest) == []
    assert d.surviving_defaults(CHART_FILES, "c", {"auth": {"username": "changeme"}}, manifest) != []
    # the same string inside a longer text is not explained by the user name
    assert d.surviving_defaults(CHART_FILES, "c", overridden, ENV_DOC % '"u=changeme"') != []


def _tgz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("sub/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_subchart_defaults_under_their_name_or_alias():
    files = {
        "Chart.yaml": b"apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n"
                      b"  - {name: db, version: 1.0.0, alias: primary}\n  - {name: db, version: 1.0.0, alias: replica}\n",
        "values.yaml": b"{}\n",
        "charts/db-1.0.0.tgz": _tgz({"Chart.yaml": b"apiVersion: v2\nname: db\nversion: 1.0.0\n",
                                     "values.yaml": b"auth:\n  postgresPassword: pg-default\n"}),
        "charts/cache/Chart.yaml": b"apiVersion: v2\nname: cache\nversion: 1.0.0\n",
        "charts/cache/values.yaml": b"auth:\n  token: cache-default\n",
    }
    got = d.chart_default_values(files, "top-1.0.0")
    assert [p for p, _value in got] == [(), ("cache",), ("primary",), ("replica",)]
    manifest = SECRET_DOC % "pg-default" + SECRET_DOC % "cache-default"
    found = d.surviving_defaults(files, "top-1.0.0", {}, manifest)
    assert [f["path"] for f in found] == ["cache.auth.token", "primary.auth.postgresPassword",
                                          "replica.auth.postgresPassword"]
    site = {"primary": {"auth": {"postgresPassword": "x-site-1"}}, "replica": {"auth": {"postgresPassword": "x-site-2"}}}
    manifest = SECRET_DOC % "x-site-1" + SECRET_DOC % "x-site-2" + SECRET_DOC % "cache-default"
    assert [f["path"] for f in d.surviving_defaults(files, "top-1.0.0", site, manifest)] == ["cache.auth.token"]


def test_values_yaml_not_a_mapping_is_named():
    with pytest.raises(ChartError, match=r"chart c-0.1.0: values.yaml must hold a mapping, found list"):
        d.chart_default_values({"Chart.yaml": b"name: c\n", "values.yaml": b"- a\n"}, "c-0.1.0")

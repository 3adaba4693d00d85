"""helm_release's two guards for secrets in charts (issue 20, section 1), with the real
helm 3 and helm 4 (the helm_binary fixture) rendering a real chart, and no cluster: the
releases here do not exist yet, so the module renders them with ``helm template``, and
the refusal comes before any install (helm keeps its releases in the memory driver of
test_helm_release.py, so ``helm status`` answers for real).

- A chart whose default ``auth.password: changeme`` reaches a Secret, a ConfigMap and a
  container's env is refused without an override, naming the key path, the chart and the
  places, and never the value; an override or a waiver (``allow_chart_default_secrets``)
  lets it through.
- The same chart given the password in a secret values file: the password reaches the
  render, and appears nowhere in the result (reasons, diff, commands), not even in the
  rendered ConfigMap or env of the diff.

The same decisions against a real cluster: listed for molecule/cluster in the report of
issue 20 (install, upgrade with a changed secret file, helm_release_info's values).
"""
import json

import pytest

from ansible_collections.onprem.stack.plugins.modules import helm_release
# fixtures, used by name as test arguments
# pylint: disable-next=unused-import
from test_helm_release import NS, mem, version_server  # noqa: F401

SECRET_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: secret-defaults\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    "values.yaml": """auth:
  username: admin
  # The chart's own default: must never reach a site.
  password: changeme
  existingSecret: ""
  # names a key inside a Secret, not a secret: never counts
  passwordKey: admin-password
database:
  url: postgresql://app:default-db-pw@db:5432/app
image:
  repository: docker.io/library/busybox
  tag: "1.36.1"
""",
    "templates/secret.yaml": """apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-auth
type: Opaque
data:
  password: {{ .Values.auth.password | b64enc }}
""",
    "templates/configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  app.ini: |
    [admin]
    password = {{ .Values.auth.password }}
    key-name = {{ .Values.auth.passwordKey }}
""",
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          env:
            - name: ADMIN_USER
              value: {{ .Values.auth.username | quote }}
            - name: ADMIN_PASSWORD
              value: {{ .Values.auth.password | quote }}
            - name: DATABASE_URL
              value: {{ .Values.database.url | quote }}
""",
}
DB_URL = "postgresql://app:Site-db-pw-4711@db.site.internal:5432/app?sslmode=verify-full&sslrootcert=/etc/ssl/site/ca.crt"


@pytest.fixture
def chart(tmp_path):
    root = tmp_path / "secret-defaults"
    for name, text in SECRET_CHART.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def args(helm_binary, mem, chart, **kw):  # noqa: F811  (mem: the fixture's value)
    base = {"name": "demo", "namespace": NS, "chart": str(chart), "helm_binary": helm_binary,
            "kubeconfig": str(mem.kubeconfig)}
    return dict(base, **kw)


def verbs(res):
    return [c[1] for c in res["commands"]]


def test_default_password_refused_before_anything_changes(run_module, helm_binary, mem, chart):  # noqa: F811
    """Not check mode: the refusal comes after the render and before `helm install`."""
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, values={"database": {"url": DB_URL}}))
    assert failed, res
    assert "secret-defaults-0.1.0" in res["msg"] and str(chart) in res["msg"], res["msg"]
    assert "auth.password" in res["msg"] and "allow_chart_default_secrets" in res["msg"], res["msg"]
    assert res["chart_default_secrets"] == [{"path": "auth.password", "found_in": [
        "ConfigMap demo-config, data.app.ini", "Deployment demo, container app, env ADMIN_PASSWORD",
        "Secret demo-auth, data.password"]}], res["chart_default_secrets"]
    assert verbs(res) == ["version", "status", "template"], "nothing installed"
    assert "changeme" not in json.dumps(res)


def test_default_url_password_refused(run_module, helm_binary, mem, chart):  # noqa: F811
    """The password of the default DATABASE_URL counts under a key that is not secret-like."""
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, values={"auth": {"password": "Site-pw-12"}}),
                             check=True)
    assert failed, res
    assert res["chart_default_secrets"] == [{"path": "database.url", "found_in": [
        "Deployment demo, container app, env DATABASE_URL"]}], res
    assert "default-db-pw" not in json.dumps(res)


@pytest.mark.parametrize("extra", [
    {"values": {"auth": {"password": "Site-pw-12"}, "database": {"url": DB_URL}}},
    {"values": {"database": {"url": DB_URL}}, "allow_chart_default_secrets": ["auth.password"]},
    {"allow_chart_default_secrets": ["auth", "database"]},  # a path waives everything below it
], ids=["override", "waiver", "waiver-above"])
def test_override_or_waiver_lets_it_through(run_module, helm_binary, mem, chart, extra):  # noqa: F811
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, **extra), check=True)
    assert not failed, res
    assert res["changed"] is True and res["changed_reasons"] == ["release does not exist: install chart "
                                                                 "secret-defaults-0.1.0"]


def test_user_name_equal_to_the_default_password_does_not_count_once_overridden(run_module, helm_binary, mem,  # noqa: F811
                                                                                 chart):
    """auth.username 'changeme' beside an overridden password: the env ADMIN_USER holds
    exactly the old default, but as the value of a key that is not secret, so nothing is
    refused. With the password left at its default, the same place counts."""
    values = {"auth": {"username": "changeme", "password": "Site-pw-12"}, "database": {"url": DB_URL}}
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, values=values), check=True)
    assert not failed, res.get("msg")
    values = {"auth": {"username": "changeme"}, "database": {"url": DB_URL}}
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, values=values), check=True)
    assert failed and "Deployment demo, container app, env ADMIN_USER" in res["chart_default_secrets"][0]["found_in"]


def test_bad_waiver_path_named(run_module, helm_binary, mem, chart):  # noqa: F811
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, allow_chart_default_secrets=["auth..x"]),
                             check=True)
    assert failed and "allow_chart_default_secrets[0] 'auth..x'" in res["msg"], res
    assert verbs(res) == [], "refused before helm runs"


def test_password_from_a_secret_values_file_is_rendered_and_shown_nowhere(run_module, helm_binary, mem, chart,  # noqa: F811
                                                                           tmp_path):
    """The password only in values, from a secret values file: it reaches the render (the
    chart's default is overridden, so nothing is refused) and is masked in the reasons,
    in the values and the manifest of the diff (ConfigMap, env) and in the commands."""
    password = "Values-only-pw-8231"
    secret = tmp_path / "secret.yml"
    secret.write_text(json.dumps({"auth": {"password": password}, "database": {"url": DB_URL}}))
    secret.chmod(0o600)
    failed, res = run_module(helm_release.main, args(helm_binary, mem, chart, secret_values_files=[str(secret)]),
                             check=True, diff=True)
    assert not failed, res
    text = json.dumps(res)
    assert password not in text and "Site-db-pw-4711" not in text, text
    values_diff, manifest_diff = res["diff"]
    assert "password: '********'" in values_diff["after"], values_diff["after"]
    assert "password = ********" in manifest_diff["after"], manifest_diff["after"]
    assert 'value: "********"' in manifest_diff["after"] or "value: '********'" in manifest_diff["after"]
    assert secret.exists(), "the module leaves the caller's file alone (the caller removes it)"

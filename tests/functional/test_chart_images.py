"""onprem.stack.chart_images with the real helm CLI (helm template) on a local chart.

The chart (tests/fixtures/charts/webapp) has a Deployment with an init container, a
CronJob, a subchart StatefulSet with an ephemeral container, and images only in the
helm.sh/images annotation. Every test runs under helm 3 and helm 4 (the helm_binary
fixture, tests/conftest.py).
"""
import json
import subprocess
from pathlib import Path

from ansible_collections.onprem.stack.plugins.modules import chart_images

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "tests" / "fixtures" / "charts" / "webapp"

DIGEST = "sha256:" + "a" * 64


def _refs(res):
    return [i["ref"] for i in res["images"]]


def test_every_image_of_the_chart_directory(run_module, helm_binary):
    failed, res = run_module(chart_images.main, {"charts": [{"chart": str(CHART)}], "helm_binary": helm_binary})
    assert not failed, res
    assert _refs(res) == sorted([
        "docker.io/library/busybox:1.36",                 # initContainers
        "ghcr.io/example/web:1.0",                        # containers (and annotation)
        "docker.io/library/postgres:17",                  # CronJob
        "docker.io/library/redis:7.2@" + DIGEST,          # subchart StatefulSet
        "quay.io/example/debug:latest",                   # ephemeralContainers
        "registry.example:5000/app/migrate:2.0",          # only in helm.sh/images
    ])
    web = next(i for i in res["images"] if i["ref"] == "ghcr.io/example/web:1.0")
    assert web["charts"] == ["webapp"]
    assert any("Deployment/webapp-web containers[0]" in s for s in web["sources"])
    assert any("helm.sh/images" in s for s in web["sources"])
    assert res["changed"] is False


def test_values_change_the_images_and_packaged_chart(run_module, helm_binary, tmp_path):
    subprocess.run([helm_binary, "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True)
    tgz = tmp_path / "webapp-1.0.0.tgz"
    failed, res = run_module(chart_images.main, {"helm_binary": helm_binary, "charts": [
        {"chart": str(tgz), "release": "site", "values": {"image": {"tag": "1.1"}, "backup": {"enabled": False}}},
        {"chart": str(CHART), "release": "other"},
    ]}, check=True)
    assert not failed, res
    refs = _refs(res)
    assert "ghcr.io/example/web:1.1" in refs and "ghcr.io/example/web:1.0" in refs
    busybox = next(i for i in res["images"] if i["ref"] == "docker.io/library/busybox:1.36")
    assert busybox["charts"] == ["other", "site"]
    postgres = next(i for i in res["images"] if i["ref"] == "docker.io/library/postgres:17")
    assert postgres["charts"] == ["other"], "backup disabled in 'site' must drop its image there"


def test_invalid_image_names_chart_and_object(run_module, helm_binary):
    failed, res = run_module(chart_images.main, {"helm_binary": helm_binary, "charts": [
        {"chart": str(CHART), "values": {"init": {"image": "BusyBox:1"}}}]})
    assert failed and "webapp" in res["msg"] and "initContainers[0]" in res["msg"] and "lower case" in res["msg"]


def test_broken_chart_is_a_clear_error(run_module, helm_binary, tmp_path):
    failed, res = run_module(chart_images.main, {"helm_binary": helm_binary, "charts": [{"chart": str(tmp_path / "nope")}]})
    assert failed and "rendering chart" in res["msg"] and "nope" in res["msg"]


JWT = "jwt-Secret-4b1d8e7f0c2a9e6d"
ADMIN = "Admin-passw0rd-93c1f7"


def _secret_chart(tmp_path):
    """A chart like the products': a Secret from values.jwt and values.admin, a Deployment whose
    image comes from values, and a template that fails quoting values.failWith when it is set."""
    chart = tmp_path / "product"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: product\nversion: 0.1.0\n")
    (chart / "templates" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: product\nstringData:\n"
        "  jwt: {{ .Values.jwt | quote }}\n  admin: {{ .Values.admin | quote }}\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "{{- if .Values.failWith }}{{ fail (printf \"admin password %s refused\" .Values.failWith) }}{{ end }}\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: product\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: api\n"
        "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n")
    return chart


def test_values_are_no_log(run_module, helm_binary, tmp_path):
    """Values carry secrets: they appear nowhere in the result (invocation included), while
    the image reference built from values.image stays intact (Ansible masks substrings)."""
    values = {"jwt": JWT, "admin": ADMIN, "replicas": 1, "image": {"repository": "ghcr.io/example/api", "tag": "1.1"}}
    failed, res = run_module(chart_images.main, {"helm_binary": helm_binary, "charts": [
        {"chart": str(_secret_chart(tmp_path)), "values": values}]})
    assert not failed, res
    assert _refs(res) == ["ghcr.io/example/api:1.1"]
    text = json.dumps(res)
    assert JWT not in text and ADMIN not in text
    assert res["invocation"]["module_args"]["charts"][0]["values"] == chart_images.NO_LOG_PLACEHOLDER


def test_values_are_masked_in_a_failure(run_module, helm_binary, tmp_path):
    """A template that fails quoting a value: helm's message reaches the result with the value masked."""
    values = {"jwt": JWT, "admin": ADMIN, "failWith": ADMIN, "image": {"repository": "ghcr.io/example/api", "tag": "1.1"}}
    failed, res = run_module(chart_images.main, {"helm_binary": helm_binary, "charts": [
        {"chart": str(_secret_chart(tmp_path)), "values": values}]})
    assert failed, res
    assert "rendering chart" in res["msg"], res["msg"]
    assert "admin password ******** refused" in res["stderr"], res["stderr"]
    text = json.dumps(res)
    assert JWT not in text and ADMIN not in text
    assert res["invocation"]["module_args"]["charts"][0]["values"] == chart_images.NO_LOG_PLACEHOLDER

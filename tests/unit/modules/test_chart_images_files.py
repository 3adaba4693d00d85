"""onprem.stack.chart_images on charts whose files are broken: every Chart.yaml is read
before helm runs, so each case fails naming the file, and no helm is needed here (a
helm path that does not exist proves helm was never started)."""
import io
import tarfile

import pytest

from ansible_collections.onprem.stack.plugins.modules import chart_images

NO_HELM = "/nonexistent/helm"


def _chart_dir(tmp_path, chart_yaml):
    d = tmp_path / "webapp"
    (d / "templates").mkdir(parents=True)
    if isinstance(chart_yaml, bytes):
        (d / "Chart.yaml").write_bytes(chart_yaml)
    else:
        (d / "Chart.yaml").write_text(chart_yaml)
    return d


def _run(run_module, chart):
    return run_module(chart_images.main, {"charts": [{"chart": str(chart)}], "helm_binary": NO_HELM})


@pytest.mark.parametrize("text, found", [
    ("name: webapp\nversion: [1.0\n", "is not valid YAML"),
    ("- a list\n- not a mapping\n", "expected a YAML mapping, found list"),
    (b"name: \xff\xfe\n", "is not UTF-8 text"),
    ("name: webapp\nannotations:\n  helm.sh/images: |\n    name: web\n    image: x\n",
     "annotation helm.sh/images must be a list"),
    ("name: webapp\nannotations:\n  helm.sh/images: \"- image: [x\"\n", "annotation helm.sh/images is not valid YAML"),
])
def test_bad_chart_yaml_names_the_file(run_module, tmp_path, text, found):
    chart = _chart_dir(tmp_path, text)
    failed, res = _run(run_module, chart)
    assert failed, res
    assert str(chart / "Chart.yaml") in res["msg"] and found in res["msg"], res["msg"]
    assert "rendering" not in res["msg"]


def test_unreadable_subchart_chart_yaml_names_it(run_module, tmp_path):
    chart = _chart_dir(tmp_path, "name: webapp\n")
    sub = chart / "charts" / "db"
    sub.mkdir(parents=True)
    (sub / "Chart.yaml").symlink_to(tmp_path / "missing")
    failed, res = _run(run_module, chart)
    assert failed and str(sub / "Chart.yaml") in res["msg"] and "cannot read it" in res["msg"], res["msg"]


@pytest.mark.parametrize("content", [b"not an archive", b"\x1f\x8b\x08\x00\x00"])
def test_corrupt_chart_archive_names_the_file(run_module, tmp_path, content):
    tgz = tmp_path / "webapp-1.0.0.tgz"
    tgz.write_bytes(content)
    failed, res = _run(run_module, tgz)
    assert failed and str(tgz) in res["msg"] and "not a readable chart archive" in res["msg"], res["msg"]


def test_bad_chart_yaml_inside_an_archive_names_archive_and_member(run_module, tmp_path):
    tgz = tmp_path / "webapp-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        data = b"name: [webapp\n"
        info = tarfile.TarInfo("webapp/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    failed, res = _run(run_module, tgz)
    assert failed and "%s:webapp/Chart.yaml is not valid YAML" % tgz in res["msg"], res["msg"]


def test_manifest_parsing_skips_what_is_not_a_pod_template():
    text = "\n---\n".join([
        "kind: null",
        "kind: List\nitems: not-a-list",
        "kind: Deployment\nspec: {template: {spec: {containers: [web, {image: ''}, {image: 'x:1'}]}}}",
        "kind: CronJob\nspec: {jobTemplate: null}",
        "- just a list",
    ])
    assert list(chart_images.images_in_manifest(text)) == [("x:1", "Deployment/None containers[2]")]

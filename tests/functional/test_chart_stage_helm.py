"""The archive onprem.stack.chart_stage stages (module_utils/_chart.py, chart_tgz of read_chart_dir)
is the chart helm loads from the directory, under helm 3 and helm 4 (the helm_binary fixture): helm
applies .helmignore (and its own rule templates/.?*) to a directory, never to an archive, so the
archive must leave out what helm would. A raw tar of the directory would not (checked too)."""
import subprocess
import tarfile

from ansible_collections.onprem.stack.plugins.module_utils._chart import chart_tgz, read_chart_dir

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"


def _chart(root):
    (root / "templates" / "tests").mkdir(parents=True)
    (root / "ci").mkdir()
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (root / ".helmignore").write_text("templates/ignored.yaml\nsecret.txt\n*.bak\nci/\n/templates/tests/*\n")
    for name in ("kept", "ignored", ".hidden", "tests/t"):
        (root / "templates" / f"{name}.yaml").write_text(CM % name.replace("/", "-").lstrip("."))
    (root / "templates" / "kept.yaml.bak").write_text(CM % "bak")
    (root / "ci" / "values.yaml").write_text("x: 1\n")
    (root / "secret.txt").write_text("s\n")
    (root / "templates" / "files.yaml").write_text(
        CM % "files" + 'data:\n  secret: {{ .Files.Get "secret.txt" | quote }}\n'
        '  ignore: {{ .Files.Get ".helmignore" | quote }}\n  ci: {{ .Files.Get "ci/values.yaml" | quote }}\n')
    return root


def _template(helm, chart):
    proc = subprocess.run([helm, "template", "r", str(chart)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_archive_renders_as_the_directory(helm_binary, tmp_path):
    root = _chart(tmp_path / "c")
    archive = tmp_path / "staged.tgz"
    archive.write_bytes(chart_tgz(read_chart_dir(str(root))))
    from_dir = _template(helm_binary, root)
    assert "name: kept" in from_dir and "name: ignored" not in from_dir and "name: hidden" not in from_dir
    assert _template(helm_binary, archive) == from_dir
    raw = tmp_path / "raw.tgz"
    with tarfile.open(raw, "w:gz") as tar:
        tar.add(root, arcname="c")
    assert "name: ignored" in _template(helm_binary, raw), "helm applies no .helmignore to an archive"

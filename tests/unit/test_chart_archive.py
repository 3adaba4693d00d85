"""The chart archive onprem.stack.chart_stage stages (module_utils/_chart.py: read_chart_dir,
chart_tgz): the same chart gives the same bytes whatever the files' times, modes and owners; a
changed file gives other bytes; entries are normalised; .helmignore is applied with helm's rules
(helm/helm pkg/ignore/rules.go; tests/functional/test_chart_stage_helm.py compares with helm 3 and 4)."""
import gzip
import io
import os
import tarfile

import pytest

from ansible_collections.onprem.stack.plugins.module_utils._chart import (
    ChartError, _go_pattern, _helmignore_rules, _ignored, chart_tgz, read_chart_dir, read_chart_tgz)


def _chart(root, helmignore=None):
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.2.0\n")
    (root / "values.yaml").write_text("replicas: 1\n")
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    if helmignore is not None:
        (root / ".helmignore").write_text(helmignore)
    return root


def _build(root):
    return chart_tgz(read_chart_dir(str(root)))


def test_same_chart_same_bytes_whatever_times_modes_and_paths(tmp_path):
    """Built twice, and from a copy with other times, modes and directory name: identical bytes."""
    a = _chart(tmp_path / "a")
    first = _build(a)
    assert _build(a) == first
    b = _chart(tmp_path / "elsewhere" / "b")
    for i, p in enumerate(sorted(b.rglob("*"))):
        os.utime(p, (1000000 + i, 2000000 + i))
        if p.is_file():
            p.chmod(0o755 if i % 2 else 0o600)
    assert _build(b) == first


def test_changed_file_changes_the_bytes(tmp_path):
    root = _chart(tmp_path / "a")
    before = _build(root)
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\nmetadata: {}\n")
    assert _build(root) != before
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    assert _build(root) == before, "the same content again: the same bytes"
    (root / "templates" / "extra.yaml").write_text("kind: Secret\n")
    assert _build(root) != before


def test_entries_normalised_and_helm_layout(tmp_path):
    """One top directory named after the chart, sorted regular files 0644 owned by 0:0 without
    names, time 0; the gzip header has time 0 and no name; read back as the same chart."""
    root = _chart(tmp_path / "a")
    data = _build(root)
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0", "gzip mtime 0"
    assert not data[3] & 0x08, "no file name in the gzip header"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["demo/Chart.yaml", "demo/templates/cm.yaml", "demo/values.yaml"]
    for m in members:
        assert (m.type, m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime) == (tarfile.REGTYPE, 0o644, 0, 0, "", "", 0)
    path = tmp_path / "demo.tgz"
    path.write_bytes(data)
    archived, directory = read_chart_tgz(str(path)), read_chart_dir(str(root))
    assert archived.files == directory.files and archived.digest == directory.digest
    assert (archived.name, archived.version) == ("demo", "1.2.0")
    assert gzip.decompress(data)  # a plain gzip stream


def test_helmignore_and_helm_default_rule(tmp_path):
    """.helmignore's patterns and helm's templates/.?* leave files out; the .helmignore itself stays."""
    root = _chart(tmp_path / "a", "# comment\n*.bak\nsecret.txt\nci/\n/templates/tests/*\n")
    for rel in ("templates/.hidden.yaml", "templates/cm.yaml.bak", "secret.txt", "sub/secret.txt",
                "ci/x.yaml", "templates/tests/t.yaml", "files/keep.txt", "files/templates/tests/t.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    assert sorted(read_chart_dir(str(root)).files) == [
        ".helmignore", "Chart.yaml", "files/keep.txt", "files/templates/tests/t.yaml", "templates/cm.yaml",
        "values.yaml"]


@pytest.mark.parametrize("pattern,name,match", [
    ("*.yaml", "a.yaml", True), ("templates/*", "templates/a/b", False), ("a?c", "abc", True),
    ("a?c", "a/c", False), ("[^a]x", "bx", True), ("[^a]x", "ax", False), ("[a-c]x", "bx", True),
    ("\\*", "*", True), ("\\*", "a", False)])
def test_go_filepath_match(pattern, name, match):
    assert bool(_go_pattern(pattern).fullmatch(name)) is match


def test_helmignore_negation_as_helm():
    """helm's Rules.Ignore: a negated rule leaves out what it does not match (so `!x` alone leaves
    out all but x); `**` and a bad pattern are refused."""
    rules = _helmignore_rules(b"!keep.txt\n")
    assert not _ignored("keep.txt", False, rules)
    assert _ignored("other.txt", False, rules) and _ignored("Chart.yaml", False, rules)
    # Rules apply in order: the first that leaves a path out wins, a later ! cannot bring it back.
    assert _ignored("keep.txt", False, _helmignore_rules(b"*.txt\n!keep.txt\n"))
    with pytest.raises(ChartError, match="double-star"):
        _helmignore_rules(b"a/**/b\n")
    with pytest.raises(ChartError, match="unterminated"):
        _helmignore_rules(b"[ab\n")

"""onprem.stack.chart_fetch with chart archives (.tgz) given as files: no helm runs for
those, so these tests need none. A corrupt input fails naming the file; a corrupt
archive in dest is replaced."""
import io
import tarfile

import pytest

from ansible_collections.onprem.stack.plugins.modules import chart_fetch

NO_HELM = "/nonexistent/helm"  # a .tgz input must not need helm


def _chart_tgz(path, version="1.0.0"):
    """A minimal Helm chart archive (webapp/Chart.yaml + a template), as helm package writes it."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("webapp/Chart.yaml", "apiVersion: v2\nname: webapp\nversion: %s\n" % version),
                           ("webapp/templates/cm.yaml", "kind: ConfigMap\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _run(run_module, src, dest, check=False):
    return run_module(chart_fetch.main, {"charts": [{"chart": str(src)}], "dest": str(dest),
                                         "helm_binary": NO_HELM}, check=check)


@pytest.mark.parametrize("content", [b"not a tar archive at all", b"\x1f\x8b\x08\x00truncated gzip", b""])
@pytest.mark.parametrize("check", [True, False])
def test_corrupt_input_archive_names_the_file(run_module, tmp_path, content, check):
    src = tmp_path / "webapp-1.0.0.tgz"
    src.write_bytes(content)
    dest = tmp_path / "charts"
    failed, res = _run(run_module, src, dest, check=check)
    assert failed, res
    assert str(src) in res["msg"] and "chart archive" in res["msg"], res["msg"]
    assert not list(dest.glob("*")) if dest.exists() else True


def test_truncated_input_archive_names_the_file(run_module, tmp_path):
    good = _chart_tgz(tmp_path / "good.tgz").read_bytes()
    src = tmp_path / "webapp-1.0.0.tgz"
    src.write_bytes(good[: len(good) // 2])
    failed, res = _run(run_module, src, tmp_path / "charts")
    assert failed and str(src) in res["msg"], res["msg"]


def test_copy_then_idempotent_then_corrupt_dest_is_replaced(run_module, tmp_path):
    src = _chart_tgz(tmp_path / "webapp-1.0.0.tgz")
    dest = tmp_path / "charts"
    target = dest / "webapp-1.0.0.tgz"

    failed, res = _run(run_module, src, dest, check=True)
    assert not failed and res["changed"] and not target.exists()
    failed, res = _run(run_module, src, dest)
    assert not failed and res["changed"] and target.read_bytes() == src.read_bytes()
    assert res["charts"] == [{"chart": str(src), "path": str(target), "changed": True}]
    failed, res = _run(run_module, src, dest)
    assert not failed and not res["changed"]

    target.write_bytes(b"garbage left by something else")
    failed, res = _run(run_module, src, dest, check=True)
    assert not failed and res["changed"] and target.read_bytes() == b"garbage left by something else"
    failed, res = _run(run_module, src, dest)
    assert not failed and res["changed"] and target.read_bytes() == src.read_bytes()
    failed, res = _run(run_module, src, dest)
    assert not failed and not res["changed"]


def test_dest_that_is_a_file(run_module, tmp_path):
    src = _chart_tgz(tmp_path / "webapp-1.0.0.tgz")
    (tmp_path / "charts").write_text("x")
    failed, res = _run(run_module, src, tmp_path / "charts")
    assert failed and "dest %s exists and is not a directory" % (tmp_path / "charts") in res["msg"]

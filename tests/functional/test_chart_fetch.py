"""onprem.stack.chart_fetch with the real helm CLI: packaging a chart directory, copying
a .tgz, idempotence that ignores archive timestamps, and a clear error for a broken
chart. Pulling from repositories and OCI registries is not exercised here (no chart
repository is reachable from the CI host and helm 3.10 cannot push with a custom CA).
Every test runs under helm 3 and helm 4 (the helm_binary fixture, tests/conftest.py).
"""
import shutil
import tarfile
import time
from pathlib import Path

from ansible_collections.onprem.stack.plugins.modules import chart_fetch

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "tests" / "fixtures" / "charts" / "webapp"


def test_package_check_write_rerun_and_change(run_module, helm_binary, tmp_path):
    chart = tmp_path / "webapp"
    shutil.copytree(CHART, chart)
    dest = tmp_path / "charts"
    args = {"helm_binary": helm_binary, "dest": str(dest), "charts": [{"chart": str(chart)}]}
    failed, res = run_module(chart_fetch.main, args, check=True)
    assert not failed and res["changed"] and not dest.exists(), res
    failed, res = run_module(chart_fetch.main, args)
    tgz = dest / "webapp-1.0.0.tgz"
    assert not failed and res["changed"] and res["charts"][0]["path"] == str(tgz) and tgz.exists(), res
    with tarfile.open(tgz) as t:
        assert "webapp/templates/deployment.yaml" in t.getnames()
    before = tgz.stat().st_mtime_ns
    time.sleep(1.1)  # a new packaging has new timestamps; they must not count as a change
    failed, res = run_module(chart_fetch.main, args)
    assert not failed and not res["changed"] and tgz.stat().st_mtime_ns == before, res
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text() + "extra: 1\n")
    failed, res = run_module(chart_fetch.main, args)
    assert not failed and res["changed"], res


def test_tgz_copied_once(run_module, helm_binary, tmp_path):
    dest = tmp_path / "charts"
    failed, res = run_module(chart_fetch.main, {"helm_binary": helm_binary, "dest": str(tmp_path / "pkg"),
                                                "charts": [{"chart": str(CHART)}]})
    src = Path(res["charts"][0]["path"])
    args = {"helm_binary": helm_binary, "dest": str(dest), "charts": [{"chart": str(src)}]}
    failed, res = run_module(chart_fetch.main, args)
    assert not failed and res["changed"] and (dest / src.name).read_bytes() == src.read_bytes()
    failed, res = run_module(chart_fetch.main, args)
    assert not failed and not res["changed"]


def test_broken_chart_names_it(run_module, helm_binary, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Chart.yaml").write_text("name: [unclosed\n")
    failed, res = run_module(chart_fetch.main, {"helm_binary": helm_binary, "dest": str(tmp_path / "c"),
                                                "charts": [{"chart": str(bad)}]})
    assert failed and str(bad) in res["msg"] and "helm package failed" in res["msg"], res

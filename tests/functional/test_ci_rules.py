"""The CI rule of tests/conftest.py and the summary of `make test`, with real pytest
runs: a small test directory holding copies of tests/conftest.py and tests/skips.py,
run with and without CI=true, recorded and reported by scripts/test-summary.py."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUMMARY = REPO / "scripts" / "test-summary.py"

TESTS = '''
import pytest
from skips import skip_missing_tool, skip_not_provided

def test_passes():
    assert True

def test_needs_a_tool():
    skip_missing_tool("helm4", "helm 4: scripts/install-helm.sh")

def test_needs_a_cluster():
    skip_not_provided("a Kubernetes API", "set KUBECONFIG")

@pytest.mark.skipif(True, reason="plain skipif")
def test_plain_skipif():
    pass

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False

def test_fails():
    assert 1 == 2
'''


def _suite(tmp_path):
    d = tmp_path / "suite"
    d.mkdir()
    shutil.copy(REPO / "tests" / "conftest.py", d / "conftest.py")
    shutil.copy(REPO / "tests" / "skips.py", d / "skips.py")
    (d / "test_sample.py").write_text(TESTS)
    return d


def _run(cmd, ci, results, cwd):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TEST_RESULTS"] = str(results)
    if ci:
        env["CI"] = "true"
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _pytest_step(suite, results, ci):
    junit = results / "pytest.xml"
    return _run([sys.executable, str(SUMMARY), "run", "pytest", "--junit", str(junit), "--",
                 sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", f"--junitxml={junit}", "."],
                ci, results, suite)


def _report(results, cwd):
    return _run([sys.executable, str(SUMMARY), "report"], False, results, cwd)


def test_outside_ci_tool_skips_stay_skips(tmp_path):
    suite, results = _suite(tmp_path), tmp_path / "results"
    p = _pytest_step(suite, results, ci=False)
    assert p.returncode == 1, p.stdout  # test_fails
    _run([sys.executable, str(SUMMARY), "skip", "molecule:k3s", "not provided: a k3s binary (set K3S_ARTIFACTS_DIR)"],
         False, results, suite)
    rep = _report(results, suite)
    out = rep.stdout.splitlines()
    assert rep.returncode == 1
    assert out[-1] == "1 passed, 1 failed, 5 skipped", rep.stdout
    assert "  molecule:k3s: not provided: a k3s binary (set K3S_ARTIFACTS_DIR)" in out
    assert "  test_sample.py::test_needs_a_tool: missing tool: helm4 (helm 4: scripts/install-helm.sh)" in out
    assert "  test_sample.py::test_needs_a_cluster: not provided: a Kubernetes API (set KUBECONFIG)" in out
    assert "  test_sample.py::test_plain_skipif: plain skipif" in out
    assert any(line.startswith("  test_sample.py::test_expected_failure: ") for line in out)  # xfail: skipped in JUnit
    assert any(line.startswith("  test_sample.py::test_fails: ") for line in out)


def test_under_ci_only_unprovided_resources_may_skip(tmp_path):
    suite, results = _suite(tmp_path), tmp_path / "results"
    p = _pytest_step(suite, results, ci=True)
    assert p.returncode == 1
    assert "skipped under CI=true, which is a failure: missing tool: helm4" in p.stdout, p.stdout
    rep = _report(results, suite)
    out = rep.stdout.splitlines()
    assert out[-1] == "1 passed, 3 failed, 2 skipped", rep.stdout
    failed = out[out.index("failed (3):") + 1:-1]
    assert [line.split(":")[2] for line in failed] == ["test_needs_a_tool", "test_plain_skipif", "test_fails"]
    skipped = out[out.index("skipped (2):") + 1:out.index("failed (3):")]
    assert skipped[0] == "  test_sample.py::test_needs_a_cluster: not provided: a Kubernetes API (set KUBECONFIG)"
    assert skipped[1].startswith("  test_sample.py::test_expected_failure: ")


def test_a_part_that_fails_without_results_counts(tmp_path):
    results = tmp_path / "results"
    p = _run([sys.executable, str(SUMMARY), "run", "lint", "--", "false"], False, results, tmp_path)
    assert p.returncode == 1
    _run([sys.executable, str(SUMMARY), "run", "molecule:redis", "--", "true"], False, results, tmp_path)
    rep = _report(results, tmp_path)
    assert rep.returncode == 1 and rep.stdout.splitlines()[-1] == "1 passed, 1 failed, 0 skipped", rep.stdout
    assert "  lint: exit code 1: false" in rep.stdout


def test_under_ci_a_module_level_skip_fails_collection(tmp_path):
    suite, results = _suite(tmp_path), tmp_path / "results"
    (suite / "test_sample.py").unlink()
    (suite / "test_module.py").write_text(
        "import pytest\npytest.skip('missing tool: umoci (make host)', allow_module_level=True)\n\n"
        "def test_a():\n    pass\n")
    p = _pytest_step(suite, results, ci=True)
    assert p.returncode != 0 and "ERROR collecting test_module.py" in p.stdout, p.stdout
    rep = _report(results, suite)
    assert rep.stdout.splitlines()[-1] == "0 passed, 1 failed, 0 skipped", rep.stdout
    assert "  test_module: skipped under CI=true, which is a failure: missing tool: umoci (make host)" in rep.stdout
    p = _pytest_step(suite, results, ci=False)
    assert p.returncode == 5 and "1 skipped" in p.stdout, p.stdout  # 5: no tests ran


def test_a_step_records_the_cpu_time_of_its_processes(tmp_path):
    """A step that computes records the CPU seconds of its own process tree; the report prints them and the host's
    busy CPU time since the first step (/proc/stat)."""
    results = tmp_path / "results"
    p = _run([sys.executable, str(SUMMARY), "run", "busy", "--", sys.executable, "-c",
              "x = 0\nfor i in range(3_000_000): x += i"], False, results, tmp_path)
    assert p.returncode == 0, p.stderr
    rec = json.loads((results / "busy.json").read_text())
    assert 0.05 < rec["cpu_seconds"] <= rec["seconds"] * (os.cpu_count() or 1) + 0.5
    rep = _report(results, tmp_path)
    assert f"{rec['cpu_seconds']:.1f} CPU-s" in rep.stdout, rep.stdout
    assert re.search(r"host CPU since the first step: \d+ CPU-s busy in \d+ s of wall clock", rep.stdout), rep.stdout

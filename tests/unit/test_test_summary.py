"""scripts/test-summary.py: the summary `make test` ends with (run in-process; the
`run` subcommand starts programs and is covered by tests/functional/test_ci_rules.py)."""
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# pytest's JUnit XML (docs.pytest.org "junitxml"), as pytest 9 writes it.
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
 errors="1" failures="1" skipped="2" tests="6" time="3.2">
<testcase classname="tests.unit.test_image_ref" name="test_ok" time="0.01" />
<testcase classname="tests.functional.test_chart_images" name="test_every_image[helm3]" time="1.0" />
<testcase classname="tests.functional.test_chart_images" name="test_every_image[helm4]" time="0.0">
 <skipped type="pytest.skip" message="missing tool: helm4 (helm 4: scripts/install-helm.sh)">tests/conftest.py:77: missing tool</skipped></testcase>
<testcase classname="tests.functional.test_helm_release" name="test_install" time="0.0">
 <skipped type="pytest.skip" message="not provided: a Kubernetes API (set KUBECONFIG)">x</skipped></testcase>
<testcase classname="tests.unit.test_image_ref" name="test_bad" time="0.1">
 <failure message="AssertionError: assert 1 == 2">long text</failure></testcase>
<testcase classname="tests.unit.modules.test_bundle" name="test_setup" time="0.0">
 <error message="failed on setup with &quot;KeyError&quot;">trace</error></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def summary(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_RESULTS", str(tmp_path / "results"))
    spec = importlib.util.spec_from_file_location("test_summary_script", REPO / "scripts" / "test-summary.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _record(results: Path, **rec):
    results.mkdir(parents=True, exist_ok=True)
    rec = dict({"reason": "", "seconds": 1.5, "junit": ""}, **rec)
    (results / (rec["name"].replace(":", "_") + ".json")).write_text(json.dumps(rec))


def test_report_counts_names_and_reasons(summary, tmp_path, capsys):
    results = tmp_path / "results"
    junit = tmp_path / "pytest.xml"
    junit.write_text(JUNIT)
    _record(results, name="lint", outcome="passed", started=1)
    _record(results, name="pytest", outcome="failed", reason="exit code 1", junit=str(junit), started=2)
    _record(results, name="molecule:redis", outcome="passed", started=3)
    summary.skip("molecule:k3s", "not provided: a k3s binary (set K3S_ARTIFACTS_DIR)")
    assert summary.report() == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "4 passed, 2 failed, 3 skipped"
    skipped = out[out.index("skipped (3):") + 1:out.index("failed (2):")]
    assert skipped == [
        "  tests/functional/test_chart_images.py::test_every_image[helm4]: missing tool: helm4 (helm 4: scripts/install-helm.sh)",
        "  tests/functional/test_helm_release.py::test_install: not provided: a Kubernetes API (set KUBECONFIG)",
        "  molecule:k3s: not provided: a k3s binary (set K3S_ARTIFACTS_DIR)",
    ]
    steps = [line.split()[0] for line in out[out.index("== test summary (%s) ==" % results) + 1:out.index("skipped (3):")]]
    assert steps == ["lint", "pytest", "molecule:redis", "molecule:k3s"]  # in the order they ran
    failed = out[out.index("failed (2):") + 1:-1]
    assert failed == ["  tests/unit/test_image_ref.py::test_bad: AssertionError: assert 1 == 2",
                      "  tests/unit/modules/test_bundle.py::test_setup: failed on setup with \"KeyError\""]


def test_all_green_exits_0(summary, tmp_path, capsys):
    _record(tmp_path / "results", name="lint", outcome="passed")
    assert summary.report() == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed, 0 skipped"


def test_missing_junit_is_a_failure(summary, tmp_path, capsys):
    _record(tmp_path / "results", name="pytest", outcome="failed", reason="exit code 2",
            junit=str(tmp_path / "absent.xml"))
    assert summary.report() == 1
    out = capsys.readouterr().out
    assert "0 passed, 1 failed, 0 skipped" in out and "no test results in" in out


def test_nothing_recorded_is_a_failure(summary, capsys):
    assert summary.report() == 1
    assert "0 passed, 0 failed, 0 skipped" in capsys.readouterr().out


# A failed Molecule scenario's output (Molecule 26 with the ansible-core 2.19 default callback, colours on),
# shortened: the lines that say why are the fatal task result, the recap and pytest's short summary.
MOLECULE_LOG = """\x1b[36mINFO    \x1b[0m default \u279c converge: Executed: Successful
  \u2502 TASK [onprem.stack.redis : Start Redis] ****
  \u2502 ok: [onprem-site]
  \u2502 FAILED - RETRYING: [onprem-site]: Wait for the socket (3 retries left).
  \u2502 fatal: [onprem-site]: FAILED! => {"changed": false, "msg": "Timeout when waiting for 127.0.0.1:6379"}
  \u2502 onprem-site                : ok=41   changed=0    unreachable=0    failed=1    skipped=3
  \u2502 onprem-site                : ok=80   changed=0    unreachable=0    failed=0    skipped=3
E       AssertionError: secrets found (file, secret): [('x', 'generated app')]
FAILED tests/test_secrets.py::test_no_secret_anywhere - AssertionError: secrets found
  \u2502 E       assert 'a' == 'b'
  \u2502 FAILED tests/test_layout.py::test_old_layout_is_gone[registry] -
""" + "  \u2502 ok: [onprem-site]\n" * 3 + "the end\n"


def test_report_shows_why_a_step_with_a_log_failed(summary, tmp_path, capsys):
    results = tmp_path / "results"
    log = tmp_path / "default.log"
    log.write_text(MOLECULE_LOG)
    _record(results, name="molecule:default", outcome="failed", reason="exit code 1", log=str(log), started=1)
    _record(results, name="molecule:redis", outcome="passed", log=str(log), started=2)
    assert summary.report() == 1
    out = capsys.readouterr().out.splitlines()
    start = out.index("why molecule:default failed (last lines of %s that say so):" % log)
    assert out[start + 1:-1] == [
        '  |   \u2502 fatal: [onprem-site]: FAILED! => {"changed": false, "msg": "Timeout when waiting for 127.0.0.1:6379"}',
        "  |   \u2502 onprem-site                : ok=41   changed=0    unreachable=0    failed=1    skipped=3",
        "  | E       AssertionError: secrets found (file, secret): [('x', 'generated app')]",
        "  | FAILED tests/test_secrets.py::test_no_secret_anywhere - AssertionError: secrets found",
        "  |   \u2502 E       assert 'a' == 'b'",
        "  |   \u2502 FAILED tests/test_layout.py::test_old_layout_is_gone[registry] -",
    ]
    assert not [line for line in out if line.startswith("why molecule:redis")]


def test_log_excerpt_falls_back_to_the_last_lines(summary, tmp_path):
    log = tmp_path / "x.log"
    log.write_text("".join("line %d\n" % n for n in range(100)) + "x" * 500 + "\n")
    excerpt = summary.log_excerpt(log, lines=3, width=20)
    assert excerpt == ["line 98", "line 99", "x" * 20 + " [...]"]
    assert summary.log_excerpt(tmp_path / "missing.log") == []

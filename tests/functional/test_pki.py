"""The pki role's certificates on the control node, issued for real (community.crypto, openssl).

A playbook of the test's own runs ``onprem.stack.pki`` entry point ``issue`` for one host (local
connection, no fact gathering: the SANs are the inventory name, localhost and 127.0.0.1 plus
``pki_issue_sans``), with ``ansible.posix.json`` as the stdout callback so the test reads which task
ran, changed or was skipped. Checked: the first run issues the CA and the certificate; a re-run
changes nothing and skips the key, signing-request and signing steps of both (the current files
are checked in-process on the control node); and each reason to issue again still does: SANs
changed, the renewal window reached, the site CA replaced, a file removed or cut short.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from skips import skip_missing_tool, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The steps the in-process check lets a re-run skip.
CA_STEPS = {"Site CA | directories on the control node", "Site CA | private key", "Site CA | signing request",
            "Site CA | self-signed certificate"}
CERT_STEPS = {"Certificate | directory on the control node for web", "Certificate | private key of web",
              "Certificate | signing request of web", "Certificate | read the current web",
              "Certificate | signed by the site CA, renewed near expiry, web"}


def _run(tmp: Path, **variables):
    """Issue certificate ``web`` for host site-1 under ``tmp``/pki; return {task name: 'changed'|'ok'|'skipped'}."""
    (tmp / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"site-1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8")
    (tmp / "play.yml").write_text(yaml.safe_dump([{
        "name": "Test | issue a certificate", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Test | issue web", "ansible.builtin.include_role": {
            "name": "onprem.stack.pki", "tasks_from": "issue.yml"}}]}]), encoding="utf-8")
    (tmp / "vars.json").write_text(json.dumps(dict({"pki_dir": str(tmp / "pki"), "pki_issue_name": "web"}, **variables)),
                                   encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml"),
                           "-e", f"@{tmp / 'vars.json'}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    outcome = {}
    for play in json.loads(proc.stdout)["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("site-1", {})
            state = "skipped" if result.get("skipped") else "changed" if result.get("changed") else "ok"
            outcome[task["task"]["name"].split(" : ", 1)[-1]] = state
    return outcome


def _files(tmp: Path):
    return {p.name: p.read_bytes() for p in sorted((tmp / "pki").rglob("*")) if p.is_file()}


def _text(tmp: Path, *args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True, cwd=tmp / "pki").stdout


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """One certificate through its life, each step a real run on the same pki_dir: {step: {outcome, files, sans,
    verify}} where outcome is what _run returns, files the pki files after it ({name: bytes}), sans the
    certificate's subjectAltName and verify ``openssl verify``'s output. Eight runs (about 7 s each)."""
    if not tool_path("openssl"):
        skip_missing_tool("openssl", "apt-get install openssl")
    tmp = tmp_path_factory.mktemp("pki")
    done = {}

    def step(name, **variables):
        outcome = _run(tmp, **variables)
        sans = _text(tmp, "x509", "-in", "site-1/web.crt", "-noout", "-ext", "subjectAltName")
        verify = _text(tmp, "verify", "-CAfile", "ca.crt", "site-1/web.crt")
        done[name] = {"outcome": outcome, "files": _files(tmp), "sans": sans, "verify": verify}

    step("first")
    step("rerun")
    step("new san", pki_issue_sans=["web.example.internal"])
    step("new san rerun", pki_issue_sans=["web.example.internal"])
    # 900 days of renewal window > the 825-day validity: the certificate is always due.
    step("renewal due", pki_cert_renew_days=900)
    for name in ("ca.key", "ca.csr", "ca.crt"):
        (tmp / "pki" / name).unlink()
    step("ca replaced")
    (tmp / "pki" / "site-1" / "web.crt").unlink()
    step("certificate removed")
    cert = tmp / "pki" / "site-1" / "web.crt"
    cert.write_bytes(cert.read_bytes()[:200])
    step("certificate cut short")
    return done


def _changed(outcome):
    return {name for name, state in outcome.items() if state == "changed"}


def test_first_run_issues_the_ca_and_the_certificate(steps):
    first = steps["first"]
    assert _changed(first["outcome"]) == (CA_STEPS | CERT_STEPS) - {"Certificate | read the current web"}
    assert "OK" in first["verify"]
    assert "DNS:site-1" in first["sans"] and "DNS:localhost" in first["sans"] and "IP Address:127.0.0.1" in first["sans"]


def test_rerun_changes_nothing_and_skips_the_steps(steps):
    rerun = steps["rerun"]
    assert _changed(rerun["outcome"]) == set()
    assert {name for name, state in rerun["outcome"].items() if state == "skipped"} >= CA_STEPS | CERT_STEPS
    assert rerun["files"] == steps["first"]["files"]


def test_new_san_issues_again_with_the_same_key(steps):
    new, before = steps["new san"], steps["rerun"]["files"]
    assert "Certificate | signed by the site CA, renewed near expiry, web" in _changed(new["outcome"])
    assert new["outcome"]["Certificate | private key of web"] == "ok"
    assert new["files"]["web.key"] == before["web.key"] and new["files"]["ca.crt"] == before["ca.crt"]
    assert "DNS:web.example.internal" in new["sans"]
    assert _changed(steps["new san rerun"]["outcome"]) == set()


def test_renewal_window_reached_issues_again(steps):
    due = steps["renewal due"]
    assert "Certificate | signed by the site CA, renewed near expiry, web" in _changed(due["outcome"])
    assert due["files"]["web.crt"] != steps["new san rerun"]["files"]["web.crt"]


def test_replaced_ca_issues_again_from_the_new_ca(steps):
    replaced = steps["ca replaced"]
    assert {"Site CA | private key", "Certificate | signed by the site CA, renewed near expiry, web"} <= _changed(
        replaced["outcome"])
    assert replaced["files"]["ca.crt"] != steps["renewal due"]["files"]["ca.crt"]
    assert "OK" in replaced["verify"]


def test_removed_certificate_is_issued_again(steps):
    removed = steps["certificate removed"]
    assert removed["outcome"]["Site CA | private key"] == "skipped"
    assert "Certificate | signed by the site CA, renewed near expiry, web" in _changed(removed["outcome"])
    assert "web.crt" in removed["files"] and "OK" in removed["verify"]


def test_certificate_cut_short_is_issued_again(steps):
    """A file the filters cannot parse (a write cut short) is not an error: the modules write it anew."""
    cut = steps["certificate cut short"]
    assert "Certificate | signed by the site CA, renewed near expiry, web" in _changed(cut["outcome"])
    assert "OK" in cut["verify"]

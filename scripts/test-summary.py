#!/usr/bin/env python3
"""Record the parts of `make test` and print one summary at the end.

Usage:
  scripts/test-summary.py run NAME [--junit FILE] [--log FILE] -- COMMAND...
      run COMMAND (output passes through), record step NAME as passed or failed with its
      duration; exit with COMMAND's exit code. With --junit, the per-test results in
      FILE (pytest --junitxml) count instead of the step itself, unless FILE is missing.
      With --log, FILE is where the caller sent COMMAND's output: when the step fails,
      the report ends with the lines of it that say why (fatal task results, failed
      assertions, pytest's short summary), so that the last screen of a long CI log
      shows the cause and not just the name.
  scripts/test-summary.py skip NAME REASON
      record step NAME as skipped with REASON (a part whose requirement is not provided
      to this run, e.g. "not provided: a k3s binary (set K3S_ARTIFACTS_DIR)").
  scripts/test-summary.py report
      print every step, every skipped and failed test by name with its reason, and as
      the last line the totals "N passed, N failed, N skipped"; exit 1 when anything
      failed or nothing was recorded.

Records live in $TEST_RESULTS (default: .test-results/ in the repository), one JSON
file per step: {"name", "outcome": "passed"|"failed"|"skipped", "reason", "seconds",
"cpu_seconds", "junit", "log", "started" (epoch seconds)}. "cpu_seconds" is the user + system CPU time of the
step's own process tree on this host (getrusage(RUSAGE_CHILDREN); work inside the podman test hosts runs
under conmon and is not in it): on the 2-core CI host the suite is bound by CPU, so it says what a step
costs whatever ran beside it. `run` also records the host's busy CPU time (/proc/stat, all processes,
containers included; proc(5)) when the first step starts, and `report` prints the total since then.
The JUnit XML format read is pytest's (docs.pytest.org, "junitxml"):
<testcase classname name time> with an optional <failure>, <error> or
<skipped message> child.
"""
import json
import os
import resource
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("TEST_RESULTS") or REPO / ".test-results")


def _record_path(name):
    return RESULTS / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".json")


def _write(record):
    RESULTS.mkdir(parents=True, exist_ok=True)
    _record_path(record["name"]).write_text(json.dumps(record, indent=1) + "\n")


def host_busy_seconds():
    """Return the host's busy CPU time since boot (float, seconds, all CPUs): the "cpu" line of /proc/stat
    (proc(5): user nice system idle iowait irq softirq steal ..., in USER_HZ ticks) less idle and iowait;
    None where /proc/stat cannot be read."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def run(name, junit, command, log=None):
    """Run ``command`` (list of str) as step ``name``; return its exit code (int). ``log`` (str or None) is the
    file the caller sends the command's output to, kept in the record for the report's excerpt."""
    if junit and Path(junit).exists():
        Path(junit).unlink()  # a stale file must not stand for this run
    started, start = time.time(), time.monotonic()
    mark = RESULTS / "host-cpu-start"
    busy = None if mark.exists() else host_busy_seconds()
    if busy is not None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        mark.write_text(f"{busy:.1f} {time.time():.1f}\n")
    try:
        rc = subprocess.call(command)
    except OSError as exc:
        print(f"{name}: cannot run {command[0]}: {exc}", file=sys.stderr)
        rc = 127
    _write({"name": name, "outcome": "passed" if rc == 0 else "failed",
            "reason": "" if rc == 0 else f"exit code {rc}: {' '.join(command)}",
            "seconds": round(time.monotonic() - start, 1), "cpu_seconds": round(_children_cpu(), 1),
            "junit": junit or "", "log": log or "", "started": started})
    return rc


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def skip(name, reason):
    _write({"name": name, "outcome": "skipped", "reason": reason, "seconds": 0, "junit": "", "started": time.time()})


def _test_id(classname, name):
    """pytest node id from JUnit classname/name, e.g. ("tests.unit.test_x", "test_y[a]")
    -> "tests/unit/test_x.py::test_y[a]" (the longest prefix that is a file; all of
    classname when none is, e.g. for a file removed since)."""
    parts = classname.split(".") if classname else []
    for i in range(len(parts), 0, -1):
        path = "/".join(parts[:i]) + ".py"
        if (REPO / path).exists():
            return "::".join([path] + parts[i:] + [name])
    return "::".join((["/".join(parts) + ".py"] if parts else []) + [name])


def junit_cases(path):
    """Yield (test id, outcome, reason) for every testcase of the JUnit XML ``path``.

    Raises OSError / ET.ParseError when the file is missing or not XML."""
    for case in ET.parse(path).getroot().iter("testcase"):
        test = _test_id(case.get("classname", ""), case.get("name", ""))
        outcome, reason = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                message, text = (child.get("message") or "").strip(), (child.text or "").strip()
                if text and message in ("", "collection failure"):
                    message = text  # pytest's generic message; the text says what failed
                reason = (message or child.tag).splitlines()[0]
                break
            if child.tag == "skipped":
                outcome = "skipped"
                reason = (child.get("message") or child.text or "").strip()
        yield test, outcome, reason


# Lines of a failed step's log that say why: Ansible's fatal/failed task results and its recap
# with failures, Molecule's failed actions, pytest's failed assertions ("E   ...") and its
# short test summary, tracebacks' last lines. Molecule prints a verifier's output behind a
# box-drawing bar ("  \u2502 E   ..."), so the pytest patterns allow it before them.
WHY = re.compile(r"fatal: \[|FAILED!|\bfailed=[1-9]|\bERROR\b|^[\s\u2502]*E\s{2,}|^[\s\u2502]*FAILED (?!- RETRYING)|Error: |"
                 r"Traceback|short test summary|Executed: Failed|Return code: [1-9]")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EXCERPT_LINES = 40
EXCERPT_WIDTH = 300


def log_excerpt(path, lines=EXCERPT_LINES, width=EXCERPT_WIDTH):
    """Return the last ``lines`` lines (list of str, ANSI colours removed, each cut to ``width`` characters)
    of the log file ``path`` that match WHY; the log's last ``lines`` lines when none does; [] when the file
    cannot be read."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return []
    all_lines = [ANSI.sub("", line).rstrip() for line in text.splitlines()]
    hits = [line for line in all_lines if WHY.search(line)] or all_lines
    return [line if len(line) <= width else line[:width] + " [...]" for line in hits[-lines:]]


def report():
    """Print the summary; return 1 when something failed or nothing was recorded, else 0."""
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))] if RESULTS.is_dir() else []
    records.sort(key=lambda r: r.get("started", 0))  # in the order the parts ran
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    listed = {"failed": [], "skipped": []}
    print("\n== test summary (%s) ==" % RESULTS)
    for r in records:
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        cases = None
        if r.get("junit"):
            try:
                cases = list(junit_cases(r["junit"]))
            except (OSError, ET.ParseError) as exc:
                r = dict(r, outcome="failed", reason=f"no test results in {r['junit']} ({exc}); {r['reason']}")
        if cases is not None:
            for test, outcome, reason in cases:
                counts[outcome] += 1
                if outcome != "passed":
                    listed[outcome].append((test, reason))
            if r["outcome"] == "failed" and not counts["failed"]:
                counts["failed"] += 1  # the command failed outside any test (e.g. collection)
                listed["failed"].append((r["name"], r["reason"]))
            detail = f"tests: {counts['passed']} passed / {counts['failed']} failed / {counts['skipped']} skipped"
        else:
            counts[r["outcome"]] += 1
            if r["outcome"] != "passed":
                listed[r["outcome"]].append((r["name"], r["reason"]))
            detail = r["outcome"]
        for k in totals:
            totals[k] += counts[k]
        cpu = f"{r['cpu_seconds']:>7.1f} CPU-s" if r.get("cpu_seconds") is not None else ""
        print(f"  {r['name']:<28} {detail:<48} {r['seconds']:>7.1f} s {cpu}")
    mark, now = RESULTS / "host-cpu-start", host_busy_seconds()
    if mark.exists() and now is not None:
        busy0, wall0 = (float(v) for v in mark.read_text().split())
        print(f"host CPU since the first step: {now - busy0:.0f} CPU-s busy in {time.time() - wall0:.0f} s of wall clock"
              f" ({os.cpu_count()} CPUs; CPU-s above: each step's own processes, test hosts not included)")
    for kind in ("skipped", "failed"):
        print(f"{kind} ({len(listed[kind])}):")
        for name, reason in listed[kind]:
            print(f"  {name}: {reason or '(no reason given)'}")
    for r in records:
        if r["outcome"] == "failed" and r.get("log"):
            print(f"why {r['name']} failed (last lines of {r['log']} that say so):")
            for line in log_excerpt(r["log"]):
                print("  | " + line)
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    if not records:
        print(f"nothing recorded in {RESULTS}", file=sys.stderr)
        return 1
    return 1 if totals["failed"] else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "run":
        name, rest = argv[1], argv[2:]
        options = {"--junit": None, "--log": None}
        while rest[:1] and rest[0] in options and len(rest) >= 2:
            options[rest[0]], rest = rest[1], rest[2:]
        if rest[:1] != ["--"] or len(rest) < 2:
            sys.exit("usage: test-summary.py run NAME [--junit FILE] [--log FILE] -- COMMAND...")
        return run(name, options["--junit"], rest[1:], log=options["--log"])
    if len(argv) == 3 and argv[0] == "skip":
        skip(argv[1], argv[2])
        return 0
    if argv == ["report"]:
        return report()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Wrong or unsafe inventory values stop site.yml before any host is changed.

Cases are data: every ``tests/functional/bad_input/*.yml`` holds a list of cases of
this shape (see ``tests/functional/bad_input/README.md``)::

    - id: redis-port-out-of-range          # unique over all files
      vars: {redis_port: 70000}            # merged over BASE_VARS (group_vars of all)
      hosts: {target: {groups: [redis]}}   # optional: hosts, their groups and host vars
      expect: ['redis_port', '70000']      # substrings the failure message must contain

Without ``hosts`` the inventory has one host ``target`` in groups postgres, redis and
registry. Every host connects locally (ansible_connection: local) to the CI host
itself; a ``hosts`` entry is ``{groups: [...], vars: {...}}``.

Each case runs the real site.yml with ansible-playbook and one bad value. Preflight
validates every planned role's input first with any_errors_fatal, so the run must
fail, name the expected text, report changed=0, never start a play after preflight
and never write a credential (the credentials directory stays absent). If validation
were missing a later play would start: the assertions catch that.

Which cases run here: every case is run against the validators, without a playbook, by
tests/unit/test_validate_cases.py. This test proves the wiring through site.yml on the
cases in WIRING: at least one per case file, each kind of check (a role's argument
spec, its validator, a cross-role rule reading another host's variables, preflight's
own checks, a check on the control node's files) and each group that plans a role.
``BAD_INPUT_ALL=1`` runs every case here too.

Facts: the host's facts are gathered once, by a real ``setup`` through ansible-playbook,
into a jsonfile fact cache (one entry per host name the cases use; every host is this CI
host); each case runs on its own copy of that cache, so site.yml's smart gathering finds
the facts and skips the ``setup`` run that was about 45% of a case's CPU time.
Everything after fact gathering, the preflight play and every validator, runs for real.

Cost: one ansible-playbook per case; the cases run concurrently on
``os.cpu_count()`` workers (about 4-5 s of CPU each). The summary test prints
``N tried, N refused before change`` and the wall time. pytest's ``--durations`` books
the whole ``results`` fixture (every case) on the first case it sets up.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CASE_DIR = Path(__file__).resolve().parent / "bad_input"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
DEFAULT_HOSTS = {"target": {"groups": ["postgres", "redis", "registry"]}}
PREFLIGHT_PLAY = "PLAY [Preflight"

# Small enough for any CI host; the point here is input validation.
BASE_VARS = {
    "preflight_requirements": {"postgres": {"cpus": 1, "memory_mb": 1, "disk_gb": 0}},
    "preflight_time_sync_required": False,
    "postgresql_users": [{"name": "app"}],
    "postgresql_databases": [{"name": "appdb", "owner": "app"}],
    "registry_load_bundle": False,
}


def load_cases() -> dict[str, dict]:
    """Read every case file; return {id: case}.

    Raises ValueError when a case lacks id/expect, has an unknown key, or an id repeats.
    """
    cases: dict[str, dict] = {}
    for path in sorted(CASE_DIR.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            unknown = set(case) - {"id", "vars", "hosts", "expect"}
            if "id" not in case or not case.get("expect") or unknown:
                raise ValueError(f"{path.name}: bad case {case!r} (needs id and expect; unknown keys {unknown})")
            if case["id"] in cases:
                raise ValueError(f"{path.name}: case id {case['id']!r} is used twice")
            cases[case["id"]] = dict(case, file=path.name)
    return cases


CASES = load_cases()

# The cases run through site.yml (see the module docstring); the unit tests run them all.
WIRING = {
    "airgap-bundle-without-repository",            # airgap: bundle on the control node, stack_airgap only
    "k3s-short-token",                             # k3s validator: a secret's length, never its value
    "k3s-cluster-config-differs-per-host",         # k3s: another host's variables (hostvars)
    "k3s-gpu-taint-without-effect",                # hosts in k3s_server and gpu: k3s and nvidia both planned
    "k3s-registry-user-unknown",                   # k3s: registry_users of the registry host (hostvars)
    "nvidia-toolkit-debs-dir-missing",             # nvidia validator, a control-node directory
    "platform-release-values-list",                # platform argument spec (entry point validate)
    "platform-secret-database-user-unknown",       # platform: postgresql_users of the postgres host
    "platform-release-tls-cert-without-key",       # platform: a release's tls entry
    "postgresql-package-source-not-a-choice",      # postgresql argument spec
    "postgresql-airgap-needs-pgdg",                # postgresql: OS facts, the role's OS vars files
    "preflight-unknown-os",                        # preflight main.yml, before any role's validation
    "preflight-two-services-one-port",             # preflight validator across the planned roles
    "preflight-credentials-dir-readable-by-others",  # preflight: mode of a control-node directory
    "redis-acl-key-rule-invalid",                  # redis validator
    "registry-bundle-missing",                     # registry validator, bundle.json on the control node
}
RUN = sorted(CASES) if os.environ.get("BAD_INPUT_ALL") == "1" else sorted(WIRING)


def inventory_for(case: dict) -> dict:
    """The YAML inventory (as a dict) of one case: its hosts, their groups and host vars."""
    hosts = case.get("hosts") or DEFAULT_HOSTS
    inv: dict = {"all": {"hosts": {}, "children": {}}}
    for name, spec in hosts.items():
        spec = spec or {}
        inv["all"]["hosts"][name] = dict(spec.get("vars") or {}, ansible_connection="local",
                                         ansible_python_interpreter=sys.executable)
        for group in spec.get("groups") or []:
            inv["all"]["children"].setdefault(group, {"hosts": {}})["hosts"][name] = {}
    return inv


def ansible_env(workdir: Path, facts: Path) -> dict:
    """ansible-playbook's environment: the repository's ansible.cfg, plain default output, a jsonfile
    fact cache in ``facts``."""
    return dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
                ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_CACHE_PLUGIN="ansible.builtin.jsonfile",
                ANSIBLE_CACHE_PLUGIN_CONNECTION=str(facts))


def gather_facts(workdir: Path, hosts: set[str]) -> Path:
    """Gather this host's facts once for every name in ``hosts`` (the real setup module, through
    ansible-playbook) into a jsonfile fact cache under workdir; return the cache directory.

    Raises AssertionError with the output when the gathering fails or leaves no cache entry."""
    workdir.mkdir(parents=True, exist_ok=True)
    facts = workdir / "facts"
    inv = {"all": {"hosts": {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                             for name in sorted(hosts)}}}
    (workdir / "hosts.yml").write_text(yaml.safe_dump(inv), encoding="utf-8")
    (workdir / "gather.yml").write_text(yaml.safe_dump(
        [{"name": "Facts", "hosts": "all", "gather_facts": True, "tasks": []}]), encoding="utf-8")
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(workdir / "gather.yml"), "-i", str(workdir / "hosts.yml")],
        cwd=REPO, env=ansible_env(workdir, facts), capture_output=True, text=True, timeout=600, check=False,
    )
    cached = list(facts.iterdir()) if facts.is_dir() else []
    assert proc.returncode == 0 and len(cached) == len(hosts), (
        f"gathering facts into {facts} failed ({len(cached)} of {len(hosts)} cached):\n{proc.stdout}{proc.stderr}")
    return facts


def run_case(case: dict, workdir: Path, facts: Path) -> dict:
    """Run site.yml for one case in workdir, on a copy of the fact cache ``facts``; return rc, output,
    seconds, credentials dir."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "hosts.yml").write_text(yaml.safe_dump(inventory_for(case)), encoding="utf-8")
    creds = workdir / "credentials"
    extra = {**BASE_VARS, "stack_credentials_dir": str(creds), **(case.get("vars") or {})}
    (workdir / "extra.json").write_text(json.dumps(extra), encoding="utf-8")
    shutil.copytree(facts, workdir / "facts")
    env = ansible_env(workdir, workdir / "facts")
    start = time.monotonic()
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "site.yml", "-i", str(workdir / "hosts.yml"), "-e", f"@{workdir / 'extra.json'}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    return {"rc": proc.returncode, "out": proc.stdout + proc.stderr,
            "seconds": time.monotonic() - start, "creds": creds}


def verdict(case: dict, result: dict) -> list[str]:
    """The reasons a case was not refused before change (empty list: it was)."""
    out = result["out"]
    flat = " ".join(out.split())
    problems = []
    if result["rc"] == 0:
        problems.append("site.yml succeeded")
    problems += [f"{text!r} not in the output" for text in case["expect"] if str(text) not in flat]
    plays = [line for line in out.splitlines() if line.startswith("PLAY [") and not line.startswith(PREFLIGHT_PLAY)]
    if plays:
        problems.append(f"plays after preflight started: {plays}")
    recap = out.split("PLAY RECAP", 1)[1] if "PLAY RECAP" in out else ""
    if re.search(r"changed=[1-9]", recap):
        problems.append("a host was changed")
    if result["creds"].exists() and any(result["creds"].iterdir()):
        problems.append("credentials were written")
    return problems


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    base = tmp_path_factory.mktemp("bad_input")
    start = time.monotonic()
    facts = gather_facts(base / "_facts", {name for cid in RUN for name in inventory_for(CASES[cid])["all"]["hosts"]})
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {cid: pool.submit(run_case, CASES[cid], base / cid, facts) for cid in RUN}
        done = {cid: f.result() for cid, f in futures.items()}
    done["__wall__"] = {"seconds": time.monotonic() - start}
    return done


def test_wiring_cases_cover_every_case_file() -> None:
    assert WIRING <= set(CASES), f"unknown case ids in WIRING: {sorted(WIRING - set(CASES))}"
    files = {case["file"] for case in CASES.values()}
    covered = {CASES[cid]["file"] for cid in WIRING}
    assert files == covered, f"case files without a case in WIRING: {sorted(files - covered)}"


@pytest.mark.parametrize("case_id", RUN)
def test_bad_value_stops_before_any_change(case_id: str, results: dict[str, dict]) -> None:
    case, result = CASES[case_id], results[case_id]
    problems = verdict(case, result)
    assert not problems, f"{case['file']}:{case_id}: {problems}\n{result['out']}"


def test_summary(results: dict[str, dict], capsys: pytest.CaptureFixture) -> None:
    refused = [cid for cid in RUN if not verdict(CASES[cid], results[cid])]
    per_case = [results[cid]["seconds"] for cid in RUN]
    with capsys.disabled():
        print(f"\n{len(RUN)} tried, {len(refused)} refused before change "
              f"(wall {results['__wall__']['seconds']:.0f} s, per case {min(per_case):.1f}-{max(per_case):.1f} s)")
    assert len(CASES) >= 40
    assert len(refused) == len(RUN)

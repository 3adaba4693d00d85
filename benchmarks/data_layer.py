#!/usr/bin/env python3
"""Benchmark of the data layer: first converge, idempotent re-run, apt-get floor.

On fresh Debian 13 systemd containers (image localhost/onprem-debian13-systemd,
built by scripts/build-test-images.sh) it times, in seconds of wall clock:

  floor       a plain ``apt-get update`` + ``apt-get install --no-install-recommends``
              of the packages the postgresql and redis roles install, on one fresh host;
  first       ``ansible-playbook site.yml`` (preflight + PostgreSQL with pgvector +
              Redis) on another fresh host;
  rerun       the same command again on that host (must report changed=0).

and prints the figures and the ratios first/floor (target <= 1.5) and
rerun/first (target <= 0.20). Each connection named with --connection is measured
on its own fresh host: ``ssh`` (how sites run it: OpenSSH with pipelining and
ControlPersist) and ``podman`` (the containers.podman connection the demo and
Molecule use; it has no pipelining, so every task costs extra ``podman exec``
calls). Results also go to benchmarks/results/data_layer-<timestamp>.json.

Needs root (podman with privileged systemd containers) and network access to the
Debian archive. Not a test: it asserts nothing and exits 0 unless a step fails.

Usage: benchmarks/data_layer.py [--connection ssh] [--connection podman] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = "localhost/onprem-debian13-systemd:latest"
# What roles/postgresql (vars/main.yml, Debian 13 -> PostgreSQL 17 from the
# distribution) and roles/redis (tasks/install.yml) install.
PACKAGES = ["postgresql-17", "postgresql-17-pgvector", "postgresql-client-17", "python3-psycopg2",
            "redis-server", "redis-tools"]
TARGET_FIRST_OVER_FLOOR = 1.5
TARGET_RERUN_OVER_FIRST = 0.20
ENV = dict(os.environ, CONTAINERS_CONF=str(REPO / ".config" / "containers.conf"),
           ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
BIN = Path(sys.executable).parent


def sh(argv, **kw):
    """Run argv (list of str); raise RuntimeError naming the command and its stderr on failure."""
    res = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=False, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {res.returncode}:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res.stdout


def start_host(name):
    """Start a fresh privileged systemd container `name`; wait until systemd is up (<= 60 s)."""
    subprocess.run(["podman", "rm", "-f", name], env=ENV, capture_output=True, check=False)
    sh(["podman", "run", "-d", "--name", name, "--hostname", name, "--systemd=always", "--privileged", IMAGE])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = subprocess.run(["podman", "exec", name, "systemctl", "is-system-running"], env=ENV,
                             capture_output=True, text=True, check=False)
        if res.stdout.strip() in ("running", "degraded"):
            return sh(["podman", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                       name]).strip()
        time.sleep(0.3)
    raise RuntimeError(f"container {name}: systemd did not come up within 60 s")


def floor(keep):
    """Seconds for apt-get update + install of PACKAGES on a fresh host."""
    name = "onprem-bench-floor"
    start_host(name)
    try:
        t0 = time.monotonic()
        sh(["podman", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c",
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends " + " ".join(PACKAGES)])
        return time.monotonic() - t0
    finally:
        if not keep:
            subprocess.run(["podman", "rm", "-f", name], env=ENV, capture_output=True, check=False)


def _inventory(work, name, ip, connection):
    if connection == "ssh":
        key = work / "id_ed25519"
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
        sh(["podman", "exec", "-i", name, "sh", "-c",
            "install -d -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys"],
           input=(work / "id_ed25519.pub").read_text())
        host = {"ansible_host": ip, "ansible_user": "root", "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                           "-o ControlMaster=auto -o ControlPersist=120s"}
    else:
        host = {"ansible_connection": "containers.podman.podman"}
    host["ansible_python_interpreter"] = "/usr/bin/python3"
    inv = {
        "all": {
            "hosts": {name: host},
            "vars": {
                "stack_credentials_dir": str(work / "credentials"),
                "preflight_requirements": {"postgres": {"cpus": 1, "memory_mb": 1000, "disk_gb": 2},
                                           "redis": {"cpus": 1, "memory_mb": 256, "disk_gb": 1}},
                "postgresql_client_cidrs": ["10.88.0.0/16"],
                "postgresql_memory_mb": 1024,
                "postgresql_users": [{"name": "app"}],
                "postgresql_databases": [{"name": "appdb", "owner": "app", "extensions": ["vector"]}],
                "redis_maxmemory": "256mb",
                "redis_persistence": ["rdb", "aof"],
            },
            "children": {"postgres": {"hosts": {name: {}}}, "redis": {"hosts": {name: {}}}},
        }
    }
    path = work / "hosts.yml"
    path.write_text(json.dumps(inv))
    return path


def _playbook(inventory):
    t0 = time.monotonic()
    out = sh([str(BIN / "ansible-playbook"), "site.yml", "-i", str(inventory)], cwd=REPO)
    seconds = time.monotonic() - t0
    recap = re.findall(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out)
    if not recap:
        raise RuntimeError("no PLAY RECAP in ansible-playbook output:\n" + out[-3000:])
    ok, changed = [int(n) for n in recap[-1][:2]]
    return seconds, ok, changed


def converge(connection, keep):
    """Return (first_seconds, first_changed, rerun_seconds, rerun_changed, tasks) for one connection."""
    name = f"onprem-bench-{connection}"
    ip = start_host(name)
    work = Path(tempfile.mkdtemp(prefix="onprem-bench-"))
    try:
        inventory = _inventory(work, name, ip, connection)
        first, first_changed = _playbook(inventory)[0::2]
        rerun, tasks, rerun_changed = _playbook(inventory)
        return first, first_changed, rerun, rerun_changed, tasks
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not keep:
            subprocess.run(["podman", "rm", "-f", name], env=ENV, capture_output=True, check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--connection", action="append", choices=["ssh", "podman"],
                    help="connection(s) to measure (default: ssh and podman)")
    ap.add_argument("--keep", action="store_true", help="leave the containers running")
    args = ap.parse_args()
    connections = args.connection or ["ssh", "podman"]

    floor_s = floor(args.keep)
    print(f"apt-get floor ({len(PACKAGES)} packages + dependencies): {floor_s:7.1f} s")
    results = {"floor_s": round(floor_s, 1), "packages": PACKAGES, "image": IMAGE, "runs": {}}
    for conn in connections:
        first, first_changed, rerun, rerun_changed, tasks = converge(conn, args.keep)
        r1, r2 = first / floor_s, rerun / first
        results["runs"][conn] = {"first_s": round(first, 1), "first_changed": first_changed,
                                 "rerun_s": round(rerun, 1), "rerun_changed": rerun_changed,
                                 "rerun_tasks_ok": tasks, "first_over_floor": round(r1, 2),
                                 "rerun_over_first": round(r2, 2)}
        print(f"[{conn}] first converge (site.yml): {first:7.1f} s  changed={first_changed}")
        print(f"[{conn}] idempotent re-run:         {rerun:7.1f} s  changed={rerun_changed} ({tasks} tasks ok)")
        print(f"[{conn}] first / floor = {r1:.2f} (target <= {TARGET_FIRST_OVER_FLOOR}: "
              f"{'met' if r1 <= TARGET_FIRST_OVER_FLOOR else 'NOT met'})")
        print(f"[{conn}] re-run / first = {r2:.2f} (target <= {TARGET_RERUN_OVER_FIRST}: "
              f"{'met' if r2 <= TARGET_RERUN_OVER_FIRST and rerun_changed == 0 else 'NOT met'})")
    out_dir = REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / time.strftime("data_layer-%Y%m%dT%H%M%S.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out.relative_to(REPO)}")


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)

#!/usr/bin/env python3
"""Benchmark of onprem.stack.helm_release: a no-op run over 10 releases.

Runs one ``ansible-playbook`` whose task loops onprem.stack.helm_release over 10
releases of examples/charts/onprem-demo (packaged once as a .tgz, as the air-gap
bundle carries charts) that are already deployed with the same chart and values, and
reports, per helm major (helm v3.10.1 .venv/bin/helm, helm v4.1.4 .venv/bin/helm4):

  wall        seconds of the whole ansible-playbook run;
  per release helm invocations (from each result's ``commands``) and their verbs;
  changed     releases reported changed (must be 0).

Target: at most 3 helm invocations per unchanged release.

Where the releases live (printed as "mode"):

- ``cluster``: KUBECONFIG names a cluster answering ``kubectl version``; the 10
  releases are installed first (not timed) in a fresh namespace, removed afterwards.
- ``recorded``: otherwise. helm keeps the releases in its memory storage driver
  (HELM_DRIVER=memory, HELM_MEMORY_DRIVER_DATA), recorded as helm_release would have
  left them (the rendered manifest, the values, the chart record in the description),
  and the kubeconfig names a local server answering only GET /version (see
  tests/functional/test_helm_release.py). Every helm command is the real binary; the
  time a real API server takes to answer is not included.

Not a test: it asserts nothing and exits 0 unless a step fails.
Usage: .venv/bin/python benchmarks/helm_release.py [--releases N] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "functional"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "collections"))

from test_helm_release import NS, VersionServer, record  # noqa: E402

from ansible_collections.onprem.stack.plugins.module_utils._chart import read_chart_tgz  # noqa: E402
from ansible_collections.onprem.stack.plugins.module_utils._release import marker  # noqa: E402

BIN = Path(sys.executable).parent
CHART = REPO / "examples" / "charts" / "onprem-demo"
MAJORS = (("helm3", BIN / "helm"), ("helm4", BIN / "helm4"))


def cluster_reachable():
    kubectl = BIN / "kubectl"
    if not os.environ.get("KUBECONFIG") or not kubectl.exists():
        return False
    return subprocess.run([str(kubectl), "version", "--request-timeout=10s"], capture_output=True,
                          check=False).returncode == 0


def values_of(i):
    return {"ingress": {"host": "demo%d.bench.internal" % i}, "replicaCount": 1}


def playbook(work, helm, tgz, namespace, releases, kubeconfig, env):
    """Write and run the playbook; return (wall seconds, per-release results)."""
    items = [{"name": "demo%d" % i, "vals": values_of(i)} for i in range(releases)]
    (work / "play.yml").write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False, "tasks": [{
            "name": "Releases", "loop": items,
            "onprem.stack.helm_release": {
                "name": "{{ item.name }}", "namespace": namespace, "chart": str(tgz), "values": "{{ item.vals }}",
                "helm_binary": str(helm), "kubeconfig": kubeconfig, "create_namespace": True, "timeout": 300}}]}]))
    run_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"), ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", **env)
    start = time.monotonic()
    p = subprocess.run([str(BIN / "ansible-playbook"), str(work / "play.yml")], env=run_env, capture_output=True,
                       text=True, check=False)
    wall = time.monotonic() - start
    if p.returncode != 0:
        sys.exit("ansible-playbook failed:\n%s\n%s" % (p.stdout[-4000:], p.stderr[-4000:]))
    res = json.loads(p.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["results"]
    return wall, res


def run_major(label, helm, releases, mode):
    with tempfile.TemporaryDirectory(prefix="bench-helm-") as tmp:
        work = Path(tmp)
        subprocess.run([str(helm), "package", str(CHART), "-d", str(work)], check=True, capture_output=True)
        tgz = work / "onprem-demo-0.1.0.tgz"
        env = {"HELM_CACHE_HOME": str(work / "cache"), "HELM_CONFIG_HOME": str(work / "config"),
               "HELM_DATA_HOME": str(work / "data")}
        server = None
        if mode == "cluster":
            namespace = "onprem-bench-" + uuid.uuid4().hex[:6]
            kubeconfig = os.environ["KUBECONFIG"]
            playbook(work, helm, tgz, namespace, releases, kubeconfig, env)  # install, not timed
        else:
            namespace, server = NS, VersionServer()
            kubeconfig = str(work / "kubeconfig")
            Path(kubeconfig).write_text(json.dumps({
                "apiVersion": "v1", "kind": "Config", "current-context": "b",
                "clusters": [{"name": "b", "cluster": {"server": server.url}}],
                "contexts": [{"name": "b", "context": {"cluster": "b", "user": "u"}}], "users": [{"name": "u"}]}))
            os.chmod(kubeconfig, 0o600)
            desc = marker(read_chart_tgz(str(tgz)))
            recs = []
            for i in range(releases):
                manifest = subprocess.run(
                    [str(helm), "template", "demo%d" % i, str(tgz), "--namespace", NS, "--no-hooks", "--values",
                     "/dev/stdin"], input=json.dumps(values_of(i)), capture_output=True, text=True, check=True).stdout
                rec = record(1, "deployed", values_of(i), manifest, desc)
                rec["name"] = "demo%d" % i
                recs.append(rec)
            (work / "releases.json").write_text(json.dumps(recs))  # JSON is YAML
            env.update(HELM_DRIVER="memory", HELM_MEMORY_DRIVER_DATA=str(work / "releases.json"))
        try:
            wall, results = playbook(work, helm, tgz, namespace, releases, kubeconfig, env)
        finally:
            if server:
                server.close()
            if mode == "cluster":
                for i in range(releases):
                    subprocess.run([str(helm), "uninstall", "demo%d" % i, "-n", namespace], capture_output=True,
                                   check=False)
                subprocess.run([str(BIN / "kubectl"), "delete", "namespace", namespace, "--wait=false"],
                               capture_output=True, check=False)
    calls = [len(r["commands"]) for r in results]
    return {"major": label, "mode": mode, "releases": releases, "wall_s": round(wall, 2),
            "per_release_s": round(wall / releases, 3), "helm_invocations": sum(calls),
            "max_per_release": max(calls), "verbs": [c[1] for c in results[0]["commands"]],
            "changed": sum(1 for r in results if r.get("changed"))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--json", help="also write the figures to this file")
    opts = ap.parse_args()
    mode = "cluster" if cluster_reachable() else "recorded"
    print("mode: %s (%s)" % (mode, "KUBECONFIG=%s" % os.environ["KUBECONFIG"] if mode == "cluster" else
                             "no reachable cluster: releases in helm's memory driver"))
    figures = []
    for label, helm in MAJORS:
        if not helm.exists():
            print("%s: %s not installed (scripts/install-helm.sh), skipped" % (label, helm))
            continue
        f = run_major(label, helm, opts.releases, mode)
        figures.append(f)
        verdict = "ok" if f["max_per_release"] <= 3 else "OVER TARGET"
        print("%s: no-op run over %d releases: %.2f s wall (%.3f s per release), %d helm invocations, at most %d "
              "per release (%s), target <= 3: %s; changed: %d"
              % (label, f["releases"], f["wall_s"], f["per_release_s"], f["helm_invocations"], f["max_per_release"],
                 " + ".join(f["verbs"]), verdict, f["changed"]))
    if opts.json:
        Path(opts.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

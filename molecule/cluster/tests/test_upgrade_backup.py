"""The platform role's upgrade workflow on the real cluster: when the demo release's chart
version changes (0.1.0 -> 0.1.1, a copy of examples/charts/onprem-demo), playbooks/platform.yml
first dumps the database the release names (appdb) with the PostgreSQL role's backup unit,
then upgrades the release, which comes back with its pod Ready. Runs last: it leaves the
release at 0.1.1.
"""
import json
import os
import pathlib
import shutil
import time

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s_server")

KUBECTL = "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml"
PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."))
EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."))


def _dumps(host):
    out = host.run("find /var/backups/postgresql/appdb -name 'appdb-*.dump' -printf '%T@ %p\\n'")
    return sorted(out.stdout.split("\n")) if out.rc == 0 else []


def test_chart_version_change_dumps_the_database_first_then_upgrades(host):
    chart = EPHEMERAL / "onprem-demo-0.1.1"
    shutil.rmtree(chart, ignore_errors=True)
    shutil.copytree(PROJECT / "examples" / "charts" / "onprem-demo", chart)
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text().replace("version: 0.1.0", "version: 0.1.1"))
    releases = onprem_verify.hostvars("cluster-s1")["platform_releases"]
    releases = [dict(r, chart=str(chart)) if r["name"] == "demo" else r for r in releases]
    extra = EPHEMERAL / "upgrade-vars.json"
    extra.write_text(json.dumps({"platform_releases": releases}))
    before = _dumps(host)
    start = float(host.check_output("date +%s"))
    run = onprem_verify.ansible_playbook(str(PROJECT / "playbooks" / "platform.yml"), "-e", "@%s" % extra)
    assert run.returncode == 0, run.stdout[-6000:]
    assert "Backup | onprem-postgresql-backup.service" in run.stdout
    new = [d for d in _dumps(host) if d not in before]
    assert new and all(float(d.split()[0]) >= start for d in new), (before, new)
    status = json.loads(host.check_output("helm status demo -n demo --kubeconfig /etc/rancher/k3s/k3s.yaml -o json"))
    assert status["info"]["status"] == "deployed" and status["version"] >= 2
    history = json.loads(host.check_output("helm history demo -n demo --kubeconfig /etc/rancher/k3s/k3s.yaml -o json"))
    assert history[-1]["chart"] == "onprem-demo-0.1.1"
    for _attempt in range(60):
        dep = json.loads(host.check_output("%s get deployment -n demo demo-onprem-demo -o json" % KUBECTL))
        if dep["status"].get("readyReplicas") == 1:
            break
        time.sleep(2)
    assert dep["status"].get("readyReplicas") == 1, dep["status"]

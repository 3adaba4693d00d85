"""The platform role's release flow (tasks/releases.yml, release.yml, backup.yml) on this host.

There is no Kubernetes API here, so the two modules that talk to one,
onprem.stack.helm_release and helm_release_info (tested themselves in
test_helm_release*.py), are replaced in a copy of the collection by stand-ins that keep
the "cluster" in a JSON file: the release name, the chart (name-version read from the
staged chart, as helm would, and the chart's files) and the parameters they were given. Everything else is the
real role run by the real playbooks/platform.yml (``--tags platform_service``, the
release step): the NVIDIA device plugin from the real onprem.stack.nvidia entry point
first, staging of chart directories (as one archive built on the control node, see
onprem.stack.chart_stage), .tgz archives and values files on the server,
chart versions, the dump before an upgrade (``systemctl`` is a stand-in on
PATH that writes a dump, as onprem-postgresql-backup.service does), and a rerun that
changes nothing.

The first install (charts/app-1.0.0.tgz), which most tests start from, runs once per
module (fixture ``installed``); what it left (cluster.json, the staged files, credentials,
dumps) is kept in a snapshot and put back in place, at the same paths, before each test.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The device plugin chart version the nvidia role pins: its release is checked against Chart.yaml.
PLUGIN_VERSION = yaml.safe_load((REPO / "roles" / "nvidia" / "defaults" / "main.yml").read_text())[
    "nvidia_device_plugin_version"]

INFO = '''#!/usr/bin/python
import json, os
from ansible.module_utils.basic import AnsibleModule
m = AnsibleModule(argument_spec=dict(name=dict(required=True), namespace=dict(required=True),
                  kubeconfig=dict(type="path"), helm_binary=dict(type="path"), context=dict()), supports_check_mode=True)
state = os.environ["FAKE_CLUSTER"]
rel = (json.load(open(state)) if os.path.exists(state) else {}).get(m.params["namespace"] + "/" + m.params["name"])
m.exit_json(changed=False, exists=bool(rel), chart=(rel or {}).get("chart", ""), status="deployed" if rel else "",
            values=(rel or {}).get("values", {}))
'''

RELEASE = '''#!/usr/bin/python
import json, os, subprocess, yaml
from ansible.module_utils.basic import AnsibleModule
spec = dict(name=dict(required=True), namespace=dict(required=True), chart=dict(required=True), version=dict(),
            state=dict(default="present"), values=dict(type="dict", no_log=True), values_files=dict(type="list", elements="path"),
            set_values=dict(type="list", elements="dict"), create_namespace=dict(type="bool"), wait=dict(type="bool"),
            timeout=dict(type="int"), atomic=dict(type="bool"), recover_pending=dict(type="bool"), crds=dict(),
            kubeconfig=dict(type="path"), helm_binary=dict(type="path"), context=dict(), ca_file=dict(type="path"),
            username=dict(), password=dict(no_log=True), secret_values_files=dict(type="list", elements="path"),
            allow_chart_default_secrets=dict(type="list", elements="str"))
m = AnsibleModule(argument_spec=spec, supports_check_mode=True)
p = m.params
chart = p["chart"]
if os.path.isdir(chart):
    meta = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))
    files = sorted(os.path.relpath(os.path.join(d, f), chart) for d, _, fs in os.walk(chart) for f in fs)
else:
    meta = yaml.safe_load(subprocess.run(["tar", "-xzOf", chart, "--wildcards", "--no-wildcards-match-slash", "*/Chart.yaml"],
                                         capture_output=True, text=True, check=True).stdout)
    files = sorted(n.split("/", 1)[1] for n in subprocess.run(["tar", "-tzf", chart], capture_output=True, text=True,
                                                              check=True).stdout.split() if not n.endswith("/"))
state = os.environ["FAKE_CLUSTER"]
cluster = json.load(open(state)) if os.path.exists(state) else {}
key = p["namespace"] + "/" + p["name"]
want = {"chart": "%s-%s" % (meta["name"], meta["version"]), "staged": chart, "files": files, "values": p["values"],
        "values_files": [open(f).read() for f in (p["values_files"] or [])], "order": cluster.get(key, {}).get("order"),
        "wait": p["wait"], "atomic": p["atomic"], "timeout": p["timeout"],
        "waived": p["allow_chart_default_secrets"],
        "secret_values": [{"values": json.load(open(f)), "mode": oct(os.stat(f).st_mode & 0o777),
                           "dir_mode": oct(os.stat(os.path.dirname(f)).st_mode & 0o777), "path": f}
                          for f in p["secret_values_files"]]}
if want["order"] is None:
    want["order"] = len(cluster)
def same(rel):  # the secret values file's path is new on every run
    return rel and dict(rel, secret_values=[dict(x, path=None) for x in rel.get("secret_values", [])])
changed = same(cluster.get(key)) != same(want)
if changed and not m.check_mode:
    cluster[key] = want
    json.dump(cluster, open(state, "w"))
m.exit_json(changed=changed, name=p["name"], namespace=p["namespace"], revision=1, status="deployed", chart=want["chart"],
            app_version="", changed_reasons=["stand-in: differs"] if changed else [], commands=[])
'''

# onprem-postgresql-backup.service, as far as the role sees it: `systemctl start` returns
# when the dump of every managed database is written (or fails).
SYSTEMCTL = '''#!/bin/sh
[ "$1 $2" = "start onprem-postgresql-backup.service" ] || exit 2
[ -n "$FAKE_BACKUP_FAIL" ] && exit 1
for db in appdb; do mkdir -p "$FAKE_BACKUP_DIR/$db"; date > "$FAKE_BACKUP_DIR/$db/$db-$(date -u +%Y%m%dT%H%M%S.%N).dump"; done
echo start >> "$FAKE_BACKUP_DIR/calls"
'''


def _tgz(path: Path, name: str, version: str) -> None:
    src = path.parent / f".src-{name}"
    (src / name).mkdir(parents=True, exist_ok=True)
    (src / name / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}))
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / name, arcname=name)


def _make_site(tmp_path: Path) -> dict:
    """The collection copy with the stand-ins, the fake systemctl, the inventory and its charts under tmp_path."""
    coll = tmp_path / "coll" / "ansible_collections" / "onprem" / "stack"
    coll.mkdir(parents=True)
    for part in ("galaxy.yml", "meta", "roles", "plugins"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy)(REPO / part, coll / part)
    (coll / "plugins" / "modules" / "helm_release_info.py").write_text(INFO)
    (coll / "plugins" / "modules" / "helm_release.py").write_text(RELEASE)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "systemctl").write_text(SYSTEMCTL)
    (fake_bin / "systemctl").chmod(0o755)
    inventory = tmp_path / "inventory"
    (inventory / "values").mkdir(parents=True)
    (inventory / "values" / "one.yml").write_text("a: 1\n")
    (inventory / "values" / "two.yml").write_text("b: 2\n")
    (inventory / "charts").mkdir()
    _tgz(inventory / "charts" / f"nvidia-device-plugin-{PLUGIN_VERSION}.tgz", "nvidia-device-plugin", PLUGIN_VERSION)
    _tgz(inventory / "charts" / "app-1.0.0.tgz", "app", "1.0.0")
    _tgz(inventory / "charts" / "app-1.1.0.tgz", "app", "1.1.0")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"k3s-1": dict(local), "db-1": dict(local, postgresql_backup_dir=str(tmp_path / "backups"),
                                                     postgresql_users=[{"name": "app"}],
                                                     postgresql_databases=[{"name": "appdb", "owner": "app"}])},
        "children": {"k3s_server": {"hosts": {"k3s-1": {}}}, "gpu": {"hosts": {"k3s-1": {}}},
                     "postgres": {"hosts": {"db-1": {}}}}}}))
    return {"tmp": tmp_path, "inventory": inventory, "cluster": tmp_path / "cluster.json", "work": tmp_path / "work",
            "backups": tmp_path / "backups",
            "env": dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "coll"), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                        ANSIBLE_NOCOLOR="1", FAKE_CLUSTER=str(tmp_path / "cluster.json"),
                        FAKE_BACKUP_DIR=str(tmp_path / "backups"), PATH=f"{fake_bin}:{os.environ['PATH']}")}


# What a run changes: the "cluster", the staged files on the "server", the credentials on
# the control node and the dumps. The rest of a site (collection, inventory, charts) no run touches.
STATE = ("cluster.json", "work", "credentials", "backups")


def _put_state(source: Path | None, dest: Path) -> None:
    """Replace the state under dest by a copy of the state under source (None: no state at all)."""
    for name in STATE:
        path = dest / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        if source is not None and (source / name).exists():
            # copy2/copytree keep modes and times: the copy is the state as the run left it.
            (shutil.copytree if (source / name).is_dir() else shutil.copy2)(source / name, path)


@pytest.fixture(scope="module")
def module_site(tmp_path_factory):
    """One site for the module's tests."""
    return _make_site(tmp_path_factory.mktemp("releases"))


@pytest.fixture(scope="module")
def installed(module_site):
    """The first install on the module's site (charts/app-1.0.0.tgz), run once, and a snapshot
    of the state it left; (site, snapshot)."""
    site = module_site
    _put_state(None, site["tmp"])  # a test that starts from nothing may have run before
    _run(site, _releases("charts/app-1.0.0.tgz"))
    snapshot = site["tmp"] / "snapshot-installed"
    snapshot.mkdir()
    _put_state(site["tmp"], snapshot)
    return site, snapshot


@pytest.fixture
def site(installed):
    """The module's site as the first install left it (the snapshot restored in place)."""
    site, snapshot = installed
    _put_state(snapshot, site["tmp"])
    return site


@pytest.fixture
def empty_site(module_site):
    """The module's site before any run: no cluster, staged files, credentials or dumps."""
    _put_state(None, module_site["tmp"])
    return module_site


def _releases(app_chart: str) -> list:
    return [
        {"name": "demo", "namespace": "demo", "chart": str(REPO / "examples" / "charts" / "onprem-demo"),
         "values": {"ingress": {"host": "demo.example.internal"}}, "values_files": ["values/one.yml", "values/two.yml"]},
        {"name": "app", "namespace": "app", "chart": app_chart, "databases": ["appdb"], "timeout": 120},
    ]


def _run(site: dict, releases: list, *args: str, env: dict | None = None, ok: bool = True):
    variables = {"stack_credentials_dir": str(site["tmp"] / "credentials"), "ansible_become": False,
                 "platform_work_dir": str(site["work"]), "platform_releases": releases,
                 "nvidia_device_plugin_chart": f"charts/nvidia-device-plugin-{PLUGIN_VERSION}.tgz"}
    (site["tmp"] / "vars.json").write_text(json.dumps(variables))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(site["inventory"] / "hosts.yml"),
                           "playbooks/platform.yml", "-e", f"@{site['tmp'] / 'vars.json'}", "--tags", "platform_service",
                           *args], cwd=REPO, env=env or site["env"], capture_output=True, text=True, timeout=600,
                          check=False)
    assert (proc.returncode == 0) == ok, proc.stdout[-6000:] + proc.stderr[-2000:]
    return proc


def _cluster(site: dict) -> dict:
    return json.loads(site["cluster"].read_text()) if site["cluster"].exists() else {}


def _changed(proc) -> int:
    line = [x for x in proc.stdout.split("PLAY RECAP", 1)[1].splitlines() if x.startswith("k3s-1")][0]
    return int(line.split("changed=")[1].split()[0])


def test_releases_in_order_device_plugin_first_and_rerun_unchanged(site):
    """The first install (fixture `installed`, its state restored): device plugin, demo, app in
    order with their charts, values, values files and defaults; charts and values staged
    privately; no dump. A rerun of the same input changes nothing."""
    cluster = _cluster(site)
    order = sorted(cluster, key=lambda k: cluster[k]["order"])
    assert order == ["nvidia-device-plugin/nvidia-device-plugin", "demo/demo", "app/app"]
    plugin = cluster["nvidia-device-plugin/nvidia-device-plugin"]
    assert plugin["chart"] == f"nvidia-device-plugin-{PLUGIN_VERSION}"
    assert plugin["values"]["nodeSelector"] == {"node-type": "gpu"}
    demo = cluster["demo/demo"]
    assert demo["chart"] == "onprem-demo-0.1.0" and demo["values"] == {"ingress": {"host": "demo.example.internal"}}
    assert demo["values_files"] == ["a: 1\n", "b: 2\n"], "values files in order"
    assert demo["wait"] is True and demo["atomic"] is True and demo["timeout"] == 600, "release defaults"
    assert cluster["app/app"]["timeout"] == 120
    # Staged on the "server": the chart directory and the .tgz chart as archives, and the values
    # files, all 0600 in private directories; helm got the archive of the directory, every file.
    for staged_chart in (site["work"] / "charts" / "demo" / "demo.tgz", site["work"] / "charts" / "app" / "app.tgz"):
        assert oct(staged_chart.stat().st_mode & 0o777) == "0o600", staged_chart
    assert not (site["work"] / "charts" / "demo" / "demo").exists(), "no chart directory staged"
    assert demo["staged"] == str(site["work"] / "charts" / "demo" / "demo.tgz")
    example = REPO / "examples" / "charts" / "onprem-demo"
    assert demo["files"] == sorted(str(p.relative_to(example)) for p in example.rglob("*") if p.is_file())
    staged = site["work"] / "values" / "demo" / "demo"
    assert sorted(p.name for p in staged.iterdir()) == ["0.yml", "1.yml"]
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in staged.iterdir())
    assert oct((site["work"] / "charts").stat().st_mode & 0o777) == "0o700"
    assert not site["backups"].exists(), "a first install needs no dump"
    again = _run(site, _releases("charts/app-1.0.0.tgz"))
    assert _changed(again) == 0, again.stdout[-3000:]


def _members(archive: Path) -> list:
    with tarfile.open(archive) as tar:
        return sorted(m.name.split("/", 1)[1] for m in tar.getmembers())


def test_stale_staged_files_are_removed(site):
    """A site staged by a release of the role before chart archives (a chart directory staged
    file by file, with a file no longer in the chart): the archive replaces the directory, which
    is removed, and helm gets the chart as it is. A file added to the chart directory reaches
    helm; removed again, it is gone from the staged archive and from what helm gets. A values
    file no longer listed is removed from the stage; helm_release gets the remaining one."""
    charts = site["work"] / "charts" / "demo"
    (charts / "demo.tgz").unlink()
    (charts / "demo" / "templates").mkdir(parents=True)
    (charts / "demo" / "Chart.yaml").write_text("apiVersion: v2\nname: onprem-demo\nversion: 0.1.0\n")
    (charts / "demo" / "templates" / "stale.yaml").write_text("kind: Stale\n")
    releases = _releases("charts/app-1.0.0.tgz")
    releases[0]["values_files"] = ["values/two.yml"]
    first = _run(site, releases, "--diff")
    assert not (charts / "demo").exists(), "the earlier chart directory is removed"
    assert "chart directory of an earlier staging removed - demo" in first.stdout
    example = REPO / "examples" / "charts" / "onprem-demo"
    assert _members(charts / "demo.tgz") == _cluster(site)["demo/demo"]["files"]
    assert "templates/stale.yaml" not in _cluster(site)["demo/demo"]["files"]
    assert sorted(p.name for p in (site["work"] / "values" / "demo" / "demo").iterdir()) == ["0.yml"]
    assert _cluster(site)["demo/demo"]["values_files"] == ["b: 2\n"]
    # A chart directory that changes: a file added reaches helm, removed again it is gone.
    chart = site["tmp"] / "demo-chart"
    shutil.rmtree(chart, ignore_errors=True)
    shutil.copytree(example, chart)
    (chart / "templates" / "extra.yaml").write_text("kind: Extra\n")
    releases[0]["chart"] = str(chart)
    _run(site, releases)
    assert "templates/extra.yaml" in _members(charts / "demo.tgz")
    assert "templates/extra.yaml" in _cluster(site)["demo/demo"]["files"]
    (chart / "templates" / "extra.yaml").unlink()
    _run(site, releases)
    assert "templates/extra.yaml" not in _members(charts / "demo.tgz")
    assert _cluster(site)["demo/demo"]["files"] == _members(charts / "demo.tgz")
    again = _run(site, releases)
    assert _changed(again) == 0, again.stdout[-3000:]


def test_chart_version_change_dumps_the_databases_first(site):
    """From app 1.0.0 to 1.1.0: a dry run reports the upgrade and neither dumps nor upgrades;
    the real run dumps the release's database once, then upgrades; the same version again
    dumps nothing."""
    # A dry run reports the upgrade and neither dumps nor upgrades.
    check = _run(site, _releases("charts/app-1.1.0.tgz"), "--check")
    assert "installed or upgraded - app" in check.stdout
    assert not site["backups"].exists() and _cluster(site)["app/app"]["chart"] == "app-1.0.0"
    _run(site, _releases("charts/app-1.1.0.tgz"))
    assert (site["backups"] / "calls").read_text() == "start\n"
    assert list((site["backups"] / "appdb").glob("appdb-*.dump"))
    assert _cluster(site)["app/app"]["chart"] == "app-1.1.0"
    # Same version again: no dump.
    _run(site, _releases("charts/app-1.1.0.tgz"))
    assert (site["backups"] / "calls").read_text() == "start\n"


def test_values_change_with_the_same_chart_version_dumps_first(site):
    """New image tags in the values, chart still app-1.0.0 (Aileron's chart keeps 0.1.0 across
    commits): the real run dumps the database, then upgrades; the rerun neither dumps nor changes."""
    releases = _releases("charts/app-1.0.0.tgz")
    releases[1]["values"] = {"image": {"tag": "v2"}}
    _run(site, releases)
    assert (site["backups"] / "calls").read_text() == "start\n"
    assert _cluster(site)["app/app"]["chart"] == "app-1.0.0"
    assert _cluster(site)["app/app"]["values"] == {"image": {"tag": "v2"}}
    again = _run(site, releases)
    assert (site["backups"] / "calls").read_text() == "start\n"
    assert _changed(again) == 0, again.stdout[-3000:]


def test_failed_dump_stops_the_upgrade(site):
    """A failing onprem-postgresql-backup.service fails the run, names the unit and leaves app at 1.0.0."""
    proc = _run(site, _releases("charts/app-1.1.0.tgz"), env=dict(site["env"], FAKE_BACKUP_FAIL="1"), ok=False)
    assert "onprem-postgresql-backup.service" in proc.stdout
    assert _cluster(site)["app/app"]["chart"] == "app-1.0.0", "upgraded although the dump failed"


def test_backup_off(site):
    """platform_backup_before_upgrade: false upgrades app to 1.1.0 without a dump."""
    _run(site, _releases("charts/app-1.1.0.tgz"), "-e", json.dumps({"platform_backup_before_upgrade": False}))
    assert not site["backups"].exists()
    assert _cluster(site)["app/app"]["chart"] == "app-1.1.0"


def test_values_from_credentials_reach_helm_release_only_in_a_removed_0600_file(empty_site):
    """A release whose values reference a generated credential and a database URL with
    query parameters: helm_release gets the plain values in `values` and the resolved
    ones in one secret values file (0600, in a 0700 directory) that is gone after the
    run; the credential appears nowhere in the output of a -vvv run; the waiver passes
    through; a rerun changes nothing. Starts from a site without any state."""
    site = empty_site
    releases = [{"name": "kc", "namespace": "auth", "chart": "charts/app-1.0.0.tgz",
                 "allow_chart_default_secrets": ["metrics.token"],
                 "values": {"replicas": 1, "auth": {"adminPassword": {"from": {"credential": "site/platform/kc-admin"}}},
                            "config": {"database": {"url": {"from": {"database_url": {
                                "database": "appdb", "user": "app", "sslmode": "verify-full",
                                "sslrootcert": "/etc/ssl/site/ca.crt"}}}}}}}]
    proc = _run(site, releases, "-vvv")
    admin = (site["tmp"] / "credentials" / "site" / "platform" / "kc-admin").read_text().strip()
    db_password = (site["tmp"] / "credentials" / "db-1" / "postgresql" / "app").read_text().strip()
    assert len(admin) == 32 and len(db_password) >= 16
    for secret in (admin, db_password):
        assert secret not in proc.stdout and secret not in proc.stderr
    rel = _cluster(site)["auth/kc"]
    assert rel["values"] == {"replicas": 1, "auth": {}, "config": {"database": {}}}, "no reference, no value in values"
    assert rel["waived"] == ["metrics.token"]
    [secret] = rel["secret_values"]
    assert (secret["mode"], secret["dir_mode"]) == ("0o600", "0o700")
    assert secret["values"] == {"auth": {"adminPassword": admin}, "config": {"database": {"url": (
        "postgresql://app:%s@db-1:5432/appdb?sslmode=verify-full&sslrootcert=%%2Fetc%%2Fssl%%2Fsite%%2Fca.crt"
        % db_password)}}}
    assert not Path(secret["path"]).exists() and not Path(secret["path"]).parent.exists(), "removed after the run"
    assert [p.name for p in (site["work"] / "values").iterdir() if p.name.startswith("secret-")] == []
    again = _run(site, releases)
    assert _changed(again) == 0, again.stdout[-3000:]

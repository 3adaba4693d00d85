"""onprem.stack.helm_release through main(), with its real argument spec, under helm 3
and helm 4: the decision table (what is compared, when it upgrades, pending recovery,
failures) and what the module returns.

helm cannot run here (tests/unit starts no program): AnsibleModule.run_command is
replaced by FakeHelm, which answers helm command lines with the outputs recorded from
the real helm binaries in tests/unit/data/helm (see its README.md for the command and
helm's source file defining each format), changing only the fields a scenario is
about. The same decisions run against the real binaries in
tests/functional/test_helm_release.py.
"""
import copy
import datetime
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils import _release, _release_run
from ansible_collections.onprem.stack.plugins.module_utils._chart import read_chart_dir
from ansible_collections.onprem.stack.plugins.module_utils._release_run import NO_LOG_PLACEHOLDER
from ansible_collections.onprem.stack.plugins.modules import helm_release

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "unit" / "data" / "helm"
CHART = REPO / "examples" / "charts" / "onprem-demo"
DEFAULT = (DATA / "template-default.txt").read_text()
TAG_110 = (DATA / "template-tag-1.1.0.txt").read_text()
VERSIONS = {3: "v3.10.1", 4: "v4.1.4"}
PENDING_AGE = 3600  # seconds; older than the default timeout (300)
# The module's clock in every test (the autouse fixture frozen_clock): a revision written seconds_ago before NOW
# is exactly that old to the module, however long the test takes on a loaded host.
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _stamp(seconds_ago):
    t = NOW - datetime.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")  # nanoseconds, as Go prints them


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Stop the module's clock (module_utils._release.utc_now, also imported by _release_run) at NOW."""
    monkeypatch.setattr(_release, "utc_now", lambda: NOW)
    monkeypatch.setattr(_release_run, "utc_now", lambda: NOW)


class FakeHelm:
    """Answers helm argv like helm does, from recorded outputs.

    ``revisions``: the release's revisions (dicts in `helm status -o json` format, as
    recorded for ``major``); status prints the last, history all of them (format of
    history-pending-upgrade.*.json). ``manifests``: callable (chart path, values) ->
    what `helm template` prints. ``fail``: {verb: (rc, stderr, revision appended)}.
    """

    def __init__(self, major):
        self.major = major
        status = json.loads((DATA / ("status-pending-upgrade.helm%d.json" % major)).read_text())
        self.template_release = status
        self.not_found = (DATA / ("status-not-found.helm%d.stderr" % major)).read_text()
        self.revisions = []
        self.manifests = lambda chart, values: TAG_110 if (values.get("image") or {}).get("tag") == "1.1.0" \
            else DEFAULT
        self.fail = {}
        self.calls = []
        self.stdin = []

    def revision(self, status, values=None, description=None, seconds_ago=86400, manifest=DEFAULT):
        rel = copy.deepcopy(self.template_release)
        rel["version"] = len(self.revisions) + 1
        rel["info"].update(status=status, last_deployed=_stamp(seconds_ago),
                           description=description if description is not None else marker())
        rel["config"] = values or {}
        if not values:
            del rel["config"]  # helm omits an empty config (json omitempty)
        rel["manifest"] = manifest
        self.revisions.append(rel)
        return rel

    def history(self):
        return [{"revision": r["version"], "updated": r["info"]["last_deployed"], "status": r["info"]["status"],
                 "chart": "onprem-demo-0.1.0", "app_version": "1.0.0", "description": r["info"]["description"]}
                for r in self.revisions]

    @staticmethod
    def _opt(argv, flag):
        return argv[argv.index(flag) + 1] if flag in argv else None

    def run_command(self, argv, **kw):
        """Stands in for AnsibleModule.run_command (set on the class: a bound method of
        this object, so it gets the command line and keywords only)."""
        argv = list(argv)
        self.calls.append(argv)
        if kw.get("data") is not None:
            self.stdin.append(kw["data"])
        if argv[0].endswith("kubectl"):
            return 0, "customresourcedefinition.apiextensions.k8s.io/demoplugins.demo.onprem.stack serverside-applied\n", ""
        verb = argv[1]
        dry_run = any(a.startswith("--dry-run") for a in argv)
        if verb in self.fail and not dry_run:
            rc, err, rel = self.fail.pop(verb)
            if rel is not None:
                self.revisions.append(rel)
            return rc, "", err
        if verb == "version":
            return 0, VERSIONS[self.major], ""
        if verb == "template":
            values = json.loads(Path(argv[-1]).read_text())
            return 0, self.manifests(argv[3], values), ""
        if verb in ("status", "history"):
            if not self.revisions:
                return 1, "", self.not_found
            return 0, json.dumps(self.revisions[-1] if verb == "status" else self.history()), ""
        if verb == "upgrade" and dry_run:
            # helm upgrade --dry-run[=server] -o json: the release the upgrade would write,
            # written nowhere (no deployed revision: helm's "has no deployed releases").
            if not [r for r in self.revisions if r["info"]["status"] in ("deployed", "superseded")]:
                return 1, "", 'Error: UPGRADE FAILED: "demo" has no deployed releases\n'
            values = json.loads(Path(self._opt(argv, "--values")).read_text())
            rel = copy.deepcopy(self.revisions[-1])
            rel["version"] += 1
            rel["info"].update(status="pending-upgrade", description="Dry run complete")
            rel["config"], rel["manifest"] = values, self.manifests(argv[3], values)
            return 0, json.dumps(rel), ""
        if verb in ("install", "upgrade"):
            values = json.loads(Path(self._opt(argv, "--values")).read_text())
            for r in self.revisions:
                if r["info"]["status"] == "deployed":
                    r["info"]["status"] = "superseded"
            rel = self.revision("deployed", values, self._opt(argv, "--description"), 0,
                                self.manifests(argv[3], values))
            return 0, json.dumps(rel), ""
        if verb == "rollback":
            target = self.revisions[int(argv[3]) - 1]
            self.revisions[-1]["info"]["status"] = "superseded"
            target["info"]["status"] = "superseded"
            self.revision("deployed", target.get("config"), "Rollback to %s" % argv[3], 0, target["manifest"])
            return 0, "Rollback was a success! Happy Helming!\n", ""
        if verb == "uninstall":
            self.revisions = []
            return 0, 'release "demo" uninstalled\n', ""
        if verb == "pull":
            dest = Path(self._opt(argv, "--destination"))
            shutil.copy(self.bundle, dest / self.bundle.name)
            return 0, "", ""
        if verb == "registry":
            return 0, "Login Succeeded\n", ""
        raise AssertionError("unexpected helm command %r" % argv)


def marker(chart=CHART):
    return _release.marker(read_chart_dir(str(chart)))


@pytest.fixture(params=[3, 4], ids=["helm3", "helm4"])
def helm(request, monkeypatch):
    fake = FakeHelm(request.param)
    monkeypatch.setattr(AnsibleModule, "run_command", fake.run_command)
    return fake


@pytest.fixture
def run(run_module, tmp_path):
    (tmp_path / "module-tmp").mkdir()

    def go(check=False, diff=False, **kw):
        args = {"name": "demo", "namespace": "ai", "chart": str(CHART), "helm_binary": "/opt/helm/helm",
                "_ansible_tmpdir": str(tmp_path / "module-tmp")}
        args.update(kw)
        return run_module(helm_release.main, args, check=check, diff=diff)

    return go


def verbs(res):
    return [c[1] for c in res["commands"]]


def writes(helm):
    return ["kubectl" if "kubectl" in c[0] else c[1] for c in helm.calls
            if (c[1] in ("install", "upgrade", "rollback", "uninstall") and not any(a.startswith("--dry-run") for a in c))
            or "kubectl" in c[0]]


def test_new_install_check_then_real_then_idempotent(helm, run):
    """check mode -> real -> check mode -> real, asserting changed each time."""
    failed, res = run(check=True)
    assert not failed and res["changed"] is True, res
    assert res["changed_reasons"] == ["release does not exist: install chart onprem-demo-0.1.0"]
    assert writes(helm) == [] and helm.revisions == [], "check mode must create no release"
    assert verbs(res) == ["version", "status", "template"]

    failed, res = run()
    assert not failed and res["changed"] is True, res
    assert (res["revision"], res["status"]) == (1, "deployed")
    assert (res["chart"], res["app_version"]) == ("onprem-demo-0.1.0", "1.0.0")
    install = res["commands"][-1]
    assert install[1:4] == ["install", "demo", str(CHART)]
    assert helm.revisions[0]["info"]["description"] == marker()

    for check in (True, False):
        failed, res = run(check=check)
        assert not failed and res["changed"] is False and res["changed_reasons"] == [], res
        assert (res["revision"], res["status"]) == (1, "deployed")
        assert verbs(res) == ["version", "status", "upgrade"], "at most 3 helm calls for an unchanged release (the last a dry run)"
    assert writes(helm) == ["install"]


def test_values_change_upgrades(helm, run):
    helm.revision("deployed")
    failed, res = run(values={"image": {"tag": "1.1.0"}}, check=True)
    assert not failed and res["changed"] is True, res
    assert res["changed_reasons"] == ['values.image.tag: (unset) -> "1.1.0"', "manifest: templates/deployment.yaml changed"]
    assert writes(helm) == []
    failed, res = run(values={"image": {"tag": "1.1.0"}})
    assert not failed and res["changed"] is True and res["revision"] == 2, res
    assert writes(helm) == ["upgrade"] and "--reset-values" in helm.calls[-1]
    assert helm.revisions[-1]["config"] == {"image": {"tag": "1.1.0"}}


def test_value_change_old_to_new(helm, run):
    helm.revision("deployed", {"image": {"tag": "1.0.0"}})
    failed, res = run(values={"image": {"tag": "1.1.0"}}, check=True)
    assert res["changed_reasons"][0] == 'values.image.tag: "1.0.0" -> "1.1.0"'


@pytest.mark.parametrize("entry,want", [
    ({"value": "image.tag=1.1.0"}, {"image": {"tag": "1.1.0"}}),
    ({"value": "replicaCount=2,ingress.enabled=false"}, {"replicaCount": 2, "ingress": {"enabled": False}}),
    ({"value": "replicaCount=2", "value_type": "string"}, {"replicaCount": "2"}),
    ({"value": 'resources={"limits": {"cpu": "1"}}', "value_type": "json"}, {"resources": {"limits": {"cpu": "1"}}}),
    ({"value": r"podAnnotations.prometheus\.io/scrape=true"}, {"podAnnotations": {"prometheus.io/scrape": True}}),
    ({"value": "hosts[1]=b,tags={x,y}"}, {"hosts": [None, "b"], "tags": ["x", "y"]}),
    ({"value": "version=010,empty=null"}, {"version": "010", "empty": None}),
])
def test_set_values_only_change(helm, run, entry, want):
    """set_values alone changes the release (kubernetes.core.helm misses this without helm-diff)."""
    helm.revision("deployed")
    failed, res = run(set_values=[entry])
    assert not failed and res["changed"] is True, res
    assert helm.revisions[-1]["config"] == want
    assert not any("--set" in a for c in helm.calls for a in c), "set_values never reach helm as --set"
    failed, res = run(set_values=[entry])
    assert not failed and res["changed"] is False, res


def test_numbers_compare_by_value_booleans_by_type(helm, run):
    """helm stores numbers as float64 (2.0 prints as 2); true is not 1."""
    helm.revision("deployed", {"replicaCount": 2, "ratio": 1.5, "flags": [1, True]})
    failed, res = run(values={"replicaCount": 2.0, "ratio": 1.5, "flags": [1.0, True]}, check=True)
    assert not failed and res["changed"] is False, res
    failed, res = run(values={"replicaCount": 2, "ratio": 1.5, "flags": [True, True]}, check=True)
    assert res["changed_reasons"] == ["values.flags: [1, true] -> [true, true]"], res


def test_set_values_file(helm, run, tmp_path):
    (tmp_path / "motd.txt").write_text("hello\n")
    helm.revision("deployed")
    failed, res = run(set_values=[{"value": "motd=%s" % (tmp_path / "motd.txt"), "value_type": "file"}])
    assert not failed and helm.revisions[-1]["config"] == {"motd": "hello\n"}, res
    failed, res = run(set_values=[{"value": "motd=%s" % (tmp_path / "nope"), "value_type": "file"}])
    assert failed and res["msg"].startswith("set_values[0] (value_type file) cannot be applied: cannot read file")


def test_set_values_syntax_error_names_the_entry(helm, run):
    failed, res = run(set_values=[{"value": "ok=1"}, {"value": "novalue"}])
    assert failed and res["msg"].startswith("set_values[1] (value_type raw) cannot be applied: expected key=value")


def test_values_file_only_change(helm, run, tmp_path):
    vf = tmp_path / "site.yml"
    vf.write_text("image:\n  tag: 1.1.0\nrelease: 2025-01-01\n")
    helm.revision("deployed", {"image": {"tag": "1.0.0"}, "release": "2025-01-01"})
    failed, res = run(values_files=[str(vf)], check=True)
    assert not failed and res["changed_reasons"] == ['values.image.tag: "1.0.0" -> "1.1.0"',
                                                     "manifest: templates/deployment.yaml changed"], res
    # values_files, then values, then set_values: the last wins
    failed, res = run(values_files=[str(vf)], values={"image": {"tag": "1.0.0"}}, check=True)
    assert not failed and res["changed"] is False, res


def test_unreadable_values_file_names_it(helm, run, tmp_path):
    (tmp_path / "bad.yml").write_text("a: [\n")
    failed, res = run(values_files=[str(tmp_path / "bad.yml")])
    assert failed and "values file %s is not valid YAML" % (tmp_path / "bad.yml") in res["msg"]
    assert verbs(res) == [], "nothing runs before the inputs are read"


def _chart_copy(tmp_path):
    chart = tmp_path / "onprem-demo"
    shutil.copytree(CHART, chart)
    return chart


def test_local_template_change_same_version(helm, run, tmp_path):
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    (chart / "templates" / "service.yaml").write_text((chart / "templates" / "service.yaml").read_text() + "\n")
    helm.manifests = lambda c, v: DEFAULT.replace("type: ClusterIP", "type: NodePort")
    failed, res = run(chart=str(chart))
    assert not failed and res["changed"] is True, res
    assert res["changed_reasons"][0].startswith("chart content sha256:")
    assert res["changed_reasons"][0].endswith("(same version 0.1.0)")
    assert res["changed_reasons"][1:] == ["manifest: templates/service.yaml changed"]
    assert writes(helm) == ["upgrade"]


def test_hook_or_readme_change_is_a_chart_content_change(helm, run, tmp_path):
    """A change that renders no differently (a hook, NOTES.txt, README) still upgrades."""
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    (chart / "templates" / "NOTES.txt").write_text("changed\n")
    failed, res = run(chart=str(chart), check=True)
    assert len(res["changed_reasons"]) == 1 and res["changed_reasons"][0].startswith("chart content "), res


def test_helmignored_files_do_not_count(helm, run, tmp_path):
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    (chart / "values.yaml.bak").write_text("junk\n")
    failed, res = run(chart=str(chart), check=True)
    assert not failed and res["changed"] is False, res


def test_chart_version_change(helm, run, tmp_path):
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    failed, res = run(chart=str(chart), check=True)
    assert res["changed_reasons"] == ["chart version 0.1.0 -> 0.2.0"], res
    failed, res = run(chart=str(chart), version="0.1.0")
    assert failed and res["msg"] == "version 0.1.0 was asked, but chart %s is onprem-demo 0.2.0 (its Chart.yaml)" % chart


def test_packaged_archive_of_the_same_chart_is_no_change(helm, run, tmp_path):
    """The directory and a .tgz of the same files (Chart.yaml rewritten as helm package
    does: keys reordered, quoting changed) have one content digest."""
    tgz = tmp_path / "onprem-demo-0.1.0.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for f in sorted(CHART.rglob("*")):
            if f.is_file() and f.name != "Chart.yaml":
                tar.add(f, "onprem-demo/" + str(f.relative_to(CHART)))
        meta = tmp_path / "Chart.yaml"
        meta.write_text(yaml.safe_dump(yaml.safe_load((CHART / "Chart.yaml").read_text())))
        tar.add(meta, "onprem-demo/Chart.yaml")
    helm.revision("deployed")
    failed, res = run(chart=str(tgz), check=True)
    assert not failed and res["changed"] is False, res


def test_manifest_drift(helm, run):
    """Values and chart unchanged, but the deployed manifest differs (edited by hand,
    or rendered by another helm): the release is upgraded, naming the template."""
    helm.revision("deployed", manifest=DEFAULT.replace('storage: "1Gi"', 'storage: "5Gi"'))
    failed, res = run()
    assert not failed and res["changed_reasons"] == ["manifest: templates/pvc.yaml changed"], res
    assert writes(helm) == ["upgrade"]


def test_installed_release_is_rendered_against_the_cluster(helm, run):
    """An installed release is compared with what a dry-run upgrade would store, rendered by
    helm against the cluster: --dry-run=server where helm has it (4.x), the boolean --dry-run
    before 3.13 (helm 3.10); with exactly the desired values, --reset-values, JSON output."""
    helm.revision("deployed")
    failed, res = run(check=True)
    assert not failed and res["changed"] is False, res
    dry = res["commands"][-1]
    assert dry[1:4] == ["upgrade", "demo", str(CHART)] and "--reset-values" in dry and dry[-2:] == ["--output", "json"]
    assert ("--dry-run=server" if helm.major == 4 else "--dry-run") in dry
    assert writes(helm) == []


def test_no_deployed_revision_falls_back_to_a_client_render(helm, run):
    """A release whose only revision failed: helm refuses a dry-run upgrade ("has no deployed
    releases"); the manifest then comes from helm template, and the failed revision is upgraded."""
    helm.revision("failed")
    failed, res = run(check=True)
    assert not failed and res["changed"] is True, res
    assert verbs(res) == ["version", "status", "upgrade", "template"]
    assert res["changed_reasons"][0].startswith("last revision 1 failed")


LOOKUP_TEMPLATE = ('apiVersion: v1\nkind: Secret\nmetadata:\n  name: keep\ndata:\n'
                   '  {{- $old := lookup "v1" "Secret" .Release.Namespace "keep" }}\n'
                   '  password: {{ if $old }}{{ index $old.data "password" }}{{ else }}{{ randAlphaNum 8 | b64enc }}'
                   '{{ end }}\n')


def test_lookup_templates_compared_by_digest_only_on_helm_without_server_dry_run(helm, run, tmp_path, monkeypatch):
    """helm 3.10 renders lookup empty in a dry run: the templates calling it are left out of
    the manifest comparison (with a warning naming them); helm 4 renders them against the
    cluster, so a difference there still counts."""
    # Under pytest, warnings go to ansible's display, not the result: record them.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: warned.append(msg))
    chart = tmp_path / "onprem-demo"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "keep.yaml").write_text(LOOKUP_TEMPLATE)
    assert read_chart_dir(str(chart)).lookup_templates == {"templates/keep.yaml"}
    deployed = DEFAULT + "\n---\n# Source: onprem-demo/templates/keep.yaml\nkind: Secret\ndata:\n  password: b2xk\n"
    helm.revision("deployed", manifest=deployed, description=marker(chart))
    helm.manifests = lambda chart_path, values: DEFAULT + (
        "\n---\n# Source: onprem-demo/templates/keep.yaml\nkind: Secret\ndata:\n  password: bmV3\n")
    failed, res = run(check=True, chart=str(chart))
    assert not failed, res
    if helm.major == 3:
        assert res["changed"] is False and res["changed_reasons"] == [], res
        assert warned == ["helm v3.10.1 renders lookup as empty in a dry run (helm 3.13+ renders it against the "
                          "cluster): templates/keep.yaml of chart onprem-demo-0.1.0 compared by the chart's digest "
                          "and values only"], warned
    else:
        assert res["changed_reasons"] == ["manifest: templates/keep.yaml changed"], res
        assert warned == []


def test_lookup_in_a_helper_marks_every_template(tmp_path):
    chart = tmp_path / "onprem-demo"
    shutil.copytree(CHART, chart)
    helpers = chart / "templates" / "_helpers.tpl"
    helpers.write_text(helpers.read_text() + '\n{{- define "x.old" -}}{{ lookup "v1" "Secret" "ns" "n" }}{{- end }}\n')
    assert read_chart_dir(str(chart)).lookup_templates == {"*"}
    assert read_chart_dir(str(CHART)).lookup_templates == set()


def test_release_not_written_by_the_module_is_upgraded_once(helm, run):
    helm.revision("deployed", description="Install complete")
    failed, res = run()
    assert res["changed"] is True and "has no chart record" in res["changed_reasons"][0], res
    failed, res = run()
    assert res["changed"] is False, res


def test_failed_last_revision_is_upgraded(helm, run):
    helm.revision("deployed")
    helm.revision("failed", description="Upgrade \"demo\" failed: timed out waiting for the condition")
    failed, res = run()
    assert not failed, res
    assert res["changed_reasons"][0] == ('last revision 2 failed (Upgrade "demo" failed: timed out waiting for the '
                                         'condition): upgrading')
    assert writes(helm) == ["upgrade"] and res["status"] == "deployed" and res["revision"] == 3


def test_atomic_failure_fails_and_reports_the_rollback(helm, run):
    helm.revision("deployed")
    rolled = copy.deepcopy(helm.revisions[0])
    rolled.update(version=3)
    rolled["info"].update(status="deployed", description="Rollback to 1")
    helm.fail["upgrade"] = (1, "Error: UPGRADE FAILED: release demo failed, and has been rolled back due to atomic "
                               "being set: timed out waiting for the condition\n", rolled)
    failed, res = run(values={"image": {"tag": "1.1.0"}})
    assert failed, res
    assert res["msg"].startswith("upgrade of release demo (chart onprem-demo-0.1.0) failed: helm upgrade failed: "
                                 "Error: UPGRADE FAILED")
    assert res["msg"].endswith("helm rolled it back (atomic); now revision 3, deployed")
    assert (res["revision"], res["status"]) == (3, "deployed") and res["rc"] == 1
    assert res["cmd"][1] == "upgrade" and res["stderr"].startswith("Error: UPGRADE FAILED")


def test_atomic_install_failure(helm, run):
    helm.fail["install"] = (1, "Error: INSTALLATION FAILED: release demo failed, and has been uninstalled due to "
                               "atomic being set: timed out waiting for the condition\n", None)
    failed, res = run()
    assert failed and res["msg"].endswith("helm uninstalled it (atomic)"), res


@pytest.mark.parametrize("status", ["pending-upgrade", "pending-rollback"])
def test_pending_without_recover_pending_fails(helm, run, status):
    helm.revision("deployed")
    helm.revision(status, seconds_ago=PENDING_AGE)
    failed, res = run()
    assert failed, res
    assert ("release demo in namespace ai is %s: revision 2 started 3600s ago and has not finished" % status) in res["msg"]
    assert "Set recover_pending: true" in res["msg"] and "timeout (300s)" in res["msg"]
    assert writes(helm) == [] and res["pending_age_seconds"] == PENDING_AGE


@pytest.mark.parametrize("status", ["pending-upgrade", "pending-rollback"])
def test_pending_upgrade_or_rollback_is_rolled_back_to_the_last_good_revision(helm, run, status):
    helm.revision("superseded")
    helm.revision("deployed", {"replicaCount": 2})
    helm.revision("failed")
    helm.revision(status, {"replicaCount": 3}, seconds_ago=PENDING_AGE)
    failed, res = run(recover_pending=True, check=True)
    assert not failed and res["changed"] is True, res
    assert res["changed_reasons"][0] == "would recover: %s revision 4 (3600s old) rolled back to revision 2 " \
                                        "(deployed)" % status
    assert writes(helm) == []
    failed, res = run(recover_pending=True, values={"replicaCount": 2})
    assert not failed, res
    rollback = next(c for c in helm.calls if c[1] == "rollback")
    assert rollback[2:4] == ["demo", "2"], "rolls back to a named revision, never 'previous'"
    assert res["changed_reasons"][0].startswith("recovered: %s revision 4" % status)
    # the rollback (revision 5, "Rollback to 2") is then upgraded to record the chart
    assert writes(helm) == ["rollback", "upgrade"] and (res["revision"], res["status"]) == (6, "deployed")


def test_pending_install_is_uninstalled_and_installed_again(helm, run):
    helm.revision("pending-install", seconds_ago=PENDING_AGE)
    failed, res = run(recover_pending=True)
    assert not failed, res
    assert res["changed_reasons"][:2] == ["recovered: pending-install revision 1 (3600s old) uninstalled, to install "
                                          "again", "release does not exist: install chart onprem-demo-0.1.0"]
    assert writes(helm) == ["uninstall", "install"] and (res["revision"], res["status"]) == (1, "deployed")


@pytest.mark.parametrize("status", ["pending-install", "pending-upgrade", "pending-rollback"])
def test_young_pending_is_left_alone(helm, run, status):
    if status != "pending-install":
        helm.revision("deployed")
    helm.revision(status, seconds_ago=30)
    failed, res = run(recover_pending=True, timeout=600)
    assert failed, res
    assert "started 30s ago" in res["msg"], res["msg"]
    assert "less than timeout (600s): the operation may still be running" in res["msg"]
    assert writes(helm) == []


def test_absent(helm, run):
    failed, res = run(state="absent", chart=None)
    assert not failed and res["changed"] is False and verbs(res) == ["version", "status"], res
    helm.revision("deployed")
    failed, res = run(state="absent", chart=None, check=True)
    assert res["changed"] is True and writes(helm) == [] and res["chart"] == "onprem-demo-0.1.0", res
    failed, res = run(state="absent", chart=None)
    assert res["changed"] is True and res["status"] == "uninstalled" and writes(helm) == ["uninstall"], res
    failed, res = run(state="absent", chart=None)
    assert res["changed"] is False, res


def test_template_error_fails_check_mode(helm, run):
    helm.manifests = None
    helm.fail["template"] = (1, 'Error: execution error at (onprem-demo/templates/ingress.yaml:2:12): ingress.host is '
                                'required when ingress.enabled is true\n', None)
    failed, res = run(check=True)
    assert failed and "rendering chart" in res["msg"] and "ingress.host is required" in res["msg"], res


def test_secret_values_masked_and_secret_data_redacted_in_diff(helm, run):
    secret_doc = ("---\n# Source: onprem-demo/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n"
                  "  name: demo\nstringData:\n  password: {pw}\ndata:\n  token: c2VjcmV0\n")
    helm.revision("deployed", {"auth": {"password": "Old-pw-123"}},
                  manifest=DEFAULT + secret_doc.format(pw="Old-pw-123"))
    helm.manifests = lambda c, v: DEFAULT + secret_doc.format(pw=v["auth"]["password"])
    failed, res = run(values={"auth": {"password": "New-pw-456"}, "image": {"tag": "1.1.0"}}, diff=True, check=True)
    assert not failed, res
    text = json.dumps(res)
    assert "New-pw-456" not in text and "Old-pw-123" not in text and "c2VjcmV0" not in text
    assert "values.auth.password: ******** -> ********" in res["changed_reasons"]
    assert 'values.image.tag: (unset) -> "1.1.0"' in res["changed_reasons"], "other values stay readable"
    assert "manifest: templates/secret.yaml changed" in res["changed_reasons"]
    values_diff, manifest_diff = res["diff"]
    assert "password: '********'" in values_diff["after"] and "tag: 1.1.0" in values_diff["after"]
    assert "password: <redacted>" in manifest_diff["after"] and "token: <redacted>" in manifest_diff["before"]
    assert "kind: Deployment" in manifest_diff["after"]
    assert res["invocation"]["module_args"]["values"] == NO_LOG_PLACEHOLDER


def test_crds_upgrade_applies_changed_crds_first(helm, run, tmp_path):
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    crd = chart / "crds" / "demoplugins.yaml"
    crd.write_text(crd.read_text() + "                replicas:\n                  type: integer\n")
    failed, res = run(chart=str(chart), crds="upgrade", kubectl_binary="/usr/local/bin/kubectl",
                      kubeconfig="/etc/rancher/k3s/k3s.yaml")
    assert not failed, res
    assert "crds: crds/demoplugins.yaml applied server-side before the upgrade" in res["changed_reasons"]
    assert writes(helm) == ["kubectl", "upgrade"]
    apply = next(c for c in helm.calls if "kubectl" in c[0])
    assert apply[1:6] == ["apply", "--server-side", "--force-conflicts",
                          "--field-manager=onprem.stack.helm_release", "--kubeconfig"]
    failed, res = run(chart=str(chart), crds="upgrade", kubectl_binary="/usr/local/bin/kubectl")
    assert res["changed"] is False, res


def test_crds_install_warns_when_crds_changed(helm, run, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, msg: warned.append(msg))
    chart = _chart_copy(tmp_path)
    helm.revision("deployed", description=marker(chart))
    (chart / "crds" / "demoplugins.yaml").write_text((chart / "crds" / "demoplugins.yaml").read_text() + "# x\n")
    failed, res = run(chart=str(chart))
    assert not failed and res["changed"] is True, res
    assert warned == ["the CRDs in chart onprem-demo-0.1.0 changed, but helm never upgrades crds/; set crds: "
                      "upgrade to apply them"]
    assert not any("kubectl" in c[0] for c in helm.calls)


def test_oci_chart_login_pull_and_no_password_on_argv(helm, run, tmp_path):
    helm.bundle = tmp_path / "onprem-demo-0.1.0.tgz"
    with tarfile.open(helm.bundle, "w:gz") as tar:
        tar.add(CHART, "onprem-demo")
    failed, res = run(chart="oci://registry.site:5000/charts/onprem-demo", version="0.1.0", username="ci",
                      password="Registry-pw-9", ca_file="/etc/ssl/site-ca.crt")
    assert not failed, res
    assert verbs(res) == ["version", "registry", "pull", "status", "template", "install"]
    login = res["commands"][1]
    assert login[2:6] == ["login", "registry.site:5000", "--username", "ci"] and "--password-stdin" in login
    assert helm.stdin == ["Registry-pw-9"] and "Registry-pw-9" not in json.dumps(helm.calls)
    pull = res["commands"][2]
    assert pull[2] == "oci://registry.site:5000/charts/onprem-demo" and "--ca-file" in pull
    assert ("--ca-file" in login) is (helm.major == 4)
    failed, res = run(chart="oci://registry.site:5000/charts/onprem-demo")
    assert failed and res["msg"] == "chart oci://registry.site:5000/charts/onprem-demo: version is required for an " \
                                    "oci:// chart"


def test_missing_chart_is_named(helm, run, tmp_path):
    failed, res = run(chart=str(tmp_path / "nope"))
    assert failed and "is neither a chart directory, a .tgz chart archive nor an oci:// reference" in res["msg"]

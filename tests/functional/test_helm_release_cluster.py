"""onprem.stack.helm_release against a real Kubernetes API, driven through Ansible
(tasks of a play on localhost run by ansible-playbook, this checkout as the collection),
under helm 3 and helm 4: install; a no-op re-run that writes no revision (helm history);
a values change, a --set-style change, a values-file change and a template change in a
local chart, each upgrading exactly once with its reason; check mode on a new and on an
installed release (nothing written, the change reported); diff mode with Secret data
redacted; a chart whose templates use `lookup` and `.Capabilities` unchanged on its
second run; `crds: upgrade` applying a changed CRD; a failing upgrade rolled back; the
recovery of a release left pending-upgrade by a killed helm; uninstall; a local chart whose
default `auth.password` reaches a Secret refused (no release, no Secret), installed when
waived (allow_chart_default_secrets) and when given a password (in the cluster's Secret,
not in the result).

They run where KUBECONFIG names a cluster that answers `kubectl version`: the Molecule
scenario `cluster` runs them against the control plane it builds (scripts/build-kube.sh,
molecule/cluster/tests/test_helm_functional.py). Elsewhere each is skipped with
skip_not_provided("Kubernetes API", ...) and listed by name in the summary. The example
chart's images must be in the cluster (the scenario imports them into containerd); the
failing upgrade uses an image tag that exists nowhere.

Each test has a namespace and a release of its own. Module runs with nothing to look at
between them are the tasks of one play (tasks(): one Ansible start, most of a run's CPU),
each result asserted on its own. The example chart's readiness probe runs every second here
(VALUES; Kubernetes' default is every 10 s): a wait for its pod ends about a second after
the pod starts, not up to ten.
"""
import base64
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml

from skips import skip_not_provided, tool_path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "examples" / "charts" / "onprem-demo"
KUBECTL = tool_path("kubectl")


def _cluster_reachable():
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig or not KUBECTL:
        return False
    p = subprocess.run([KUBECTL, "version", "--request-timeout=10s"], capture_output=True, text=True, check=False)
    return p.returncode == 0


REACHABLE = _cluster_reachable()


@pytest.fixture
def cluster():
    if not REACHABLE:
        skip_not_provided("Kubernetes API", "KUBECONFIG pointing at a reachable cluster")
    return os.environ["KUBECONFIG"]


@pytest.fixture
def namespace(cluster):
    """A new namespace holding the Secret the example chart references (onprem-demo-auth,
    made by the platform role on a site); deleted afterwards, with its releases (their
    records are Secrets in it), without waiting for that to finish."""
    ns = "onprem-test-" + uuid.uuid4().hex[:8]
    subprocess.run([KUBECTL, "create", "namespace", ns], capture_output=True, check=True)
    subprocess.run([KUBECTL, "create", "secret", "generic", "onprem-demo-auth", "-n", ns,
                    "--from-literal=admin-password=" + uuid.uuid4().hex], capture_output=True, check=True)
    yield ns
    subprocess.run([KUBECTL, "delete", "namespace", ns, "--wait=false"], capture_output=True, check=False)


def tasks(*calls):
    """Run onprem.stack.helm_release once per call, in order, as the tasks of one play on
    localhost (`ansible-playbook`: one Ansible start for them all, the larger part of a call's
    CPU). A call is the module's arguments, or (arguments, {"check_mode": True, "diff": True}).
    Each task runs whether the one before failed or not (ignore_errors); return one
    (failed, result) per call."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"), ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        dict(call[1] if isinstance(call, tuple) else {}, ignore_errors=True,
             **{"onprem.stack.helm_release": call[0] if isinstance(call, tuple) else call})
        for call in calls]}]
    with tempfile.TemporaryDirectory() as tmp:
        playbook = Path(tmp) / "play.yml"
        playbook.write_text(json.dumps(play))
        p = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(playbook)], env=env,
                           capture_output=True, text=True, check=False, timeout=1800)
    try:
        ran = json.loads(p.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        ran = []
    assert len(ran) == len(calls), "ansible-playbook (exit %d): %s\n%s" % (p.returncode, p.stdout[-4000:],
                                                                           p.stderr[-2000:])
    return [(bool(t["hosts"]["localhost"].get("failed")), t["hosts"]["localhost"]) for t in ran]


def module(args):
    """One task of onprem.stack.helm_release (tasks()); return (failed, result)."""
    return tasks(args)[0]


CHECK = {"check_mode": True}


# The example chart's values in these tests: the probe every second (the module docstring says why).
PROBE = {"periodSeconds": 1}
VALUES = {"ingress": {"host": "demo.test.internal"}, "readinessProbe": PROBE}


# The head of the `<release>-auth` Secret both test charts below render; each adds its data.
AUTH_SECRET_HEAD = """apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-auth
type: Opaque
data:
"""


def base(helm_binary, namespace, **kw):
    args = {"name": "demo", "namespace": namespace, "chart": str(CHART), "create_namespace": True,
            "helm_binary": helm_binary, "timeout": 180, "values": copy.deepcopy(VALUES)}
    args.update(kw)
    return args


def status(helm_binary, namespace, name="demo"):
    p = subprocess.run([helm_binary, "status", name, "--namespace", namespace, "-o", "json"], capture_output=True,
                       text=True, check=True)
    data = json.loads(p.stdout)
    return data["version"], data["info"]["status"]


def revisions(helm_binary, namespace, name="demo"):
    """The revision numbers helm history lists (list of int)."""
    p = subprocess.run([helm_binary, "history", name, "--namespace", namespace, "-o", "json"], capture_output=True,
                       text=True, check=True)
    return [r["revision"] for r in json.loads(p.stdout)]


def copy_chart(tmp_path):
    chart = tmp_path / "onprem-demo"
    shutil.copytree(CHART, chart)
    return chart


def test_cluster_install_and_rerun_unchanged(helm_binary, namespace):
    """Check mode on a new release reports the install and writes nothing; the install
    writes revision 1; check mode and a real run after it change nothing and write no
    revision (helm history), in three helm calls (version, status, the dry-run upgrade).
    The four runs are the tasks of one play: a revision written by either check mode would
    show in the install's revision or in the history at the end."""
    args = base(helm_binary, namespace)
    (failed, res), install, *again = tasks((args, CHECK), args, (args, CHECK), args)
    assert not failed and res["changed"] is True, res
    assert res["changed_reasons"] == ["release does not exist: install chart onprem-demo-0.1.0"]
    failed, res = install
    assert not failed and res["changed"] is True and (res["revision"], res["status"]) == (1, "deployed"), res
    for failed, res in again:
        assert not failed and res["changed"] is False and res["changed_reasons"] == [], res
        assert [c[1] for c in res["commands"]] == ["version", "status", "upgrade"], res["commands"]
        assert "--dry-run=server" in res["commands"][2] or "--dry-run" in res["commands"][2]
    assert revisions(helm_binary, namespace) == [1]


@pytest.mark.parametrize("change,reason", [
    ({"values": dict(VALUES, image={"tag": "1.0.0"})},
     'values.image.tag: (unset) -> "1.0.0"'),
    ({"set_values": [{"value": "replicaCount=2"}]}, "values.replicaCount: (unset) -> 2"),
], ids=["values", "set_values"])
def test_cluster_values_change_upgrades_once(helm_binary, namespace, change, reason):
    """A change of values (or of a --set-style value) upgrades exactly once, with its reason;
    check mode first reports it and writes nothing (the upgrade after it is revision 2); the
    same input again changes nothing. Install, check, upgrade, again: the tasks of one play."""
    changed = base(helm_binary, namespace, **change)
    install, (failed, res), upgrade, again = tasks(base(helm_binary, namespace), (changed, CHECK), changed, changed)
    assert not install[0], install[1]
    assert not failed and res["changed"] is True and reason in res["changed_reasons"], res
    failed, res = upgrade
    assert not failed and res["changed"] is True and res["revision"] == 2, res
    assert reason in res["changed_reasons"]
    assert not again[0] and again[1]["changed"] is False, again[1]
    assert revisions(helm_binary, namespace) == [1, 2]


def test_cluster_values_file_change_upgrades_once(helm_binary, namespace, tmp_path):
    """The same values file again changes nothing; its content changed upgrades once, with
    the changed value and the manifest it changes as the reasons."""
    vf = tmp_path / "site.yml"
    vf.write_text("ingress:\n  host: demo.test.internal\nreadinessProbe:\n  periodSeconds: 1\n")
    kw = {"values": {}, "values_files": [str(vf)]}
    install, again = tasks(base(helm_binary, namespace, **kw), base(helm_binary, namespace, **kw))
    assert not install[0], install[1]
    assert not again[0] and again[1]["changed"] is False, again[1]
    vf.write_text("ingress:\n  host: demo2.test.internal\nreadinessProbe:\n  periodSeconds: 1\n")
    failed, res = module(base(helm_binary, namespace, **kw))
    assert not failed and res["revision"] == 2, res
    assert res["changed_reasons"] == ['values.ingress.host: "demo.test.internal" -> "demo2.test.internal"',
                                      "manifest: templates/ingress.yaml changed"]
    assert revisions(helm_binary, namespace) == [1, 2]


def test_cluster_template_change_same_version_upgrades_once(helm_binary, namespace, tmp_path):
    """A template edited in a local chart without a version bump: the chart's content digest
    and the rendered manifest say so; one upgrade, then no change."""
    chart = copy_chart(tmp_path)
    assert not module(base(helm_binary, namespace, chart=str(chart)))[0]
    svc = chart / "templates" / "service.yaml"
    svc.write_text(svc.read_text().replace("type: ClusterIP", "type: NodePort"))
    (failed, res), again = tasks(base(helm_binary, namespace, chart=str(chart)),
                                 base(helm_binary, namespace, chart=str(chart)))
    assert not failed and res["revision"] == 2, res
    assert res["changed_reasons"][0].startswith("chart content sha256:"), res["changed_reasons"]
    assert "same version 0.1.0" in res["changed_reasons"][0]
    assert res["changed_reasons"][1:] == ["manifest: templates/service.yaml changed"]
    assert not again[0] and again[1]["changed"] is False, again[1]
    assert revisions(helm_binary, namespace) == [1, 2]


LOOKUP_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: lookup-demo\nversion: 0.1.0\n",
    "values.yaml": "greeting: hello\n",
    # The usual pattern for a generated password kept across upgrades.
    "templates/secret.yaml": AUTH_SECRET_HEAD + """  {{- $old := lookup "v1" "Secret" .Release.Namespace (printf "%s-auth" .Release.Name) }}
  {{- if and $old $old.data }}
  password: {{ index $old.data "password" }}
  {{- else }}
  password: {{ randAlphaNum 24 | b64enc }}
  {{- end }}
""",
    # Rendered from the cluster's discovery and version, unlike helm template's defaults.
    "templates/configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-caps
data:
  greeting: {{ .Values.greeting | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  {{- if .Capabilities.APIVersions.Has "node.k8s.io/v1/RuntimeClass" }}
  runtimeclasses: "yes"
  {{- end }}
""",
}


def write_chart(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_cluster_lookup_and_capabilities_chart_unchanged_on_second_run(helm_binary, namespace, tmp_path):
    """A chart that keeps a generated password with `lookup` and renders
    `.Capabilities.KubeVersion` and `.Capabilities.APIVersions.Has`: installed, then the same
    input reports no change (check mode and a real run) and writes no revision (the values
    change after them, in the same play, is revision 2); a values change still upgrades, once."""
    chart = write_chart(tmp_path / "lookup-demo", LOOKUP_CHART)
    kw = {"name": "lk", "chart": str(chart), "values": {}}
    failed, res = module(base(helm_binary, namespace, **kw))
    assert not failed and res["revision"] == 1, res
    kube = subprocess.run([KUBECTL, "get", "configmap", "lk-caps", "-n", namespace, "-o",
                           "jsonpath={.data.kube} {.data.runtimeclasses}"], capture_output=True, text=True, check=True)
    server = json.loads(subprocess.run([KUBECTL, "version", "-o", "json"], capture_output=True, text=True,
                                       check=True).stdout)["serverVersion"]["gitVersion"]
    assert kube.stdout == server + " yes", kube.stdout
    *again, (failed, res) = tasks((base(helm_binary, namespace, **kw), CHECK), base(helm_binary, namespace, **kw),
                                  base(helm_binary, namespace, **{**kw, "values": {"greeting": "hi"}}))
    for unchanged in again:
        assert not unchanged[0] and unchanged[1]["changed"] is False and unchanged[1]["changed_reasons"] == [], \
            unchanged[1]
    assert revisions(helm_binary, namespace, "lk") == [1, 2]
    assert not failed and res["revision"] == 2, res
    assert 'values.greeting: (unset) -> "hi"' in res["changed_reasons"]
    assert "manifest: templates/configmap.yaml changed" in res["changed_reasons"]
    assert "manifest: templates/secret.yaml changed" not in res["changed_reasons"]


def test_cluster_diff_redacts_secret_data(helm_binary, namespace, tmp_path):
    """Diff mode on an installed release: the manifest before and after, the Secret's data
    redacted on both sides, the changed value shown."""
    chart = write_chart(tmp_path / "lookup-demo", LOOKUP_CHART)
    kw = {"name": "lk", "chart": str(chart), "values": {}}
    install, (failed, res) = tasks(base(helm_binary, namespace, **kw), (
        base(helm_binary, namespace, **{**kw, "values": {"greeting": "hi"}}), {"check_mode": True, "diff": True}))
    assert not install[0], install[1]
    # read after the check-mode run, which changes nothing
    password = subprocess.run([KUBECTL, "get", "secret", "lk-auth", "-n", namespace, "-o",
                               "jsonpath={.data.password}"], capture_output=True, text=True, check=True).stdout
    assert len(password) > 20
    assert not failed and res["changed"] is True, res
    values_diff, manifest_diff = res["diff"]
    assert password not in json.dumps(res)
    assert "greeting: hi" in values_diff["after"]
    for side in ("before", "after"):
        secret = [d for d in yaml.safe_load_all(manifest_diff[side]) if d and d["kind"] == "Secret"]
        assert secret and secret[0]["data"] == {"password": "<redacted>"}, manifest_diff[side]
    assert 'greeting: "hi"' in manifest_diff["after"] and 'greeting: "hello"' in manifest_diff["before"]


CRD_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: crd-demo\nversion: 0.1.0\n",
    "crds/widgets.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.onprem.test
spec:
  group: onprem.test
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
""",
    "templates/widget.yaml": """apiVersion: onprem.test/v1
kind: Widget
metadata:
  name: {{ .Release.Name }}
spec:
  size: {{ .Values.size | default 1 }}
""",
}


def test_cluster_crds_upgrade_applies_a_changed_crd(helm_binary, namespace, tmp_path):
    """A chart with crds/: helm installs the CRD on the first install; a changed CRD (a new
    field) is applied server-side with `crds: upgrade` before the upgrade, and the object
    using the new field is accepted."""
    # A CRD is cluster-scoped and the helm 3 and helm 4 runs share the cluster side by side: each
    # test's CRD gets a group of its own (its namespace's), or one run's cleanup removes the other's.
    group = namespace + ".onprem.test"
    crd_name = "widgets." + group
    chart = write_chart(tmp_path / "crd-demo", {k: v.replace("onprem.test", group) for k, v in CRD_CHART.items()})
    kw = {"name": "crd", "chart": str(chart), "values": {}, "crds": "upgrade", "kubectl_binary": KUBECTL}
    try:
        failed, res = module(base(helm_binary, namespace, **kw))
        assert not failed and res["revision"] == 1, res
        crd = chart / "crds" / "widgets.yaml"
        crd.write_text(crd.read_text().replace("size: {type: integer}",
                                               "size: {type: integer}\n                colour: {type: string}"))
        tpl = chart / "templates" / "widget.yaml"
        tpl.write_text(tpl.read_text() + "  colour: blue\n")
        (failed, res), again = tasks(base(helm_binary, namespace, **kw), base(helm_binary, namespace, **kw))
        assert not failed and res["revision"] == 2, res
        assert not again[0] and again[1]["changed"] is False, again[1]
        assert "crds: crds/widgets.yaml applied server-side before the upgrade" in res["changed_reasons"], res
        schema = subprocess.run([KUBECTL, "get", "crd", crd_name, "-o",
                                 "jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties}"],
                                capture_output=True, text=True, check=True).stdout
        assert "colour" in schema
        colour = subprocess.run([KUBECTL, "get", crd_name, "crd", "-n", namespace, "-o", "jsonpath={.spec.colour}"],
                                capture_output=True, text=True, check=True).stdout
        assert colour == "blue"
    finally:
        subprocess.run([helm_binary, "uninstall", "crd", "--namespace", namespace], capture_output=True, check=False)
        subprocess.run([KUBECTL, "delete", "crd", crd_name, "--wait=false"], capture_output=True,
                       check=False)


def test_cluster_failing_upgrade_with_atomic_is_rolled_back(helm_binary, namespace):
    """An upgrade whose pod never becomes Ready (an image tag that exists nowhere) fails
    after timeout (15 s: helm waits all of it, and the rollback, to a pod still Ready, fits
    in it under load), and helm rolls it back: revision 3 deployed, the rollback to 1."""
    broken = [{"value": "image.tag=does-not-exist-0", "value_type": "string"}]
    install, (failed, res) = tasks(base(helm_binary, namespace),
                                   base(helm_binary, namespace, timeout=15, set_values=broken))
    assert not install[0], install[1]
    assert failed and "helm rolled it back (atomic)" in res["msg"], res
    revision, state = status(helm_binary, namespace)
    assert state == "deployed" and revision == 3  # 2 failed, 3 = rollback to 1


def test_cluster_pending_recovery_after_killing_helm(helm_binary, namespace, tmp_path):
    """A release left pending-upgrade by a killed helm: the module fails naming the state and
    recover_pending; with recover_pending it leaves a revision younger than timeout alone;
    once the revision is older than timeout it rolls back to revision 1 and is deployed."""
    assert not module(base(helm_binary, namespace))[0]
    values = tmp_path / "v.json"
    values.write_text(json.dumps(dict(VALUES, image={"tag": "does-not-exist-1"})))
    wait = "--wait" if "helm4" not in helm_binary else "--wait=watcher"
    proc = subprocess.Popen([helm_binary, "upgrade", "demo", str(CHART), "--namespace", namespace, "--values",
                             str(values), wait, "--timeout", "600s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _attempt in range(60):
        if status(helm_binary, namespace)[1] == "pending-upgrade":
            break
        time.sleep(1)
    pending_since = time.monotonic()
    proc.kill()
    proc.wait()
    assert status(helm_binary, namespace) == (2, "pending-upgrade")
    (failed, res), young = tasks(base(helm_binary, namespace),
                                 base(helm_binary, namespace, recover_pending=True, timeout=600))
    assert failed and "is pending-upgrade" in res["msg"] and "recover_pending" in res["msg"], res
    failed, res = young
    assert failed and "the operation may still be running" in res["msg"], res
    time.sleep(max(0.0, pending_since + 6 - time.monotonic()))  # older than timeout=5 below
    failed, res = module(base(helm_binary, namespace, recover_pending=True, timeout=5))
    assert not failed, res
    assert res["changed_reasons"][0].startswith("recovered: pending-upgrade revision 2")
    assert res["changed_reasons"][0].endswith("rolled back to revision 1 (deployed)")
    assert res["status"] == "deployed"


def test_cluster_uninstall(helm_binary, namespace):
    """state: absent uninstalls an installed release (waiting for its resources to go), and
    reports no change when there is nothing left."""
    absent = {"name": "demo", "namespace": namespace, "state": "absent", "helm_binary": helm_binary}
    install, (failed, res), again = tasks(base(helm_binary, namespace), absent, absent)
    assert not install[0], install[1]
    assert not failed and res["changed"] is True and res["status"] == "uninstalled", res
    failed, res = again
    assert not failed and res["changed"] is False, res


DEFAULTS_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: secret-defaults\nversion: 0.1.0\n",
    # the chart's own default password: must never reach a site
    "values.yaml": "auth:\n  username: admin\n  password: changeme\n",
    "templates/secret.yaml": AUTH_SECRET_HEAD + """  password: {{ .Values.auth.password | b64enc }}
""",
}


def secret_value(namespace, name, key):
    """The decoded value of a key of a Secret in the cluster (kubectl get secret)."""
    data = json.loads(subprocess.run([KUBECTL, "get", "secret", name, "-n", namespace, "-o", "json"],
                                     capture_output=True, text=True, check=True).stdout)["data"]
    return base64.b64decode(data[key]).decode()


def test_cluster_chart_default_secret_refused_waived_or_overridden(helm_binary, namespace, tmp_path):
    """A local chart whose default `auth.password: changeme` reaches a rendered Secret: refused,
    naming the key path and the chart, with no release and no Secret left in the namespace;
    waived with allow_chart_default_secrets, installed (revision 1, deployed); given a password,
    installed with it in the cluster's Secret and nowhere in the module's result. Three
    releases of their own (sd, sdw, sdo): the tasks of one play."""
    chart = write_chart(tmp_path / "secret-defaults", DEFAULTS_CHART)
    password = "Site-pw-" + uuid.uuid4().hex[:12]
    (failed, res), waived, overridden = tasks(
        base(helm_binary, namespace, name="sd", chart=str(chart), values={}),
        base(helm_binary, namespace, name="sdw", chart=str(chart), values={},
             allow_chart_default_secrets=["auth.password"]),
        base(helm_binary, namespace, name="sdo", chart=str(chart), values={"auth": {"password": password}}))
    assert failed, res
    assert "auth.password" in res["msg"] and "secret-defaults-0.1.0" in res["msg"] and str(chart) in res["msg"], \
        res["msg"]
    assert res["chart_default_secrets"] == [{"path": "auth.password", "found_in": ["Secret sd-auth, data.password"]}]
    assert "changeme" not in json.dumps(res)
    gone = subprocess.run([helm_binary, "status", "sd", "--namespace", namespace], capture_output=True, text=True,
                          check=False)
    assert gone.returncode != 0 and "not found" in gone.stderr, (gone.stdout, gone.stderr)
    secrets = subprocess.run([KUBECTL, "get", "secrets", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}"],
                             capture_output=True, text=True, check=True).stdout.split()
    # the fixture's Secret, and the other two releases' Secrets and release records: none of sd
    assert sorted(secrets) == ["onprem-demo-auth", "sdo-auth", "sdw-auth", "sh.helm.release.v1.sdo.v1",
                               "sh.helm.release.v1.sdw.v1"], secrets
    failed, res = waived
    assert not failed and res["changed"] is True and (res["revision"], res["status"]) == (1, "deployed"), res
    assert status(helm_binary, namespace, "sdw") == (1, "deployed")
    assert secret_value(namespace, "sdw-auth", "password") == "changeme"
    failed, res = overridden
    assert not failed and (res["revision"], res["status"]) == (1, "deployed"), res
    assert secret_value(namespace, "sdo-auth", "password") == password
    assert password not in json.dumps(res)

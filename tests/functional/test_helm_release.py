"""onprem.stack.helm_release and helm_release_info with the real helm CLI, once per
major (helm v3.10.1 and v4.1.4, the helm_binary fixture), on the example chart
examples/charts/onprem-demo: lint, packaging, rendering, manifest hashing, check mode
of a release that does not exist, a template error failing check mode, pending
recovery reported in check mode, helm_release_info's hashes, and chart_images on the
same chart. An installed release is compared with a dry-run upgrade rendered against the
cluster, which needs an API server: those decisions (no change, values, values-file and
template changes) are tested in tests/functional/test_helm_release_cluster.py against
the Molecule scenario `cluster`, and with recorded helm output in
tests/unit/modules/test_helm_release.py.

No Kubernetes API can run on the CI host (tests/functional/test_helm_release_cluster.py
installs for real where one is provided). Here helm keeps its releases in its
``memory`` storage driver (``HELM_DRIVER=memory``), loaded from the YAML file named by
``HELM_MEMORY_DRIVER_DATA`` (helm/helm cmd/helm/helm.go, pkg/cmd/root.go:
loadReleasesInMemory), and the kubeconfig points at :class:`VersionServer`, a local
HTTP server answering only ``GET /version`` (helm checks that the cluster is reachable
before reading releases: pkg/kube/client.go IsReachable). So every ``helm status``,
``helm history`` and ``helm template`` below is the real binary's output; only install,
upgrade, rollback and uninstall, which need the API, are not run.
"""
import datetime
import hashlib
import http.server
import json
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.stack.plugins.module_utils import _release, _release_run
from ansible_collections.onprem.stack.plugins.module_utils._chart import read_chart_dir, read_chart_tgz
from ansible_collections.onprem.stack.plugins.module_utils._release import marker
from ansible_collections.onprem.stack.plugins.modules import chart_images, helm_release, helm_release_info

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "examples" / "charts" / "onprem-demo"
NS = "ai"


class VersionServer:
    """A local HTTP server answering ``GET /version`` like a Kubernetes API server
    (k8s.io/apimachinery version.Info) and 404 to everything else."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (http.server's name)
                found = self.path.split("?")[0] == "/version"
                body = json.dumps({"major": "1", "minor": "31", "gitVersion": "v1.31.0"} if found else {}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class MemoryHelm:
    """The environment of the tests: helm with the memory driver holding ``releases``
    (written to a file before each helm run), a kubeconfig naming the VersionServer."""

    def __init__(self, tmp_path, server, monkeypatch):
        self.data = tmp_path / "releases.yaml"
        self.kubeconfig = tmp_path / "kubeconfig"
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "t",
            "clusters": [{"name": "t", "cluster": {"server": server.url}}],
            "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u", "namespace": NS}}],
            "users": [{"name": "u", "user": {}}]}))
        self.kubeconfig.chmod(0o600)
        self.env = {"HELM_DRIVER": "memory", "HELM_MEMORY_DRIVER_DATA": str(self.data),
                    "HELM_CACHE_HOME": str(tmp_path / "cache"), "HELM_CONFIG_HOME": str(tmp_path / "config"),
                    "HELM_DATA_HOME": str(tmp_path / "data")}
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)
        self.releases = []

    def store(self, *releases):
        self.releases = list(releases)
        self.data.write_text(yaml.safe_dump(self.releases))


@pytest.fixture(scope="module")
def version_server():
    server = VersionServer()
    yield server
    server.close()


@pytest.fixture
def mem(tmp_path, version_server, monkeypatch):
    m = MemoryHelm(tmp_path, version_server, monkeypatch)
    m.store()
    return m


def render(helm_binary, values, chart=CHART, name="demo"):
    """The manifest as `helm template --no-hooks` prints it (what a release stores)."""
    return subprocess.run([helm_binary, "template", name, str(chart), "--namespace", NS, "--no-hooks",
                           "--values", "/dev/stdin"], input=json.dumps(values), capture_output=True, text=True,
                          check=True).stdout


# The time the revisions of record() are dated from; a test that reads their age stops the module's clock here
# (frozen_clock), so the age is exactly minutes_ago however long the helm commands take on a loaded host.
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Stop the module's clock (module_utils._release.utc_now, also imported by _release_run) at NOW."""
    monkeypatch.setattr(_release, "utc_now", lambda: NOW)
    monkeypatch.setattr(_release_run, "utc_now", lambda: NOW)


def record(revision, status, values, manifest, description, minutes_ago=60, chart_version="0.1.0"):
    """A release revision in helm's storage format (helm/helm pkg/release/v1/release.go,
    info.go: the JSON field names, as the memory driver's YAML loader reads them), written
    ``minutes_ago`` before NOW."""
    when = NOW - datetime.timedelta(minutes=minutes_ago)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"name": "demo", "namespace": NS, "version": revision,
            "info": {"status": status, "first_deployed": stamp, "last_deployed": stamp, "description": description},
            "chart": {"metadata": {"apiVersion": "v2", "name": "onprem-demo", "version": chart_version,
                                   "appVersion": "1.0.0"}},
            "config": values, "manifest": manifest}


def args(helm_binary, mem, **kw):
    base = {"name": "demo", "namespace": NS, "chart": str(CHART), "helm_binary": helm_binary,
            "kubeconfig": str(mem.kubeconfig)}
    base.update(kw)
    return base


def deployed(helm_binary, values, chart=CHART):
    """Revision 1 as helm_release would have left it: deployed, with the values, the
    rendered manifest and the module's chart record in the description."""
    desc = marker(read_chart_dir(str(chart)))
    return record(1, "deployed", values, render(helm_binary, values, chart), desc)


def verbs(res):
    return [c[1] for c in res["commands"]]


def test_lint_and_package(helm_binary, tmp_path):
    """The example chart lints clean (strict), and its packaged archive has the same
    content digest as the directory (helm_release sees no change moving to the bundle)."""
    lint = subprocess.run([helm_binary, "lint", "--strict", str(CHART)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0 and "1 chart(s) linted, 0 chart(s) failed" in lint.stdout, lint.stdout + lint.stderr
    subprocess.run([helm_binary, "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True)
    tgz = read_chart_tgz(str(tmp_path / "onprem-demo-0.1.0.tgz"))
    local = read_chart_dir(str(CHART))
    assert (tgz.name, tgz.version, tgz.app_version) == ("onprem-demo", "0.1.0", "1.0.0")
    assert tgz.digest == local.digest and tgz.crds_digest == local.crds_digest != "none"
    assert sorted(tgz.crds) == ["crds/demoplugins.yaml"]


def test_rendering_has_every_object(helm_binary):
    docs = [d for d in yaml.safe_load_all(render(helm_binary, {})) if d]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["Deployment", "Ingress", "PersistentVolumeClaim", "Service"]
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["demo.example.internal"], "secretName": "onprem-demo-tls"}]
    dep = next(d for d in docs if d["kind"] == "Deployment")
    env = dep["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "onprem-demo-auth", "key": "admin-password"}


def test_check_mode_new_release(run_module, helm_binary, mem):
    failed, res = run_module(helm_release.main, args(helm_binary, mem), check=True, diff=True)
    assert not failed, res
    assert res["changed"] is True
    assert res["changed_reasons"] == ["release does not exist: install chart onprem-demo-0.1.0"]
    assert (res["revision"], res["status"], res["chart"], res["app_version"]) == (0, "", "onprem-demo-0.1.0", "1.0.0")
    assert verbs(res) == ["version", "status", "template"]
    assert "kind: Deployment" in res["diff"][1]["after"] and res["diff"][1]["before"] == ""


def test_template_error_fails_check_mode(run_module, helm_binary, mem):
    failed, res = run_module(helm_release.main, args(helm_binary, mem, values={"ingress": {"host": ""}}), check=True)
    assert failed, res
    assert "rendering chart" in res["msg"] and "ingress.host is required" in res["stderr"], res
    assert not {"install", "upgrade"} & set(verbs(res))


@pytest.mark.usefixtures("frozen_clock")
def test_pending_upgrade(run_module, helm_binary, mem):
    values = {}
    good = deployed(helm_binary, values)
    pending = record(2, "pending-upgrade", {"image": {"tag": "9"}}, good["manifest"], "Preparing upgrade",
                     minutes_ago=30, chart_version="0.2.0")
    mem.store(good, pending)
    failed, res = run_module(helm_release.main, args(helm_binary, mem), check=True)
    assert failed and "is pending-upgrade: revision 2 started 1800s ago" in res["msg"], res["msg"]
    assert "recover_pending" in res["msg"]
    failed, res = run_module(helm_release.main, args(helm_binary, mem, recover_pending=True), check=True)
    assert not failed, res
    assert res["changed_reasons"][0].startswith("would recover: pending-upgrade revision 2 (1800s old)"), res
    assert res["changed_reasons"][0].endswith("rolled back to revision 1 (deployed)")
    assert verbs(res) == ["version", "status", "history"]


def test_info_hashes_what_helm_release_compares(run_module, helm_binary, mem):
    values = {"replicaCount": 2}
    rel = deployed(helm_binary, values)
    mem.store(rel)
    failed, res = run_module(helm_release_info.main, {"name": "demo", "namespace": NS, "helm_binary": helm_binary,
                                                      "kubeconfig": str(mem.kubeconfig)})
    assert not failed, res
    assert res["exists"] is True and res["status"] == "deployed" and res["revision"] == 1
    assert res["values"] == values and res["chart"] == "onprem-demo-0.1.0" and res["app_version"] == "1.0.0"
    want = hashlib.sha256(render(helm_binary, values).strip().encode()).hexdigest()
    assert res["manifest_sha256"] == want
    assert [h["revision"] for h in res["history"]] == [1]
    failed, res = run_module(helm_release_info.main, {"name": "nope", "namespace": NS, "helm_binary": helm_binary,
                                                      "kubeconfig": str(mem.kubeconfig)})
    assert not failed and res["exists"] is False and res["revision"] == 0, res


def test_chart_images_on_the_example_chart(run_module, helm_binary):
    failed, res = run_module(chart_images.main, {"charts": [{"chart": str(CHART), "release": "demo"}],
                                                 "helm_binary": helm_binary})
    assert not failed, res
    assert [i["ref"] for i in res["images"]] == ["docker.io/library/busybox:1.36.1",
                                                 "ghcr.io/onprem-stack/demo-web:1.0.0"]

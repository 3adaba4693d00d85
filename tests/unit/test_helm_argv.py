"""The exact helm command lines module_utils/_helm.py builds, for every option, under
helm 3 (v3.10.1) and helm 4 (v4.1.4). Each flag was checked against `helm <command>
--help` of both binaries; tests/functional/test_helm_cli.py checks the per-major ones
against the real binaries.

No helm runs here: _Module.run_command answers `helm version` with the bare version
string (helm's output for --template '{{ .Version }}') and every other command with
``out`` (JSON where the caller parses it)."""
import json

import pytest

from ansible_collections.onprem.stack.plugins.module_utils._helm import (
    Cluster, Helm, HelmError, ReleaseParams, TemplateParams)
from ansible_collections.onprem.stack.plugins.module_utils._kubectl import Kubectl
from ansible_collections.onprem.stack.plugins.module_utils._release import manifest_sha256, manifest_sources, parse_time

VERSIONS = {3: "v3.10.1", 4: "v4.1.4"}
RELEASE_JSON = json.dumps({"name": "demo", "namespace": "ai", "version": 2, "info": {"status": "deployed"}})


class _Module:
    def __init__(self, tmpdir, major, out=RELEASE_JSON, rc=0, err=""):
        self.tmpdir, self.major, self.out, self.rc, self.err = str(tmpdir), major, out, rc, err
        self.commands, self.kwargs = [], []

    def run_command(self, cmd, **kw):
        self.commands.append(cmd)
        self.kwargs.append(kw)
        if cmd[1] == "version":
            return 0, VERSIONS[self.major], ""
        return self.rc, self.out, self.err

    def get_bin_path(self, name, required=False):
        return "/usr/bin/" + name


@pytest.fixture(params=[3, 4], ids=["helm3", "helm4"])
def major(request):
    return request.param


def _helm(tmp_path, major, **kw):
    module = _Module(tmp_path, major, **kw)
    return Helm(module, "/opt/helm"), module


CLUSTER = Cluster("ai", "/etc/rancher/k3s/k3s.yaml", "site")
CLUSTER_ARGS = ["--namespace", "ai", "--kubeconfig", "/etc/rancher/k3s/k3s.yaml", "--kube-context", "site"]


def test_cluster_args_default():
    assert Cluster("ai").args() == ["--namespace", "ai"]


def test_install_every_option(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    params = ReleaseParams("demo", "/srv/charts/demo.tgz", {"a": 1}, "onprem.stack.helm_release: name=demo",
                           wait=True, timeout=120, atomic=True, create_namespace=True, replace=True)
    rel = helm.install(CLUSTER, params)
    assert rel["version"] == 2
    cmd = module.commands[-1]
    vfile = cmd[cmd.index("--values") + 1]
    want = ["/opt/helm", "install", "demo", "/srv/charts/demo.tgz"] + CLUSTER_ARGS + [
        "--create-namespace", "--replace", "--values", vfile, "--description", "onprem.stack.helm_release: name=demo"]
    want += {3: ["--wait", "--atomic"], 4: ["--wait=watcher", "--rollback-on-failure"]}[major]
    want += ["--timeout", "120s", "--output", "json"]
    assert cmd == want
    assert vfile.startswith(str(tmp_path)) and not (tmp_path / vfile).exists(), "values file removed after helm ran"
    assert helm.commands[-1] == want


def test_install_minimal(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    helm.install(Cluster("ai"), ReleaseParams("demo", "/c", wait=False, atomic=False, timeout=300))
    cmd = module.commands[-1]
    assert cmd[:6] == ["/opt/helm", "install", "demo", "/c", "--namespace", "ai"]
    assert cmd[8:] == ["--timeout", "300s", "--output", "json"]
    assert not {"--wait", "--wait=watcher", "--atomic", "--rollback-on-failure", "--create-namespace"} & set(cmd)


def test_upgrade_every_option(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    helm.upgrade(CLUSTER, ReleaseParams("demo", "/srv/charts/demo", {}, "d", wait=True, timeout=600, atomic=True,
                                        create_namespace=True))
    cmd = module.commands[-1]
    vfile = cmd[cmd.index("--values") + 1]
    want = ["/opt/helm", "upgrade", "demo", "/srv/charts/demo"] + CLUSTER_ARGS + [
        "--reset-values", "--values", vfile, "--description", "d"]
    want += {3: ["--wait", "--atomic", "--timeout", "600s"],
             4: ["--wait=watcher", "--rollback-on-failure", "--timeout", "600s", "--server-side=auto"]}[major]
    assert cmd == want + ["--output", "json"]
    assert "--create-namespace" not in cmd, "helm creates namespaces on install only"


def test_upgrade_without_wait_or_atomic(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    helm.upgrade(Cluster("ai"), ReleaseParams("demo", "/c", wait=False, atomic=False))
    assert not {"--wait", "--wait=watcher", "--atomic", "--rollback-on-failure"} & set(module.commands[-1])


def test_values_file_content_and_mode(tmp_path, major):
    seen = []

    class Spy(_Module):
        def run_command(self, cmd, **kw):
            if cmd[1] == "upgrade":
                import os
                vfile = cmd[cmd.index("--values") + 1]
                seen.append((json.loads(open(vfile).read()), os.stat(vfile).st_mode & 0o777))
            return super().run_command(cmd, **kw)

    helm = Helm(Spy(tmp_path, major), "/opt/helm")
    helm.upgrade(Cluster("ai"), ReleaseParams("demo", "/c", {"auth": {"password": "s3cret"}}))
    assert seen == [({"auth": {"password": "s3cret"}}, 0o600)]
    assert "s3cret" not in json.dumps(helm.commands)


def test_rollback_names_the_revision(tmp_path, major):
    helm, module = _helm(tmp_path, major, out="Rollback was a success! Happy Helming!\n")
    helm.rollback(CLUSTER, "demo", 4, wait=True, timeout=90)
    wait = {3: ["--wait"], 4: ["--wait=watcher"]}[major]
    assert module.commands[-1] == ["/opt/helm", "rollback", "demo", "4"] + CLUSTER_ARGS + wait + ["--timeout", "90s"]
    helm.rollback(Cluster("ai"), "demo", 1, wait=False)
    assert module.commands[-1] == ["/opt/helm", "rollback", "demo", "1", "--namespace", "ai", "--timeout", "300s"]


def test_uninstall(tmp_path, major):
    helm, module = _helm(tmp_path, major, out='release "demo" uninstalled\n')
    helm.uninstall(CLUSTER, "demo", wait=True, timeout=60)
    wait = {3: ["--wait"], 4: ["--wait=watcher"]}[major]
    assert module.commands[-1] == ["/opt/helm", "uninstall", "demo"] + CLUSTER_ARGS + wait + ["--timeout", "60s"]


def test_status_and_history(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    assert helm.status(CLUSTER, "demo")["version"] == 2
    assert module.commands[-1] == ["/opt/helm", "status", "demo"] + CLUSTER_ARGS + ["--output", "json"]
    module.out = "[]"
    assert helm.history(CLUSTER, "demo", 5) == []
    assert module.commands[-1] == ["/opt/helm", "history", "demo"] + CLUSTER_ARGS + ["--max", "5", "--output", "json"]


def test_not_found_is_none_other_errors_raise(tmp_path, major):
    helm, module = _helm(tmp_path, major, rc=1, err="Error: release: not found\n")
    assert helm.status(Cluster("ai"), "demo") is None and helm.history(Cluster("ai"), "demo") == []
    module.err = "Error: Kubernetes cluster unreachable: Get \"https://10.0.0.1:6443/version\": dial tcp: i/o timeout\n"
    with pytest.raises(HelmError, match="helm status failed: Error: Kubernetes cluster unreachable") as exc:
        helm.status(Cluster("ai"), "demo")
    assert exc.value.rc == 1 and exc.value.cmd[1] == "status" and "unreachable" in exc.value.stderr


def test_not_json_is_an_error(tmp_path, major):
    helm, module = _helm(tmp_path, major, out="NAME: demo\n")
    with pytest.raises(HelmError, match="helm status printed no JSON for release demo"):
        helm.status(Cluster("ai"), "demo")


def test_list_every_status(tmp_path, major):
    """helm 3 lists only deployed and failed releases without --all; helm 4 lists all and has no --all."""
    helm, module = _helm(tmp_path, major, out="[]")
    helm.list_releases(Cluster("ai"))
    assert module.commands[-1] == ["/opt/helm", "list", "--namespace", "ai"] + {3: ["--all"], 4: []}[major] + [
        "--output", "json"]
    helm.list_releases(Cluster("ai"), all_namespaces=True)
    assert "--all-namespaces" in module.commands[-1]


def test_template_for_comparison(tmp_path, major):
    helm, module = _helm(tmp_path, major, out="---\nkind: X\n")
    helm.template(TemplateParams("demo", "/c", "ai", {"a": 1}, kube_version="1.31.0", include_crds=False,
                                 no_hooks=True))
    cmd = module.commands[-1]
    assert cmd[:9] == ["/opt/helm", "template", "demo", "/c", "--no-hooks", "--namespace", "ai", "--kube-version",
                       "1.31.0"]
    assert "--include-crds" not in cmd and cmd[-2] == "--values"


def test_registry_login_password_on_stdin_only(tmp_path, major):
    helm, module = _helm(tmp_path, major, out="Login Succeeded\n")
    helm.registry_login("reg.site:5000", "ci", "Pw-42x", str(tmp_path / "reg.json"), ca_file="/etc/ca.crt")
    cmd, kw = module.commands[-1], module.kwargs[-1]
    want = ["/opt/helm", "registry", "login", "reg.site:5000", "--username", "ci", "--password-stdin",
            "--registry-config", str(tmp_path / "reg.json")]
    if major == 4:
        assert cmd == want + ["--ca-file", "/etc/ca.crt"] and "SSL_CERT_FILE" not in kw["environ_update"]
    else:  # helm v3.10.1's registry login has no --ca-file
        assert cmd == want and kw["environ_update"]["SSL_CERT_FILE"] == "/etc/ca.crt"
    assert kw["data"] == "Pw-42x" and "Pw-42x" not in json.dumps(module.commands)


def test_pull_with_registry_config(tmp_path, major):
    dest = tmp_path / "d"
    dest.mkdir()

    class Puller(_Module):
        def run_command(self, cmd, **kw):
            if cmd[1] == "pull":
                (dest / "demo-0.1.0.tgz").write_bytes(b"x")
            return super().run_command(cmd, **kw)

    module = Puller(tmp_path, major)
    path = Helm(module, "/opt/helm").pull("oci://reg/charts/demo", str(dest), "0.1.0", ca_file="/ca",
                                          registry_config="/tmp/r.json")
    assert path == str(dest / "demo-0.1.0.tgz")
    assert module.commands[-1] == ["/opt/helm", "pull", "oci://reg/charts/demo", "--destination", str(dest),
                                   "--version", "0.1.0", "--ca-file", "/ca", "--registry-config", "/tmp/r.json"]


def test_secrets_masked_in_recorded_commands(tmp_path, major):
    helm, module = _helm(tmp_path, major)
    helm.secrets.add("Top-Secret")
    assert helm.masked(["helm", "pull", "x", "--password", "p1", "--password=p2", "-p", "p3", "a=Top-Secret"]) == [
        "helm", "pull", "x", "--password", "********", "--password=********", "-p", "********", "a=********"]


def test_failure_carries_rc_output_and_command(tmp_path, major):
    err = "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n"
    helm, module = _helm(tmp_path, major, rc=1, out="", err=err)
    with pytest.raises(HelmError) as exc:
        helm.upgrade(Cluster("ai"), ReleaseParams("demo", "/c"))
    assert str(exc.value) == "helm upgrade failed: Error: UPGRADE FAILED: another operation " \
                             "(install/upgrade/rollback) is in progress"
    assert exc.value.rc == 1 and exc.value.cmd[:3] == ["/opt/helm", "upgrade", "demo"]


def test_kubectl_apply_crds(tmp_path):
    module = _Module(tmp_path, 4, out="applied\n")
    commands = []
    Kubectl(module, None, commands).apply_server_side(["/t/a.yaml", "/t/b.yaml"], "/k", "site")
    assert commands == module.commands == [["/usr/bin/kubectl", "apply", "--server-side", "--force-conflicts",
                                            "--field-manager=onprem.stack.helm_release", "--kubeconfig", "/k",
                                            "--context", "site", "-f", "/t/a.yaml", "-f", "/t/b.yaml"]]


@pytest.mark.parametrize("text,iso", [
    ("2025-03-01T10:00:00.123456789Z", "2025-03-01T10:00:00.123456+00:00"),   # helm 3/4 JSON, nanoseconds
    ("2025-03-02T10:00:00.5Z", "2025-03-02T10:00:00.500000+00:00"),
    ("2025-03-03T12:00:00+02:00", "2025-03-03T10:00:00+00:00"),               # local zone offset
])
def test_parse_time(text, iso):
    assert parse_time(text).isoformat() == iso


def test_parse_time_zero_and_garbage():
    assert parse_time("") is None and parse_time(None) is None
    with pytest.raises(HelmError, match="expected RFC 3339"):
        parse_time("Mon Oct  3 10:15:13 2016")


def test_manifest_sources_and_hash():
    text = ("\n---\n# Source: demo/templates/a.yaml\nkind: A\n---\n# Source: demo/charts/db/templates/b.yaml\n"
            "kind: B\n---\n# Source: demo/templates/a.yaml\nkind: A2\n\n")
    assert manifest_sources(text) == {
        "templates/a.yaml": "# Source: demo/templates/a.yaml\nkind: A\n---\n# Source: demo/templates/a.yaml\nkind: A2",
        "charts/db/templates/b.yaml": "# Source: demo/charts/db/templates/b.yaml\nkind: B"}
    assert manifest_sha256(text) == manifest_sha256(text.strip() + "\n\n")

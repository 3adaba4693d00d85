"""Preflight refuses a platform release whose chart renders an image the loaded bundle lacks
(issue 20, section 2 "Images"): with a registry group k3s pulls only through the site
registry (disable-default-registry-endpoint), which holds only bundle.json's images.

Real programs throughout: the module onprem.stack.chart_images (the one the bundle finds its
images with) runs the real helm CLI (scripts/install-helm.sh; helm 3 and helm 4 through the
helm_binary fixture) on the chart tests/fixtures/charts/webapp, and bundle.json is written by
module_utils/_bundle.py's build_manifest and write_manifest, as the module onprem.stack.bundle
writes it. The first tests drive the check's Python (module_utils/_bundle_images.py) around a
chart_images run; the last ones run the real playbooks/preflight.yml on this host (local
connection) to prove the wiring: a missing image is refused naming the release and the image,
the same inventory with the image in the bundle passes, and without a registry group nothing
is checked. The host checks that measure this CI host (resources, time sync, ports, the other
roles' input) are switched off with their own variables. Cost: helm renders in about a second
each; three ansible-playbook runs, 40-75 s each on the loaded 2-core host (2026-12, measured).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.stack.plugins.module_utils._bundle import build_manifest, write_manifest
from ansible_collections.onprem.stack.plugins.module_utils._bundle_images import (
    PLACEHOLDER, charts_to_render, missing_images)
from ansible_collections.onprem.stack.plugins.modules import chart_images
from skips import skip_missing_tool, tool_path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "tests" / "fixtures" / "charts" / "webapp"
DIGEST = "sha256:" + "b" * 64
# What tests/fixtures/charts/webapp renders with its own values (tests/functional/test_chart_images.py).
WEBAPP_IMAGES = [
    "docker.io/library/busybox:1.36",
    "docker.io/library/postgres:17",
    "docker.io/library/redis:7.2@sha256:" + "a" * 64,
    "ghcr.io/example/web:1.0",
    "quay.io/example/debug:latest",
    "registry.example:5000/app/migrate:2.0",
]


def _bundle(path: Path, refs) -> Path:
    """A bundle directory whose bundle.json lists ``refs`` (the way onprem.stack.bundle writes it)."""
    path.mkdir(parents=True, exist_ok=True)
    images = [{"ref": r, "digest": r.split("@", 1)[1] if "@" in r else DIGEST, "platform": "linux/amd64"} for r in refs]
    write_manifest(str(path), build_manifest([], images=images, inputs={"charts": ["webapp"]}))
    return path


def _check(run_module, helm_binary, releases, bundle: Path, base_dir: Path = REPO) -> list:
    """The check as the platform role's tasks/bundle_images.yml runs it: charts_to_render, the
    chart_images module, missing_images."""
    plan = charts_to_render(releases, str(base_dir), str(bundle), helm_binary=helm_binary)
    images = []
    if plan["charts"]:
        failed, res = run_module(chart_images.main, {"charts": plan["charts"], "helm_binary": plan["helm"]})
        assert not failed, res
        images = res["images"]
    return missing_images(images, plan["releases"], str(bundle), problems=plan["problems"])


def test_image_absent_from_bundle_is_named_with_the_release(run_module, helm_binary, tmp_path):
    bundle = _bundle(tmp_path / "bundle", [r for r in WEBAPP_IMAGES if "postgres" not in r])
    problems = _check(run_module, helm_binary, [{"name": "web", "namespace": "apps", "chart": str(CHART)}], bundle)
    assert len(problems) == 1, problems
    msg = problems[0]
    assert "release apps/web (chart %s)" % CHART in msg
    assert "docker.io/library/postgres:17" in msg and "busybox" not in msg
    assert str(bundle / "bundle.json") in msg
    assert "bundle_charts with the same values" in msg and "bundle_extra_images" in msg and "rebuild" in msg


def test_every_image_in_the_bundle_passes(run_module, helm_binary, tmp_path):
    bundle = _bundle(tmp_path / "bundle", WEBAPP_IMAGES)
    assert _check(run_module, helm_binary, [{"name": "web", "namespace": "apps", "chart": str(CHART)}], bundle) == []


def test_site_values_decide_the_images(run_module, helm_binary, tmp_path):
    """The release's values (a values file, then values with a credential reference, then
    set_values) are the ones rendered: the bundle built for tag 1.0 lacks tag 1.2."""
    bundle = _bundle(tmp_path / "bundle", WEBAPP_IMAGES)
    (tmp_path / "web.yml").write_text("image: {tag: '1.1'}\nbackup: {enabled: false}\n", encoding="utf-8")
    release = {"name": "web", "namespace": "apps", "chart": str(CHART), "values_files": ["web.yml"],
               "values": {"auth": {"password": {"from": {"credential": "site/web/admin"}}}},
               "set_values": [{"value": "image.tag=1.2", "value_type": "string"}]}
    plan = charts_to_render([release], str(tmp_path), str(bundle), helm_binary=helm_binary)
    assert plan["charts"][0]["values"] == {"image": {"tag": "1.2"}, "backup": {"enabled": False},
                                           "auth": {"password": PLACEHOLDER}}
    problems = _check(run_module, helm_binary, [release], bundle, base_dir=tmp_path)
    assert len(problems) == 1 and "ghcr.io/example/web:1.2" in problems[0], problems
    assert "postgres" not in problems[0], "backup disabled by the values file: its image is not needed"


def test_oci_chart_not_in_the_bundle_is_the_error(helm_binary, tmp_path):
    bundle = _bundle(tmp_path / "bundle", WEBAPP_IMAGES)
    release = {"name": "web", "namespace": "apps", "chart": "oci://registry.site:5000/charts/webapp",
               "version": "1.0.0"}
    plan = charts_to_render([release], str(tmp_path), str(bundle), helm_binary=helm_binary)
    assert plan["charts"] == [] and len(plan["problems"]) == 1
    assert "release apps/web" in plan["problems"][0]
    assert str(bundle / "charts" / "webapp-1.0.0.tgz") in plan["problems"][0]
    assert "bundle_charts" in plan["problems"][0]
    # The bundle's copy (charts/<name>-<version>.tgz, as chart_fetch writes it) is rendered instead.
    (bundle / "charts").mkdir()
    subprocess.run([helm_binary, "package", str(CHART), "-d", str(bundle / "charts")], check=True, capture_output=True)
    plan = charts_to_render([release], str(tmp_path), str(bundle), helm_binary=helm_binary)
    assert plan["problems"] == [] and plan["charts"][0]["chart"] == str(bundle / "charts" / "webapp-1.0.0.tgz")


# The real preflight playbook.

def _inventory(tmp_path: Path, registry: bool) -> Path:
    hosts = {"s1": ["k3s_server"]}
    if registry:
        hosts["r1"] = ["registry"]
    inv: dict = {"all": {"hosts": {}, "children": {}}}
    for name, groups in hosts.items():
        inv["all"]["hosts"][name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        for group in groups:
            inv["all"]["children"].setdefault(group, {"hosts": {}})["hosts"][name] = {}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv), encoding="utf-8")
    return path


def _preflight(tmp_path: Path, bundle: Path, registry: bool = True) -> subprocess.CompletedProcess:
    helm = tool_path("helm")
    if not helm:
        skip_missing_tool("helm", "scripts/install-helm.sh")
    extra = {
        "stack_airgap": False, "registry_load_bundle": True, "stack_bundle_dir": str(bundle),
        "stack_credentials_dir": str(tmp_path / "credentials"), "preflight_helm_binary": helm,
        "platform_releases": [{"name": "web", "namespace": "apps", "chart": str(CHART)}],
        # This CI host is measured by other tests; here only the bundle check matters.
        "preflight_validate_roles": False, "preflight_time_sync_required": False, "preflight_ports": {},
        "preflight_requirements": {}, "preflight_k3s_swap_off": False, "preflight_kernel_features": [],
    }
    (tmp_path / "extra.json").write_text(json.dumps(extra), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "playbooks/preflight.yml",
         "-i", str(_inventory(tmp_path, registry)), "-e", f"@{tmp_path / 'extra.json'}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(name="partial_bundle")
def fixture_partial_bundle(tmp_path):
    return _bundle(tmp_path / "bundle", [r for r in WEBAPP_IMAGES if "quay.io" not in r])


def test_preflight_refuses_a_release_image_missing_from_the_bundle(tmp_path, partial_bundle):
    proc = _preflight(tmp_path, partial_bundle)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, out
    assert "release apps/web (chart %s) renders 1 image(s) that are not in the bundle" % CHART in out, out
    assert "quay.io/example/debug:latest" in out and "bundle_extra_images" in out, out
    assert "changed=0" in out and "changed=1" not in out, out


def test_preflight_passes_with_every_image_in_the_bundle(tmp_path):
    proc = _preflight(tmp_path, _bundle(tmp_path / "bundle", WEBAPP_IMAGES))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "every image of 1 release(s) is in" in out, out[-4000:]


def test_preflight_without_registry_group_does_not_check(tmp_path, partial_bundle):
    proc = _preflight(tmp_path, partial_bundle, registry=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Bundle images" not in out, out[-4000:]

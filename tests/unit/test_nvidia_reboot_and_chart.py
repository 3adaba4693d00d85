"""Issue 19, fault 11 (GPU parts).

1. A GPU host's reboot (to load the driver) happens one host at a time, drained first
   when it is a k3s node, and uncordoned only once its node is back (roles/k3s entry
   points drain and uncordon): three GPU servers rebooting together lose etcd quorum.
   Checked on the playbook and task files themselves: every ansible.builtin.reboot of
   the role runs only in a play with ``serial: 1``, after the drain and before the
   uncordon.
2. The device plugin's chart defaults to NVIDIA's chart repository on a connected site and
   to the bundle only with stack_airgap (it defaulted to the bundle everywhere).
"""
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

# tests/unit is on sys.path (pytest's rootdir insertion): the loader fixture and the role's variables
from test_gpu_node_taints import _plugin_loader, role_vars  # noqa: F401  pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "nvidia"
LOADER = DataLoader()


def _yaml(path):
    return yaml.safe_load(path.read_text()) or []


def _walk(tasks):
    """Every task (dict) of a task list, blocks flattened, in order."""
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from _walk(task[key])
        if not any(k in task for k in ("block", "rescue", "always")):
            yield task


def _role_files_with_reboot():
    return sorted(p.name for p in (ROLE / "tasks").glob("*.yml")
                  if any("ansible.builtin.reboot" in t for t in _walk(_yaml(p))))


def test_the_reboot_lives_in_the_reboot_entry_point_only():
    """main.yml runs in the parallel play; the reboot must not be reachable from it."""
    assert _role_files_with_reboot() == ["reboot.yml"]
    main_imports = [t.get("ansible.builtin.import_tasks") or t.get("ansible.builtin.include_tasks")
                    for t in _walk(_yaml(ROLE / "tasks" / "main.yml"))]
    assert "reboot.yml" not in main_imports


def test_reboot_entry_point_drains_reboots_uncordons_in_order():
    tasks = list(_walk(_yaml(ROLE / "tasks" / "reboot.yml")))
    names = []
    for t in tasks:
        inc = t.get("ansible.builtin.include_role") or {}
        if inc.get("name") == "onprem.stack.k3s":
            names.append("k3s:" + inc["tasks_from"])
        elif "ansible.builtin.reboot" in t:
            names.append("reboot")
    assert names == ["k3s:drain", "reboot", "k3s:uncordon"], names


def test_gpu_playbook_reboots_one_host_at_a_time():
    plays = _yaml(REPO / "playbooks" / "gpu.yml")
    reboot_plays = [p for p in plays if any(
        (t.get("ansible.builtin.include_role") or {}).get("tasks_from") == "reboot" for t in _walk(p.get("tasks")))]
    assert len(reboot_plays) == 1, "playbooks/gpu.yml must run the role's reboot entry point in one play"
    play = reboot_plays[0]
    assert play.get("serial") == 1 and play.get("max_fail_percentage") == 0, play
    # and comes after the play that builds the driver
    assert plays.index(play) > next(i for i, p in enumerate(plays) if "onprem.stack.nvidia" in str(p.get("roles")))


# ---- the device plugin chart -----------------------------------------------------------

def _chart(**inventory):
    tasks = LOADER.load_from_file(str(ROLE / "tasks" / "device_plugin.yml"), trusted_as_template=True)
    release = next(t for t in _walk(tasks) if "nvidia_device_plugin_release" in (t.get("ansible.builtin.set_fact") or {}))
    variables = role_vars()
    variables.update(release.get("vars") or {})
    variables.update(inventory)
    variables["stack_bundle_dir"] = "/srv/bundle"
    expr = release["ansible.builtin.set_fact"]["nvidia_device_plugin_release"]["chart"]
    return Templar(loader=LOADER, variables=variables).template(expr).strip()


# The pinned chart version (roles/nvidia/defaults/main.yml; docs/versions.md moves it).
PLUGIN_VERSION = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["nvidia_device_plugin_version"]


def test_connected_site_gets_the_chart_from_nvidia():
    chart = _chart(stack_airgap=False, _nvidia_chart_cache="/home/op/.cache/onprem-stack/charts")
    assert chart == "/home/op/.cache/onprem-stack/charts/nvidia-device-plugin-%s.tgz" % PLUGIN_VERSION
    assert "bundle" not in chart


def test_airgapped_site_gets_the_chart_from_the_bundle():
    assert _chart(stack_airgap=True).endswith("/charts/nvidia-device-plugin-%s.tgz" % PLUGIN_VERSION)
    assert _chart(stack_airgap=True).startswith("/srv/bundle")


def test_explicit_chart_wins():
    assert _chart(stack_airgap=False, nvidia_device_plugin_chart="oci://reg.site:5000/charts/nvidia-device-plugin") \
        == "oci://reg.site:5000/charts/nvidia-device-plugin"


@pytest.mark.parametrize("var,value,words", [
    ("nvidia_device_plugin_chart_url", "http://nvidia.github.io/x.tgz", "must be an https:// URL"),
    ("nvidia_device_plugin_chart_sha256", "abc", "must be empty or a sha256"),
])
def test_validator_names_bad_chart_source(var, value, words):
    from ansible_collections.onprem.stack.plugins.module_utils._validate import nvidia  # pylint: disable=import-outside-toplevel
    params = dict(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()), **{var: value})
    found = [p.message for p in nvidia.validate(params, {"toolkit_source": "repo", "stack_airgap": False})]
    assert any(words in m and var in m for m in found), found

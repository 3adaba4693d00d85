"""Which packages keep the NVIDIA kernel module working across kernel updates (issue 19,
fault 9), and which fabric manager an NVSwitch host gets (fault 10): the filter
onprem.stack.nvidia_packages, and the role's _nvidia_headers rendered as Ansible does.

Sources of the names: Debian's linux-signed-amd64/linux source packages (the
linux-headers-<flavour> metapackage depends on the newest linux-headers-<abi>-<flavour>,
so DKMS has headers for the next kernel before it boots; Debian 13 names releases
<version>+deb13-<flavour>); Ubuntu's linux-meta and linux-restricted-modules
(linux-headers-generic[-hwe-<release>], linux-modules-nvidia-<branch>-server[-open]-<flavour>
which depends on the module package of the newest kernel of that flavour; HWE flavours
carry -hwe-<release> when the kernel is not the release's GA kernel); Ubuntu's
nvidia-fabricmanager-<branch> (multiverse; Debian has no fabric manager package).
"""
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

# tests/unit is on sys.path (pytest's rootdir insertion): the loader fixture and the role's variables
from test_gpu_node_taints import _plugin_loader, role_vars  # noqa: F401  pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "nvidia"
LOADER = DataLoader()


def _pk(*args, **kwargs):
    from ansible_collections.onprem.stack.plugins.filter.nvidia_packages import nvidia_packages  # pylint: disable=import-outside-toplevel
    return nvidia_packages(*args, **kwargs)


def _role(expr, facts, **inventory):
    """``expr`` rendered with the role's defaults, OS vars and vars/main.yml for ``facts``."""
    variables = role_vars(facts["distribution"] + ".yml", "%s-%s.yml" % (facts["distribution"],
                                                                         facts["distribution_major_version"]))
    variables.update(inventory)
    variables["ansible_facts"] = facts
    return Templar(loader=LOADER, variables=variables).template(trust_as_template(expr))


DEBIAN12 = {"distribution": "Debian", "distribution_major_version": "12", "distribution_version": "12.9",
            "kernel": "6.1.0-18-amd64"}
UBUNTU22 = {"distribution": "Ubuntu", "distribution_major_version": "22", "distribution_version": "22.04",
            "kernel": "6.8.0-45-generic"}


# ---- the role's wiring -----------------------------------------------------------------

def test_role_debian_headers_follow_the_next_kernel():
    assert _role("{{ _nvidia_headers }}", DEBIAN12) == ["linux-headers-6.1.0-18-amd64", "linux-headers-amd64"]


def test_role_explicit_headers_are_kept():
    assert _role("{{ _nvidia_headers }}", DEBIAN12, nvidia_kernel_headers_packages=["linux-headers-6.1.0-17-amd64"]) \
        == ["linux-headers-6.1.0-17-amd64"]


def test_role_ubuntu_precompiled_follows_the_next_kernel():
    got = _role("{{ _nvidia_packages['precompiled'] }}", UBUNTU22)
    assert got == ["linux-modules-nvidia-550-server-6.8.0-45-generic", "linux-modules-nvidia-550-server-generic-hwe-22.04"]


# ---- the filter ------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,meta", [
    ("6.1.0-18-amd64", "linux-headers-amd64"),
    ("6.1.0-18-cloud-amd64", "linux-headers-cloud-amd64"),
    ("6.1.0-18-rt-amd64", "linux-headers-rt-amd64"),
    ("6.1.0-18-arm64", "linux-headers-arm64"),
    ("6.12.57+deb13-amd64", "linux-headers-amd64"),
    ("6.12.57+deb13-cloud-amd64", "linux-headers-cloud-amd64"),
    ("6.10.11+bpo-amd64", "linux-headers-amd64"),
])
def test_debian_headers(kernel, meta):
    got = _pk(kernel, "Debian", "12")
    assert got["headers"] == ["linux-headers-" + kernel, meta] and got["follows_kernel"] is True
    assert _pk(kernel, "Debian", "12", branch="535")["precompiled"] == [] and got["fabric_manager"] == []


@pytest.mark.parametrize("kernel,release,meta", [
    ("5.15.0-125-generic", "22.04", "generic"),
    ("6.8.0-45-generic", "22.04", "generic-hwe-22.04"),
    ("6.8.0-45-generic", "24.04", "generic"),
    ("6.11.0-19-generic", "24.04", "generic-hwe-24.04"),
    ("6.8.0-1015-aws", "24.04", "aws"),
    ("6.8.0-45-lowlatency", "22.04", "lowlatency-hwe-22.04"),
    ("5.15.0-125-generic-64k", "22.04", "generic-64k"),
])
def test_ubuntu_headers_and_precompiled(kernel, release, meta):
    dkms = _pk(kernel, "Ubuntu", release, branch="550")
    assert dkms["headers"] == ["linux-headers-" + kernel, "linux-headers-" + meta]
    pre = _pk(kernel, "Ubuntu", release, branch="550", flavour="open")
    assert pre["precompiled"] == ["linux-modules-nvidia-550-server-open-" + kernel,
                                  "linux-modules-nvidia-550-server-open-" + meta]


def test_custom_kernel_has_no_metapackage():
    got = _pk("6.6.30-custom", "Debian", "12")
    assert got["headers"] == ["linux-headers-6.6.30-custom"] and got["follows_kernel"] is False


def test_explicit_headers_win():
    got = _pk("6.1.0-18-amd64", "Debian", "12", headers=["linux-headers-6.1.0-20-amd64"])
    assert got["headers"] == ["linux-headers-6.1.0-20-amd64"]


def test_fabric_manager():
    assert _pk("6.8.0-45-generic", "Ubuntu", "24.04", branch="550", nvswitch=True)["fabric_manager"] == \
        ["nvidia-fabricmanager-550"]
    assert _pk("6.1.0-18-amd64", "Debian", "12", branch="535", nvswitch=True)["fabric_manager"] == []
    assert _pk("6.1.0-18-amd64", "Debian", "12", branch="535", nvswitch=True,
               fabric_manager=["nvidia-fabricmanager-535"])["fabric_manager"] == ["nvidia-fabricmanager-535"]
    assert _pk("6.8.0-45-generic", "Ubuntu", "24.04", branch="550")["fabric_manager"] == []


@pytest.mark.parametrize("args,kwargs,words", [
    (("", "Debian", "12"), {}, "kernel release"),
    (("6.1.0-18-amd64", "Fedora", "40"), {}, "Debian or Ubuntu"),
    (("6.8.0-45-generic", "Ubuntu", "24.04"), {"nvswitch": True}, "branch"),
    (("6.8.0-45-generic", "Ubuntu", "24.04"), {"branch": "55"}, "three digits"),
    (("6.1.0-18-amd64", "Debian", "12"), {"headers": "linux-headers-amd64"}, "nvidia_kernel_headers_packages"),
])
def test_bad_input_named(args, kwargs, words):
    with pytest.raises(AnsibleFilterError, match=words):
        _pk(*args, **kwargs)


def _driver_task(name_start):
    tasks = LOADER.load_from_file(str(ROLE / "tasks" / "driver.yml"), trusted_as_template=True)
    return next(t for t in tasks if t["name"].startswith(name_start))


NVSWITCH_FACTS = {"fabric_manager_needed": True, "nvswitch_count": 4,
                  "nvswitches": [{"pci_address": "0000:0%d:00.0" % i, "device_id": "0x22a3"} for i in range(5, 9)]}


def test_role_nvswitch_host_stops_on_debian_before_any_change():
    """Debian has no fabric manager package: the assert before any install fails, naming the package and branch."""
    task = _driver_task("Driver | a host with NVSwitches")["ansible.builtin.assert"]
    debian = dict(DEBIAN12, onprem_gpu=NVSWITCH_FACTS)
    assert _role("{{ %s }}" % task["that"], debian) is False
    message = " ".join(_role(task["fail_msg"], debian, inventory_hostname="hgx1").split())
    assert "4 NVSwitch(es)" in message and "nvidia-fabricmanager-535" in message and "nvidia_fabricmanager_packages" in message
    assert _role("{{ %s }}" % task["that"], debian, nvidia_fabricmanager_packages=["nvidia-fabricmanager-535"]) is True
    assert _role("{{ %s }}" % task["that"], dict(DEBIAN12, onprem_gpu={"fabric_manager_needed": False})) is True


def test_role_nvswitch_host_gets_ubuntu_fabric_manager():
    ubuntu = dict(UBUNTU22, onprem_gpu=NVSWITCH_FACTS)
    assert _role("{{ _nvidia_packages['fabric_manager'] }}", ubuntu) == ["nvidia-fabricmanager-550"]
    task = _driver_task("Driver | a host with NVSwitches")["ansible.builtin.assert"]
    assert _role("{{ %s }}" % task["that"], ubuntu) is True

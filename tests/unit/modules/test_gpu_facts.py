"""onprem.stack.gpu_facts on fixture trees of a host's /sys, /proc, /lib/modules and /usr/src.

The trees are built in tmp_path by the helpers below, laid out as the kernel lays out
sysfs (``/sys/bus/pci/devices/<address>`` a relative link into ``/sys/devices``, the
``driver`` link into ``/sys/bus/pci/drivers``). Attribute contents follow
``drivers/pci/pci-sysfs.c`` (``vendor``/``device`` ``0x%04x\\n``, ``class``
``0x%06x\\n``, ``numa_node`` ``%d\\n``); device ids are NVIDIA's (T4 0x1eb8, A100 SXM4
0x20b0, GA102 0x2206 with its audio function 0x1aef) and ASPEED's AST2500 BMC display
(0x1a03:0x2000). nvidia-smi cannot run here: AnsibleModule.run_command is replaced and
fed output in nvidia-smi's documented formats (nvidia-smi(1), ``--format=csv,noheader,
nounits``; ``-q`` header), quoted from public reports where named.
"""
import os

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils import _gpu
from ansible_collections.onprem.stack.plugins.modules import gpu_facts

KERNEL = "6.1.0-18-amd64"
GUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
# SecureBoot and SetupMode carry the attributes EFI_VARIABLE_BOOTSERVICE_ACCESS |
# EFI_VARIABLE_RUNTIME_ACCESS (0x06, little-endian u32), then one data byte.
EFI_ATTRS = b"\x06\x00\x00\x00"

# /proc/driver/nvidia/version as real drivers write it:
# proprietary module, quoted in github.com/zzzhouuu/truenas-nvidia-drivers/issues/19
PROPRIETARY = ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.173.02  Tue Jun 23 08:38:17 UTC 2026\n"
               "GCC version:  gcc version 14.2.0 (Ubuntu 14.2.0-4ubuntu2~24.04.1)\n")
# open kernel module built by NVIDIA (Ubuntu nvidia-driver-565-open), quoted in
# github.com/nix-community/nixGL/issues/186
OPEN = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01  Release Build  "
        "(dvs-builder@U16-A24-9-2)  Thu Oct 10 12:15:00 UTC 2024\n"
        "GCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n")
# open module from Arch's nvidia-open-dkms, trailing blanks included,
# github.com/nix-community/nixGL/issues/121
OPEN_DKMS = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  525.60.11  Release Build  "
             "(archlinux-builder@localhost)  \nGCC version:  gcc version 12.2.0 (GCC) \n")
# Jetson Orin (aarch64, version scheme of L4T), github.com/nix-community/nixGL/issues/139
OPEN_JETSON = ("NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  35.3.1  Release Build  "
               "(buildbrain@mobile-u64-6289-d7000)  Sun Mar 19 08:09:33 PDT 2023\n"
               "GCC version:  gcc version 9.3.0 (Buildroot 2020.08) \n")

# `nvidia-smi -q -d compute` as shown in NVIDIA's blueprint prerequisites (driver 535.129.03).
SMI_Q_COMPUTE = """
==============NVSMI LOG==============

Timestamp                                 : Sun Nov 26 21:17:25 2023
Driver Version                            : 535.129.03
CUDA Version                              : 12.2

Attached GPUs                             : 1
GPU 00000000:CA:00.0
    Compute Mode                          : Default

"""
# What nvidia-smi prints (on stdout, exit status 9, "NVIDIA driver is not loaded" in
# nvidia-smi(1) RETURN VALUE) when the kernel module is not loaded.
SMI_NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                 "Make sure that the latest NVIDIA driver is installed and running.\n\n")


# ---- fixture tree builders -------------------------------------------------------------

def write(root, path, data):
    """Write ``data`` (str or bytes) to the host path ``path`` below ``root``."""
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        full.write_bytes(data)
    else:
        full.write_text(data)
    return full


def link(root, path, target):
    """Make the host path ``path`` below ``root`` a symbolic link to ``target`` (as given)."""
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, full)


def pci(root, address, vendor, device, pci_class, numa=-1, driver=None, numa_file=True):
    """Add PCI device ``address`` (ints for ids and class) to the sysfs of ``root``."""
    dev = "/sys/devices/pci%s/%s" % (address[:7], address)
    write(root, dev + "/vendor", "0x%04x\n" % vendor)
    write(root, dev + "/device", "0x%04x\n" % device)
    write(root, dev + "/class", "0x%06x\n" % pci_class)
    if numa_file:
        write(root, dev + "/numa_node", "%d\n" % numa)
    link(root, "/sys/bus/pci/devices/" + address, "../../../devices/pci%s/%s" % (address[:7], address))
    if driver:
        (root / "sys/bus/pci/drivers" / driver).mkdir(parents=True, exist_ok=True)
        link(root, dev + "/driver", "../../../bus/pci/drivers/" + driver)


def host(root, kernel=KERNEL):
    """A minimal host: the kernel release and an (empty) PCI bus."""
    write(root, "/proc/sys/kernel/osrelease", kernel + "\n")
    (root / "sys/bus/pci/devices").mkdir(parents=True, exist_ok=True)
    return root


def efi(root, secure_boot=None, setup_mode=None):
    """Make ``root`` a UEFI host; the flags (0/1 or None for no variable) as efivarfs files."""
    (root / "sys/firmware/efi/efivars").mkdir(parents=True, exist_ok=True)
    write(root, "/sys/firmware/efi/efivars/LangCodes-" + GUID, EFI_ATTRS + b"engfra")
    if secure_boot is not None:
        write(root, "/sys/firmware/efi/efivars/SecureBoot-" + GUID, EFI_ATTRS + bytes([secure_boot]))
    if setup_mode is not None:
        write(root, "/sys/firmware/efi/efivars/SetupMode-" + GUID, EFI_ATTRS + bytes([setup_mode]))


def headers(root, kernel=KERNEL):
    """Debian's layout: /lib/modules/K/build -> /usr/src/linux-headers-K (absolute link)."""
    write(root, "/usr/src/linux-headers-%s/Makefile" % kernel, "include ../linux-headers-6.1.0-18-common/Makefile\n")
    link(root, "/lib/modules/%s/build" % kernel, "/usr/src/linux-headers-%s" % kernel)


def nvidia_loaded(root, version_file=PROPRIETARY, version="580.173.02"):
    if version_file is not None:
        write(root, "/proc/driver/nvidia/version", version_file)
    write(root, "/sys/module/nvidia/version", version + "\n")


@pytest.fixture
def fake_smi(tmp_path_factory):
    """An executable file standing in for nvidia-smi (outside the fixture root; never run)."""
    path = write(tmp_path_factory.mktemp("smi"), "/nvidia-smi", "#!/bin/false\n")
    path.chmod(0o755)
    return str(path)


class SmiCalls:
    """Replaces AnsibleModule.run_command: answers nvidia-smi calls by their arguments."""

    def __init__(self, query=(0, "", ""), q=(0, SMI_Q_COMPUTE, "")):
        self.answers = {tuple(_gpu.NVIDIA_SMI_QUERY_ARGS): query, tuple(_gpu.NVIDIA_SMI_CUDA_ARGS): q}
        self.calls = []

    def __call__(self, args, check_rc=False, environ_update=None, **kw):  # noqa: ARG002
        assert isinstance(args, list), "nvidia-smi must be run with an argv list"
        self.calls.append(args)
        return self.answers[tuple(args[1:])]


@pytest.fixture
def smi(monkeypatch):
    def install(**kw):
        calls = SmiCalls(**kw)
        # an instance, not a function: module.run_command(...) calls it without the module
        monkeypatch.setattr(AnsibleModule, "run_command", calls)
        return calls
    return install


def facts(run_module, root, check=False, **args):
    failed, res = run_module(gpu_facts.main, dict(args, root=str(root)), check=check)
    assert not failed, res
    assert res["changed"] is False
    return res["ansible_facts"]["onprem_gpu"]


# ---- GPUs in sysfs ----------------------------------------------------------------------

def test_no_gpu(run_module, tmp_path, smi, fake_smi):
    calls = smi()
    f = facts(run_module, host(tmp_path), nvidia_smi=fake_smi)
    assert f["gpus"] == [] and f["count"] == 0 and f["present"] is False
    assert f["driver_loaded"] is False and f["driver_version"] is None and f["driver_flavour"] is None
    assert f["driver_version_line"] is None
    assert f["nvidia_smi"] == {"path": fake_smi, "driver_version": None, "cuda_version": None, "error": None}
    assert calls.calls == [], "nvidia-smi run on a host without an NVIDIA GPU"
    assert f["secure_boot"] == "unsupported" and f["secure_boot_setup_mode"] is None
    assert f["kernel"] == KERNEL and f["kernel_headers"] is False and f["kernel_headers_path"] is None
    assert f["nouveau_loaded"] is False and f["nvidia_module_loaded"] is False


def test_no_sysfs_at_all(run_module, tmp_path):
    write(tmp_path, "/proc/sys/kernel/osrelease", KERNEL)
    f = facts(run_module, tmp_path)
    assert f["gpus"] == [] and f["count"] == 0


def test_one_t4(run_module, tmp_path):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, numa=0, driver="nvidia")
    f = facts(run_module, tmp_path)
    assert f["gpus"] == [{"pci_address": "0000:3b:00.0", "vendor_id": "0x10de", "device_id": "0x1eb8",
                          "class": "0x030200", "numa_node": 0, "driver": "nvidia",
                          "name": None, "memory_mib": None, "uuid": None}]
    assert f["count"] == 1 and f["present"] is True
    assert f["nvidia_smi"]["path"] is None, "looked for nvidia-smi on the real PATH for a fixture root"


def test_check_mode_same_facts(run_module, tmp_path):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, numa=0, driver="nvidia")
    assert facts(run_module, tmp_path, check=True) == facts(run_module, tmp_path)


def test_eight_a100_on_two_numa_nodes_sorted(run_module, tmp_path):
    host(tmp_path)
    addresses = ["0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0",
                 "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"]
    for i in (5, 0, 7, 2, 1, 6, 3, 4):  # created out of order
        pci(tmp_path, addresses[i], 0x10DE, 0x20B0, 0x030200, numa=i // 4, driver="nvidia")
    # the NVSwitches and the host bridges of the same box are not GPUs
    pci(tmp_path, "0000:c1:00.0", 0x10DE, 0x1AF1, 0x068000, numa=1)
    pci(tmp_path, "0000:00:00.0", 0x1022, 0x1480, 0x060000, numa=0)
    f = facts(run_module, tmp_path)
    assert f["count"] == 8 and f["present"] is True
    assert [g["pci_address"] for g in f["gpus"]] == addresses
    assert [g["numa_node"] for g in f["gpus"]] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert {g["device_id"] for g in f["gpus"]} == {"0x20b0"}


def test_audio_function_of_the_gpu_is_not_a_gpu(run_module, tmp_path):
    host(tmp_path)
    pci(tmp_path, "0000:01:00.0", 0x10DE, 0x2206, 0x030000, driver="nvidia")  # VGA: counts
    pci(tmp_path, "0000:01:00.1", 0x10DE, 0x1AEF, 0x040300, driver="snd_hda_intel")
    f = facts(run_module, tmp_path)
    assert f["count"] == 1
    assert f["gpus"][0]["pci_address"] == "0000:01:00.0" and f["gpus"][0]["class"] == "0x030000"
    assert f["gpus"][0]["numa_node"] is None, "numa_node -1 is no NUMA node"


def test_non_nvidia_display_only(run_module, tmp_path):
    pci(host(tmp_path), "0000:02:00.0", 0x1A03, 0x2000, 0x030000, driver="ast")  # ASPEED BMC graphics
    f = facts(run_module, tmp_path)
    assert f["gpus"] == [] and f["count"] == 0 and f["present"] is False


def test_gpu_without_driver_or_numa_file_and_other_drivers(run_module, tmp_path):
    host(tmp_path)
    pci(tmp_path, "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, numa_file=False)
    pci(tmp_path, "0000:5e:00.0", 0x10DE, 0x1EB8, 0x030200, driver="vfio-pci", numa=0)
    pci(tmp_path, "0000:86:00.0", 0x10DE, 0x1EB8, 0x030200, driver="nouveau", numa=1)
    gpus = facts(run_module, tmp_path)["gpus"]
    assert [(g["driver"], g["numa_node"]) for g in gpus] == [(None, None), ("vfio-pci", 0), ("nouveau", 1)]


# ---- driver ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, version, flavour", [
    (PROPRIETARY, "580.173.02", "proprietary"),
    (OPEN, "565.57.01", "open"),
    (OPEN_DKMS, "525.60.11", "open"),
    (OPEN_JETSON, "35.3.1", "open"),
])
def test_driver_loaded_real_version_strings(run_module, tmp_path, text, version, flavour):
    nvidia_loaded(host(tmp_path), text, version)
    f = facts(run_module, tmp_path)
    assert f["driver_loaded"] is True and f["nvidia_module_loaded"] is True
    assert f["driver_version"] == version and f["driver_flavour"] == flavour
    assert f["driver_version_line"] == text.splitlines()[0].strip()
    assert f["nouveau_loaded"] is False


def test_driver_version_from_sys_module_without_proc_file(run_module, tmp_path):
    nvidia_loaded(host(tmp_path), None, "550.163.01")
    f = facts(run_module, tmp_path)
    assert f["driver_loaded"] is True and f["driver_version"] == "550.163.01"
    assert f["driver_flavour"] is None and f["driver_version_line"] is None


def test_nouveau_loaded(run_module, tmp_path):
    pci(host(tmp_path), "0000:01:00.0", 0x10DE, 0x2206, 0x030000, driver="nouveau")
    (tmp_path / "sys/module/nouveau/parameters").mkdir(parents=True)
    f = facts(run_module, tmp_path)
    assert f["nouveau_loaded"] is True and f["nvidia_module_loaded"] is False and f["driver_loaded"] is False
    assert f["gpus"][0]["driver"] == "nouveau"


def test_parse_driver_version_without_nvrm_line():
    assert _gpu.parse_driver_version("GCC version:  gcc version 12.2.0\n") == {
        "line": None, "version": None, "flavour": None}
    assert _gpu.parse_driver_version(None)["version"] is None


# ---- Secure Boot ------------------------------------------------------------------------

@pytest.mark.parametrize("sb, setup, state, setup_mode", [
    (1, 0, "enabled", False),
    (0, 0, "disabled", False),
    (0, 1, "disabled", True),
    (None, None, "disabled", None),  # UEFI without the variables
])
def test_secure_boot_efi(run_module, tmp_path, sb, setup, state, setup_mode):
    efi(host(tmp_path), sb, setup)
    f = facts(run_module, tmp_path)
    assert f["secure_boot"] == state and f["secure_boot_setup_mode"] is setup_mode


def test_secure_boot_unsupported_without_efi(run_module, tmp_path):
    (host(tmp_path) / "sys/firmware/acpi").mkdir(parents=True)
    f = facts(run_module, tmp_path)
    assert f["secure_boot"] == "unsupported" and f["secure_boot_setup_mode"] is None


def test_secure_boot_efivarfs_not_mounted_warns(run_module, tmp_path, monkeypatch):
    # Under pytest, ansible.utils.display is loaded (controller mode), so warnings go to
    # the display instead of the result: record what the module warns.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: warned.append(msg))
    (host(tmp_path) / "sys/firmware/efi/efivars").mkdir(parents=True)
    assert facts(run_module, tmp_path)["secure_boot"] == "disabled"
    assert warned == ["/sys/firmware/efi/efivars is empty or missing (efivarfs not mounted?): "
                      "Secure Boot state unknown, reported as disabled"]
    warned.clear()
    efi(tmp_path, 0)
    assert facts(run_module, tmp_path)["secure_boot"] == "disabled" and warned == []


def test_secure_boot_truncated_variable_fails_naming_it(run_module, tmp_path):
    efi(host(tmp_path))
    write(tmp_path, "/sys/firmware/efi/efivars/SecureBoot-" + GUID, EFI_ATTRS)
    failed, res = run_module(gpu_facts.main, {"root": str(tmp_path)})
    assert failed
    assert res["msg"] == ("EFI variable /sys/firmware/efi/efivars/SecureBoot-%s holds 4 bytes; "
                          "expected 4 bytes of attributes and 1 data byte" % GUID)


# ---- kernel headers ---------------------------------------------------------------------

def test_headers_through_absolute_link_resolved_inside_root(run_module, tmp_path):
    headers(host(tmp_path))
    f = facts(run_module, tmp_path)
    assert f["kernel_headers"] is True
    assert f["kernel_headers_path"] == "/usr/src/linux-headers-%s" % KERNEL


def test_headers_on_usrmerge_host_with_relative_links(run_module, tmp_path):
    host(tmp_path)
    link(tmp_path, "/lib", "usr/lib")
    write(tmp_path, "/usr/src/linux-headers-%s/Makefile" % KERNEL, "")
    link(tmp_path, "/usr/lib/modules/%s/build" % KERNEL, "../../../src/linux-headers-%s" % KERNEL)
    f = facts(run_module, tmp_path)
    assert f["kernel_headers"] is True and f["kernel_headers_path"] == "/usr/src/linux-headers-%s" % KERNEL


def test_headers_missing(run_module, tmp_path):
    (host(tmp_path) / ("lib/modules/%s/kernel" % KERNEL)).mkdir(parents=True)
    f = facts(run_module, tmp_path)
    assert f["kernel_headers"] is False and f["kernel_headers_path"] is None


def test_headers_dangling_link(run_module, tmp_path):
    link(host(tmp_path), "/lib/modules/%s/build" % KERNEL, "/usr/src/linux-headers-%s" % KERNEL)
    f = facts(run_module, tmp_path)
    assert f["kernel_headers"] is False and f["kernel_headers_path"] is None


def test_headers_link_is_not_followed_on_the_real_host(run_module, tmp_path):
    """An absolute target that exists outside root (here, on the machine running the
    test) is not the host's: it is looked up below root, where it is missing."""
    root = host(tmp_path / "root")
    outside = write(tmp_path, "/outside/Makefile", "").parent
    link(root, "/lib/modules/%s/build" % KERNEL, str(outside))
    link(root, "/lib/modules/other/build", "../../../../../../../../" + str(outside).lstrip("/"))
    assert facts(run_module, root)["kernel_headers"] is False
    assert facts(run_module, root, kernel="other")["kernel_headers"] is False


def test_headers_directory_without_makefile(run_module, tmp_path):
    (host(tmp_path) / ("usr/src/linux-headers-%s/include" % KERNEL)).mkdir(parents=True)
    link(tmp_path, "/lib/modules/%s/build" % KERNEL, "/usr/src/linux-headers-%s" % KERNEL)
    assert facts(run_module, tmp_path)["kernel_headers"] is False


def test_kernel_option_chooses_the_headers(run_module, tmp_path):
    headers(host(tmp_path), "6.1.0-20-amd64")
    f = facts(run_module, tmp_path)
    assert f["kernel"] == KERNEL and f["kernel_headers"] is False
    f = facts(run_module, tmp_path, kernel="6.1.0-20-amd64")
    assert f["kernel"] == "6.1.0-20-amd64" and f["kernel_headers"] is True


def test_symlink_loop_is_no_headers(run_module, tmp_path):
    link(host(tmp_path), "/lib/modules/%s/build" % KERNEL, "build")
    assert facts(run_module, tmp_path)["kernel_headers"] is False


def test_no_kernel_release_fails(run_module, tmp_path):
    failed, res = run_module(gpu_facts.main, {"root": str(tmp_path)})
    assert failed and "/proc/sys/kernel/osrelease" in res["msg"] and "option kernel" in res["msg"]


def test_kernel_with_slash_refused(run_module, tmp_path):
    failed, res = run_module(gpu_facts.main, {"root": str(host(tmp_path)), "kernel": "../../etc"})
    assert failed and res["msg"] == "kernel '../../etc' is not a kernel release"


def test_root_must_be_a_directory(run_module, tmp_path):
    failed, res = run_module(gpu_facts.main, {"root": str(tmp_path / "nope")})
    assert failed and res["msg"] == "root %s is not a directory" % (tmp_path / "nope")


# ---- nvidia-smi ---------------------------------------------------------------------------

def test_nvidia_smi_fills_gpus_matched_by_address(run_module, tmp_path, smi, fake_smi):
    host(tmp_path)
    nvidia_loaded(tmp_path, OPEN, "535.129.03")
    pci(tmp_path, "0000:ca:00.0", 0x10DE, 0x20B5, 0x030200, numa=1, driver="nvidia")
    pci(tmp_path, "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, numa=0, driver="nvidia")
    pci(tmp_path, "0000:5e:00.0", 0x10DE, 0x1EB8, 0x030200, numa=0, driver="vfio-pci")  # not nvidia-smi's
    calls = smi(query=(0, "00000000:CA:00.0, NVIDIA A100 80GB PCIe, 81920, "
                          "GPU-d8ce95c1-12f7-3174-6395-e573163a2ace, 535.129.03\n"
                          "00000000:3B:00.0, Tesla T4, 15360, GPU-5c1d2e3f-0a1b-2c3d-4e5f-60718293a4b5, 535.129.03\n",
                       ""))
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi)
    assert calls.calls == [[fake_smi] + _gpu.NVIDIA_SMI_QUERY_ARGS, [fake_smi, "-q", "-d", "COMPUTE"]]
    assert calls.calls[0][1:] == ["--query-gpu=pci.bus_id,name,memory.total,uuid,driver_version",
                                  "--format=csv,noheader,nounits"]
    by_address = {g["pci_address"]: (g["name"], g["memory_mib"], g["uuid"]) for g in f["gpus"]}
    assert by_address == {
        "0000:3b:00.0": ("Tesla T4", 15360, "GPU-5c1d2e3f-0a1b-2c3d-4e5f-60718293a4b5"),
        "0000:5e:00.0": (None, None, None),
        "0000:ca:00.0": ("NVIDIA A100 80GB PCIe", 81920, "GPU-d8ce95c1-12f7-3174-6395-e573163a2ace"),
    }
    assert f["nvidia_smi"] == {"path": fake_smi, "driver_version": "535.129.03", "cuda_version": "12.2",
                               "error": None}


def test_nvidia_smi_not_applicable_values(run_module, tmp_path, smi, fake_smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, driver="nvidia")
    smi(query=(0, "00000000:3B:00.0, Tesla T4, [N/A], [Not Supported], [N/A]\n", ""),
        q=(0, SMI_Q_COMPUTE.replace(": 12.2", ": N/A"), ""))
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi)
    g = f["gpus"][0]
    assert (g["name"], g["memory_mib"], g["uuid"]) == ("Tesla T4", None, None)
    assert f["nvidia_smi"]["driver_version"] == "535.129.03", "-q header is the fallback"
    assert f["nvidia_smi"]["cuda_version"] is None and f["nvidia_smi"]["error"] is None


def test_nvidia_smi_without_driver_does_not_fail(run_module, tmp_path, smi, fake_smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200, numa=0)
    calls = smi(query=(9, SMI_NO_DRIVER, ""))
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi)
    assert len(calls.calls) == 1, "-q run after the query failed"
    assert f["nvidia_smi"]["error"] == (
        "%s --query-gpu=pci.bus_id,name,memory.total,uuid,driver_version --format=csv,noheader,nounits "
        "exited with rc 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running." % fake_smi)
    assert f["nvidia_smi"]["driver_version"] is None and f["nvidia_smi"]["cuda_version"] is None
    assert f["gpus"][0]["name"] is None and f["count"] == 1 and f["driver_loaded"] is False


def test_nvidia_smi_q_failing_keeps_the_query(run_module, tmp_path, smi, fake_smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200)
    smi(query=(0, "00000000:3B:00.0, Tesla T4, 15360, GPU-1, 550.163.01\n", ""), q=(15, "", "Unknown Error\n"))
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi)
    assert f["gpus"][0]["memory_mib"] == 15360 and f["nvidia_smi"]["driver_version"] == "550.163.01"
    assert f["nvidia_smi"]["cuda_version"] is None
    assert f["nvidia_smi"]["error"] == "%s -q -d COMPUTE exited with rc 15: Unknown Error" % fake_smi


def test_nvidia_smi_unexpected_line_reported(run_module, tmp_path, smi, fake_smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200)
    smi(query=(0, "No devices were found\n", ""))
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi)
    assert "printed lines that are not" in f["nvidia_smi"]["error"]
    assert f["nvidia_smi"]["error"].endswith(": No devices were found")
    assert f["nvidia_smi"]["cuda_version"] == "12.2"


def test_nvidia_smi_not_run_when_disabled(run_module, tmp_path, smi, fake_smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200)
    calls = smi()
    f = facts(run_module, tmp_path, nvidia_smi=fake_smi, query_nvidia_smi=False)
    assert calls.calls == [] and f["nvidia_smi"]["path"] == fake_smi and f["nvidia_smi"]["error"] is None


def test_nvidia_smi_given_but_missing(run_module, tmp_path, smi):
    pci(host(tmp_path), "0000:3b:00.0", 0x10DE, 0x1EB8, 0x030200)
    calls = smi()
    missing = str(tmp_path / "nowhere" / "nvidia-smi")
    f = facts(run_module, tmp_path, nvidia_smi=missing)
    assert calls.calls == []
    assert f["nvidia_smi"]["error"] == "%s is not an executable file (option nvidia_smi)" % missing


def test_nvidia_smi_looked_up_on_path_only_for_the_real_root(monkeypatch, tmp_path):
    class Module:
        params = {"nvidia_smi": None}

        def get_bin_path(self, name, required=False):
            assert name == "nvidia-smi" and required is False
            return "/usr/bin/nvidia-smi"

    assert gpu_facts._nvidia_smi_path(Module(), "/") == ("/usr/bin/nvidia-smi", None)
    assert gpu_facts._nvidia_smi_path(Module(), str(tmp_path)) == (None, None)


# ---- parsers --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("0000:3b:00.0", (0, 0x3B, 0, 0)),
    ("00000000:3B:00.0", (0, 0x3B, 0, 0)),
    ("10000:e1:00.1", (0x10000, 0xE1, 0, 1)),  # Intel VMD domain
    ("3b:00.0", None),
    ("junk", None),
])
def test_parse_pci_address(text, expected):
    assert _gpu.parse_pci_address(text) == expected


def test_parse_query_gpu_with_units_and_comma_in_name():
    gpus, bad = _gpu.parse_query_gpu("00000000:3B:00.0, Tesla T4, 15360 MiB, GPU-1, 550.163.01\n"
                                     "00000000:3C:00.0, Odd, Name, 1024, GPU-2, 550.163.01\n\n")
    assert bad == []
    assert gpus[(0, 0x3B, 0, 0)] == {"name": "Tesla T4", "memory_mib": 15360, "uuid": "GPU-1",
                                     "driver_version": "550.163.01"}
    assert gpus[(0, 0x3C, 0, 0)]["name"] == "Odd, Name"


def test_parse_query_header_plain_and_q_forms():
    assert _gpu.parse_query_header(SMI_Q_COMPUTE) == {"driver_version": "535.129.03", "cuda_version": "12.2"}
    assert _gpu.parse_query_header("") == {"driver_version": None, "cuda_version": None}


def test_resolve_in_root_never_climbs_above_root(tmp_path):
    write(tmp_path, "/etc/hostname", "fixture\n")
    link(tmp_path, "/a/up", "../../../../../etc")
    assert _gpu.resolve_in_root(str(tmp_path), "/a/up/hostname") == "/etc/hostname"
    assert _gpu.resolve_in_root(str(tmp_path), "/a/missing") is None


# ---- MOK enrollment ---------------------------------------------------------------------

# A stand-in certificate body (DER starts with a SEQUENCE, 0x30 0x82); the module looks
# for these bytes inside MokListRT, an EFI_SIGNATURE_LIST sequence (UEFI spec 32.4.1:
# SignatureType GUID, list size, header size, signature size, then owner GUID + data).
CERT_DER = b"\x30\x82\x01\x0a" + bytes(range(200))
CERT_PEM = ("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n"
            % __import__("base64").b64encode(CERT_DER).decode())
X509_GUID = bytes.fromhex("a159c0a5e494a74a87b5ab155c2bf072")
MOK_GUID = "605dab50-e046-4300-abb6-3dd810dd8b23"


def mok_list(*certs):
    """MokListRT content: one EFI_SIGNATURE_LIST per X.509 certificate."""
    out = b""
    for der in certs:
        size = 16 + len(der)
        out += X509_GUID + (28 + size).to_bytes(4, "little") + (0).to_bytes(4, "little") + size.to_bytes(4, "little")
        out += b"\x11" * 16 + der
    return out


@pytest.mark.parametrize("form", ["der", "pem"])
@pytest.mark.parametrize("where", ["mok-variables", "efivars"])
def test_mok_certificate_enrolled(run_module, tmp_path, form, where):
    efi(host(tmp_path), 1)
    write(tmp_path, "/var/lib/onprem/mok.crt", CERT_DER if form == "der" else CERT_PEM)
    other = b"\x30\x82\x00\x10" + b"\x07" * 16
    if where == "mok-variables":
        write(tmp_path, "/sys/firmware/efi/mok-variables/MokListRT", mok_list(other, CERT_DER))
    else:
        write(tmp_path, "/sys/firmware/efi/efivars/MokListRT-" + MOK_GUID, b"\x06\x00\x00\x00" + mok_list(CERT_DER))
    f = facts(run_module, tmp_path, mok_certificate="/var/lib/onprem/mok.crt")
    assert f["secure_boot"] == "enabled"
    assert f["mok_certificate_enrolled"] is True and f["mok_certificate_error"] is None


def test_mok_certificate_not_enrolled(run_module, tmp_path):
    efi(host(tmp_path), 1)
    write(tmp_path, "/var/lib/onprem/mok.crt", CERT_DER)
    write(tmp_path, "/sys/firmware/efi/mok-variables/MokListRT", mok_list(b"\x30\x82\x00\x10" + b"\x07" * 16))
    f = facts(run_module, tmp_path, mok_certificate="/var/lib/onprem/mok.crt")
    assert f["mok_certificate_enrolled"] is False
    assert f["mok_certificate_error"] == ("/sys/firmware/efi/mok-variables/MokListRT does not contain the "
                                          "certificate /var/lib/onprem/mok.crt")


def test_mok_certificate_missing_file_or_list(run_module, tmp_path):
    efi(host(tmp_path), 1)
    f = facts(run_module, tmp_path, mok_certificate="/var/lib/onprem/mok.crt")
    assert f["mok_certificate_enrolled"] is False
    assert f["mok_certificate_error"] == "certificate /var/lib/onprem/mok.crt does not exist"
    write(tmp_path, "/var/lib/onprem/mok.crt", CERT_DER)
    f = facts(run_module, tmp_path, mok_certificate="/var/lib/onprem/mok.crt")
    assert f["mok_certificate_enrolled"] is False and f["mok_certificate_error"].startswith("no MOK list on this host")


def test_mok_keys_absent_without_the_option(run_module, tmp_path):
    efi(host(tmp_path), 1)
    assert "mok_certificate_enrolled" not in facts(run_module, tmp_path)

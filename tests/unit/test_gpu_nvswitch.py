"""NVSwitch detection (issue 19, fault 10): an 8-GPU HGX board's GPUs talk through
NVSwitches, and CUDA does not initialise there until NVIDIA Fabric Manager of the
driver's branch runs (NVIDIA Fabric Manager User Guide, "NVSwitch-Based Systems" and
"Getting Started with Fabric Manager").

The fixture is an HGX H200 8-GPU host laid out as its ``lspci -Dnn`` shows it: eight
``3D controller [0302]`` GH100 functions (H200 SXM, 10de:2335) and four
``Bridge [0680]: NVIDIA Corporation GH100 [H100 NVSwitch] [10de:22a3]`` functions (HGX
H100 and H200 carry four third-generation NVSwitches; pci.ids names 10de:22a3 "GH100
[H100 NVSwitch]", 10de:1af1 "GA100 [A100 NVSwitch]", six on HGX A100), plus the BMC's
ASPEED display. Trees are built with tests/unit/modules/test_gpu_facts.py's helpers.
"""
from ansible_collections.onprem.stack.plugins.module_utils import _gpu
from ansible_collections.onprem.stack.plugins.modules import gpu_facts  # noqa: F401  pylint: disable=unused-import

from modules.test_gpu_facts import facts, host, pci  # tests/unit is on sys.path (pytest rootdir insertion)

H200_SXM, H100_NVSWITCH, A100_NVSWITCH = 0x2335, 0x22A3, 0x1AF1
GPU_3D, BRIDGE_OTHER = 0x030200, 0x068000


def hgx_h200(root):
    host(root)
    for idx, bus in enumerate(["18", "2a", "3a", "5d", "9a", "ab", "ba", "db"]):
        pci(root, "0000:%s:00.0" % bus, 0x10DE, H200_SXM, GPU_3D, numa=idx // 4, driver="nvidia")
    for bus in ["05", "06", "07", "08"]:
        pci(root, "0000:%s:00.0" % bus, 0x10DE, H100_NVSWITCH, BRIDGE_OTHER, numa=0)
    pci(root, "0000:04:00.0", 0x1A03, 0x2000, 0x030000)  # ASPEED BMC display
    # a non-NVIDIA bridge of the same class (e.g. an Intel PCH function) is no NVSwitch
    pci(root, "0000:00:1f.0", 0x8086, 0x1BCA, BRIDGE_OTHER)
    return root


def test_pci_nvswitches_of_hgx_h200(tmp_path):
    switches = _gpu.pci_nvswitches(hgx_h200(tmp_path))
    assert [s["pci_address"] for s in switches] == ["0000:05:00.0", "0000:06:00.0", "0000:07:00.0", "0000:08:00.0"]
    assert {s["device_id"] for s in switches} == {"0x22a3"} and {s["class"] for s in switches} == {"0x068000"}
    assert len(_gpu.pci_gpus(tmp_path)) == 8


def test_gpu_facts_reports_nvswitches(run_module, tmp_path):
    f = facts(run_module, hgx_h200(tmp_path))
    assert f["count"] == 8
    assert f["nvswitch_count"] == 4 and f["fabric_manager_needed"] is True
    assert [s["device_id"] for s in f["nvswitches"]] == ["0x22a3"] * 4


def test_hgx_a100_six_nvswitches(run_module, tmp_path):
    host(tmp_path)
    pci(tmp_path, "0000:07:00.0", 0x10DE, 0x20B0, GPU_3D)
    for bus in range(0xC4, 0xCA):
        pci(tmp_path, "0000:%02x:00.0" % bus, 0x10DE, A100_NVSWITCH, BRIDGE_OTHER)
    f = facts(run_module, tmp_path)
    assert f["nvswitch_count"] == 6 and f["fabric_manager_needed"] is True


def test_pcie_gpu_needs_no_fabric_manager(run_module, tmp_path):
    host(tmp_path)
    pci(tmp_path, "0000:3b:00.0", 0x10DE, 0x1EB8, GPU_3D)  # T4
    f = facts(run_module, tmp_path)
    assert f["nvswitches"] == [] and f["nvswitch_count"] == 0 and f["fabric_manager_needed"] is False

"""module_utils._gpu on what a real GPU host printed: an NVIDIA H200 with the open kernel module,
driver 580.159.04 (recorded 2026-12-04 on the GPU machine lent to this project; Firecracker VM,
kernel 6.18.44, no EFI). gpu_facts itself ran there and returned the facts asserted below."""
from ansible_collections.onprem.stack.plugins.module_utils import _gpu

QUERY_GPU = "00000000:00:06.0, NVIDIA H200, 143771, GPU-aab86d28-8203-308f-e636-f9cb51964050, 580.159.04\n"
PROC_VERSION = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \n"
                "GCC version:  gcc version 15.3.0 (GCC) \n")
SMI_Q_HEADER = """
==============NVSMI LOG==============

Timestamp                                              : Fri Dec  4 17:30:00 2026
Driver Version                                         : 580.159.04
CUDA Version                                           : 13.0

Attached GPUs                                          : 1
GPU 00000000:00:06.0
    Compute Mode                                       : Default
"""


def test_query_gpu_h200():
    gpus, bad = _gpu.parse_query_gpu(QUERY_GPU)
    assert bad == []
    assert gpus == {(0, 0, 6, 0): {"name": "NVIDIA H200", "memory_mib": 143771,
                                   "uuid": "GPU-aab86d28-8203-308f-e636-f9cb51964050",
                                   "driver_version": "580.159.04"}}


def test_open_kernel_module_version_line():
    got = _gpu.parse_driver_version(PROC_VERSION)
    assert got["version"] == "580.159.04" and got["flavour"] == "open"


def test_query_header_cuda_13():
    assert _gpu.parse_query_header(SMI_Q_HEADER) == {"driver_version": "580.159.04", "cuda_version": "13.0"}

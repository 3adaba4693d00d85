#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_facts
short_description: NVIDIA GPUs, driver, Secure Boot, kernel headers and nouveau state of a Linux host as facts
version_added: 0.2.0
description:
  - Returns C(ansible_facts.onprem_gpu) about the host; changes nothing. Used by the
    C(preflight) and C(nvidia) roles.
  - "GPUs: every PCI device in C(/sys/bus/pci/devices/*/) whose C(vendor) is C(0x10de)
    (NVIDIA) and whose C(class) has C(0x0300) (VGA compatible controller) or C(0x0302)
    (3D controller) as its top 16 bits, with C(device), C(class), C(numa_node) and the
    name of the C(driver) link. The GPU's audio function (class C(0x0403)) is not a GPU.
    Format: Linux C(Documentation/ABI/testing/sysfs-bus-pci)."
  - "NVSwitches: the same for class C(0x0680) (other bridge device), as HGX A100
    (six, C(10de:1af1)) and HGX H100/H200 boards (four, C(10de:22a3)) show theirs (pci.ids).
    A host with NVSwitches needs NVIDIA Fabric Manager of the driver's branch before CUDA
    initialises (NVIDIA Fabric Manager User Guide); the NVSwitches of HGX B200-class
    boards are not PCIe devices of the host and are not found here."
  - "Driver: C(/proc/driver/nvidia/version), whose first line is
    C(NVRM version: NVIDIA UNIX [Open ]Kernel Module [for <arch>]  <version>  ...)
    (NVIDIA driver README, chapter I(Using the /proc File System Interface));
    C(/sys/module/nvidia/version) when the C(/proc) file is missing;
    C(/sys/module/nvidia) and C(/sys/module/nouveau) for the loaded modules."
  - "With O(query_nvidia_smi), when sysfs shows at least one NVIDIA GPU and nvidia-smi is
    found, two read-only calls (nvidia-smi(1); C(nvidia-smi --help-query-gpu) lists the
    fields): C(nvidia-smi --query-gpu=pci.bus_id,name,memory.total,uuid,driver_version
    --format=csv,noheader,nounits) for names, memory in MiB and UUIDs, matched to the
    sysfs devices by PCI address; and C(nvidia-smi -q -d COMPUTE), whose header gives
    the C(CUDA Version) (not a C(--query-gpu) field in drivers 535 and 550). A failing
    nvidia-smi (for example rc 9, I(couldn't communicate with the NVIDIA driver)) does
    not fail the module; the reason is in RV(ansible_facts.onprem_gpu.nvidia_smi.error)."
  - "Secure Boot: the UEFI global variables C(SecureBoot) and C(SetupMode) in efivarfs,
    C(/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c) and
    C(SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c) (4 bytes of attributes, then one
    data byte, 1 for on; Linux C(Documentation/filesystems/efivarfs.rst), UEFI
    specification I(Globally Defined Variables)). No mokutil needed. A host without
    C(/sys/firmware/efi) booted without UEFI: V(unsupported)."
  - "Kernel headers: C(/lib/modules/<kernel>/build) resolves to a directory with a
    C(Makefile); the running kernel is read from C(/proc/sys/kernel/osrelease)."
  - Every path above is read below O(root).
author:
  - onprem.stack contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  facts:
    support: full
    description: Returns C(ansible_facts.onprem_gpu).
notes:
  - nvidia-smi can hang on a GPU in a bad state; use the task keyword C(timeout) to bound it.
  - Reading the sources needs no root privileges.
options:
  root:
    description:
      - Directory every file is read below, for a copy or fixture tree of a host's
        C(/sys), C(/proc), C(/lib/modules) and C(/usr/src).
      - When it is not C(/) and O(nvidia_smi) is not given, nvidia-smi is not run.
    type: path
    default: /
  kernel:
    description: Kernel release whose headers are checked (default, the running kernel, from C(/proc/sys/kernel/osrelease)).
    type: str
  nvidia_smi:
    description:
      - Path of the nvidia-smi program on the host the module runs on (not below O(root)).
      - Default, C(nvidia-smi) on E(PATH) (and the sbin directories) when O(root) is C(/).
    type: path
  query_nvidia_smi:
    description: Run nvidia-smi for GPU names, memory, UUIDs and the CUDA version. When false, nvidia-smi is only looked up.
    type: bool
    default: true
  mok_certificate:
    description:
      - Path (below O(root)) of a Machine Owner Key certificate, DER or PEM, to look up in
        the host's MOK list, read from C(/sys/firmware/efi/mok-variables/MokListRT) or efivarfs
        C(MokListRT-605dab50-e046-4300-abb6-3dd810dd8b23) (shim's runtime copy, a list of
        EFI_SIGNATURE_LIST entries; UEFI specification 32.4.1).
      - Sets RV(ansible_facts.onprem_gpu.mok_certificate_enrolled).
    type: path
"""

EXAMPLES = r"""
- name: Gather GPU facts
  onprem.stack.gpu_facts:

- name: Refuse a DKMS driver that Secure Boot would not load
  ansible.builtin.assert:
    that: ansible_facts.onprem_gpu.secure_boot != 'enabled'
    fail_msg: Secure Boot is on; enrol a MOK before installing the DKMS driver.
  when: ansible_facts.onprem_gpu.present

- name: Facts without running nvidia-smi
  onprem.stack.gpu_facts:
    query_nvidia_smi: false
"""

RETURN = r"""
ansible_facts:
  description: Facts about the host.
  returned: always
  type: dict
  contains:
    onprem_gpu:
      description: GPU facts of the host.
      returned: always
      type: dict
      contains:
        gpus:
          description: The NVIDIA GPUs in sysfs, sorted by PCI address.
          returned: always
          type: list
          elements: dict
          contains:
            pci_address:
              description: PCI address as sysfs names the device.
              type: str
              sample: "0000:3b:00.0"
            vendor_id:
              description: PCI vendor id.
              type: str
              sample: "0x10de"
            device_id:
              description: PCI device id.
              type: str
              sample: "0x1eb8"
            class:
              description: PCI class code (class, subclass, programming interface).
              type: str
              sample: "0x030200"
            numa_node:
              description: NUMA node of the device; null when sysfs says -1 or has no C(numa_node).
              type: int
              sample: 0
            driver:
              description: Name of the driver bound to the device (V(nvidia), V(nouveau), V(vfio-pci)); null when none.
              type: str
              sample: nvidia
            name:
              description: Product name from nvidia-smi; null when nvidia-smi was not run, failed or did not list the device.
              type: str
              sample: Tesla T4
            memory_mib:
              description: Total memory in MiB from nvidia-smi; null as for C(name), or when nvidia-smi says C([N/A]).
              type: int
              sample: 15360
            uuid:
              description: GPU UUID from nvidia-smi; null as for C(name).
              type: str
              sample: GPU-5c1d2e3f-0a1b-2c3d-4e5f-60718293a4b5
        count:
          description: Number of NVIDIA GPUs.
          returned: always
          type: int
          sample: 1
        present:
          description: Whether there is at least one NVIDIA GPU.
          returned: always
          type: bool
        nvswitches:
          description: The NVIDIA NVSwitch PCI functions (class C(0x0680)), sorted by PCI address.
          returned: always
          type: list
          elements: dict
          contains:
            pci_address:
              description: PCI address as sysfs names the device.
              type: str
              sample: "0000:05:00.0"
            vendor_id:
              description: PCI vendor id, C(0x10de).
              type: str
            device_id:
              description: PCI device id (C(0x22a3) GH100 NVSwitch, C(0x1af1) GA100 NVSwitch).
              type: str
              sample: "0x22a3"
            class:
              description: PCI class code.
              type: str
              sample: "0x068000"
            numa_node:
              description: NUMA node; null when the platform reports none.
              type: int
            driver:
              description: Name of the bound driver (C(nvidia-nvswitch) where one is bound); null when none.
              type: str
        nvswitch_count:
          description: Number of NVSwitches found.
          returned: always
          type: int
          sample: 4
        fabric_manager_needed:
          description: Whether the host has NVSwitches, so that NVIDIA Fabric Manager must run before CUDA initialises.
          returned: always
          type: bool
        driver_loaded:
          description: Whether the NVIDIA kernel module is loaded (C(/proc/driver/nvidia/version) or C(/sys/module/nvidia) exists).
          returned: always
          type: bool
        driver_version:
          description: Version of the loaded NVIDIA kernel module; null when none is loaded.
          returned: always
          type: str
          sample: "550.163.01"
        driver_flavour:
          description:
            - V(open) for NVIDIA's open kernel modules, V(proprietary) for the others.
            - Null when no module is loaded or C(/proc/driver/nvidia/version) has no C(NVRM version) line.
          returned: always
          type: str
          sample: open
        driver_version_line:
          description: The C(NVRM version:) line of C(/proc/driver/nvidia/version); null when there is none.
          returned: always
          type: str
          sample: "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01  Release Build  (dvs-builder@U16-A24-9-2)  Thu Oct 10 12:15:00 UTC 2024"
        nvidia_smi:
          description: What nvidia-smi said.
          returned: always
          type: dict
          contains:
            path:
              description: Path of nvidia-smi; null when it was not looked for or not found.
              type: str
              sample: /usr/bin/nvidia-smi
            driver_version:
              description: Driver version nvidia-smi reports; null when it was not run or failed.
              type: str
              sample: "550.163.01"
            cuda_version:
              description: Highest CUDA version the driver supports (C(CUDA Version) of C(nvidia-smi -q)); null when unknown.
              type: str
              sample: "12.4"
            error:
              description: Why nvidia-smi gave no answer (not found, or its command line, exit status and message); null when it answered or was not run.
              type: str
              sample: "/usr/bin/nvidia-smi --query-gpu=... exited with rc 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. ..."
        secure_boot:
          description: V(enabled), V(disabled) (also UEFI without a C(SecureBoot) variable) or V(unsupported) (no UEFI).
          returned: always
          type: str
          sample: disabled
        secure_boot_setup_mode:
          description: Whether the firmware is in Setup Mode (C(SetupMode) variable); null without UEFI or without the variable.
          returned: always
          type: bool
        mok_certificate_enrolled:
          description: Whether O(mok_certificate) is in the host's MOK list.
          returned: when O(mok_certificate) is given
          type: bool
        mok_certificate_error:
          description: Why O(mok_certificate) counts as not enrolled (file missing, no MOK list, not in it); null when enrolled.
          returned: when O(mok_certificate) is given
          type: str
        kernel:
          description: Kernel release whose headers were checked.
          returned: always
          type: str
          sample: 6.1.0-18-amd64
        kernel_headers:
          description: Whether C(/lib/modules/<kernel>/build) resolves to a directory with a C(Makefile).
          returned: always
          type: bool
        kernel_headers_path:
          description: That directory as on the host, symbolic links resolved; null when the headers are missing.
          returned: always
          type: str
          sample: /usr/src/linux-headers-6.1.0-18-amd64
        nouveau_loaded:
          description: Whether the nouveau kernel module is loaded (C(/sys/module/nouveau) exists).
          returned: always
          type: bool
        nvidia_module_loaded:
          description: Whether the nvidia kernel module is loaded (C(/sys/module/nvidia) exists).
          returned: always
          type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._gpu import (
    NVIDIA_SMI_CUDA_ARGS, NVIDIA_SMI_QUERY_ARGS, GpuFactsError, command_error, host_path, kernel_headers,
    parse_driver_version, parse_pci_address, parse_query_gpu, parse_query_header, pci_gpus, pci_nvswitches, read_text,
    mok_enrolled, secure_boot)


def _kernel(module, root):
    """The kernel release to check (str): O(kernel), or <root>/proc/sys/kernel/osrelease."""
    kernel = module.params["kernel"] or read_text(root, "/proc/sys/kernel/osrelease")
    if not kernel:
        module.fail_json(msg="cannot tell the running kernel: %s has no /proc/sys/kernel/osrelease; set the option kernel"
                         % root)
    if "/" in kernel or kernel in (".", ".."):
        module.fail_json(msg="kernel %r is not a kernel release" % kernel)
    return kernel


def _nvidia_smi_path(module, root):
    """(path or None, error or None) of the nvidia-smi program to run."""
    given = module.params["nvidia_smi"]
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given, None
        return given, "%s is not an executable file (option nvidia_smi)" % given
    if root != "/":
        return None, None
    return module.get_bin_path("nvidia-smi", required=False), None


def _run(module, cmd):
    """(rc, stdout, stderr) of the argv ``cmd``, run read-only."""
    return module.run_command(cmd, check_rc=False, environ_update={"LC_ALL": "C"})


def _query_nvidia_smi(module, path, gpus):
    """Run nvidia-smi; fill name, memory_mib and uuid of ``gpus`` (list of dict) and
    return the nvidia_smi fact (dict)."""
    fact = {"path": path, "driver_version": None, "cuda_version": None, "error": None}
    cmd = [path] + NVIDIA_SMI_QUERY_ARGS
    rc, out, err = _run(module, cmd)
    if rc != 0:
        fact["error"] = command_error(cmd, rc, out, err)
        return fact
    listed, bad = parse_query_gpu(out)
    for gpu in gpus:
        smi = listed.get(parse_pci_address(gpu["pci_address"]))
        if smi:
            gpu.update(name=smi["name"], memory_mib=smi["memory_mib"], uuid=smi["uuid"])
    versions = [g["driver_version"] for g in listed.values() if g["driver_version"]]
    fact["driver_version"] = versions[0] if versions else None
    if bad:
        fact["error"] = "%s printed lines that are not %s: %s" % (" ".join(cmd), NVIDIA_SMI_QUERY_ARGS[0], "; ".join(bad))
    cmd = [path] + NVIDIA_SMI_CUDA_ARGS
    rc, out, err = _run(module, cmd)
    if rc != 0:
        fact["error"] = fact["error"] or command_error(cmd, rc, out, err)
        return fact
    header = parse_query_header(out)
    fact["cuda_version"] = header["cuda_version"]
    fact["driver_version"] = fact["driver_version"] or header["driver_version"]
    return fact


def _gather(module, root):
    """The onprem_gpu fact (dict). Raises GpuFactsError."""
    gpus = pci_gpus(root)
    nvswitches = pci_nvswitches(root)
    for gpu in gpus:
        gpu.update(name=None, memory_mib=None, uuid=None)
    proc_version = read_text(root, "/proc/driver/nvidia/version")
    driver = parse_driver_version(proc_version)
    nvidia_module = os.path.isdir(host_path(root, "/sys/module/nvidia"))
    driver_loaded = proc_version is not None or nvidia_module
    version = driver["version"]
    if driver_loaded and not version and nvidia_module:
        version = read_text(root, "/sys/module/nvidia/version") or None
    path, error = _nvidia_smi_path(module, root)
    smi = {"path": path, "driver_version": None, "cuda_version": None, "error": error}
    if path and not error and gpus and module.params["query_nvidia_smi"]:
        smi = _query_nvidia_smi(module, path, gpus)
    state, setup_mode, warning = secure_boot(root)
    if warning:
        module.warn(warning)
    kernel = _kernel(module, root)
    headers, headers_path = kernel_headers(root, kernel)
    return {
        "gpus": gpus,
        "count": len(gpus),
        "present": bool(gpus),
        "nvswitches": nvswitches,
        "nvswitch_count": len(nvswitches),
        "fabric_manager_needed": bool(nvswitches),
        "driver_loaded": driver_loaded,
        "driver_version": version if driver_loaded else None,
        "driver_flavour": driver["flavour"] if driver_loaded else None,
        "driver_version_line": driver["line"],
        "nvidia_smi": smi,
        "secure_boot": state,
        "secure_boot_setup_mode": setup_mode,
        "kernel": kernel,
        "kernel_headers": headers,
        "kernel_headers_path": headers_path,
        "nouveau_loaded": os.path.isdir(host_path(root, "/sys/module/nouveau")),
        "nvidia_module_loaded": nvidia_module,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            kernel=dict(type="str"),
            nvidia_smi=dict(type="path"),
            query_nvidia_smi=dict(type="bool", default=True),
            mok_certificate=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    root = os.path.normpath(module.params["root"])
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)
    try:
        facts = _gather(module, root)
        if module.params["mok_certificate"]:
            enrolled, error = mok_enrolled(root, module.params["mok_certificate"])
            facts.update(mok_certificate_enrolled=enrolled, mok_certificate_error=error)
    except GpuFactsError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, ansible_facts={"onprem_gpu": facts})


if __name__ == "__main__":
    main()

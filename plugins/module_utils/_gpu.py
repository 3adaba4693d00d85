# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Read-only GPU facts of a Linux host (used by the ``gpu_facts`` module).

Every file is read below a ``root`` directory (``/`` on a real host, a fixture tree in
the tests); paths in the arguments and results are as on the host, without ``root``.

Sources and their formats:

- PCI devices (GPUs, NVSwitches): ``/sys/bus/pci/devices/<address>/{vendor,device,class,numa_node,driver}``
  (Linux ``Documentation/ABI/testing/sysfs-bus-pci``; ``drivers/pci/pci-sysfs.c``
  writes ``vendor``/``device`` as ``0x%04x``, ``class`` as ``0x%06x``, ``numa_node``
  as ``%d``, -1 when the platform has no NUMA information; ``driver`` is a symbolic
  link to ``/sys/bus/pci/drivers/<name>``).
- The loaded NVIDIA kernel module: ``/proc/driver/nvidia/version`` (NVIDIA driver
  README, "Using the /proc File System Interface"), first line
  ``NVRM version: NVIDIA <module name> [for <arch>]  <version>  ...``, where the open
  kernel modules' name is ``UNIX Open Kernel Module`` (NVIDIA open-gpu-kernel-modules
  ``utils.mk``, ``GENERATE_NVIDSTRING``); ``/sys/module/<name>`` for loaded modules and
  ``/sys/module/nvidia/version`` (the module's MODULE_VERSION).
- Secure Boot: the UEFI global variables ``SecureBoot`` and ``SetupMode`` (UEFI
  specification, "Globally Defined Variables", vendor GUID
  8be4df61-93ca-11d2-aa0d-00e098032b8c) in efivarfs,
  ``/sys/firmware/efi/efivars/<name>-<guid>`` (Linux
  ``Documentation/filesystems/efivarfs.rst``: 4 bytes of attributes, then the data;
  both variables hold one byte, 1 for on).
- ``nvidia-smi --query-gpu=... --format=csv,noheader,nounits`` and
  ``nvidia-smi -q -d COMPUTE`` (nvidia-smi(1); ``nvidia-smi --help-query-gpu`` lists
  the fields).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import errno
import os
import re

NVIDIA_VENDOR = 0x10DE
# PCI base class 0x03 (display controller), subclasses 0x00 (VGA compatible) and
# 0x02 (3D controller). 0x0403 (the GPU's HDMI/DP audio function) is not a GPU.
GPU_CLASSES = (0x0300, 0x0302)
# NVSwitch: NVIDIA's PCI functions of class 0x0680 ("Bridge: other bridge device"), e.g.
# 10de:1af1 "GA100 [A100 NVSwitch]" (six on HGX A100) and 10de:22a3 "GH100 [H100
# NVSwitch]" (four on HGX H100/H200), as pci.ids names them and lspci -nn shows them
# ("Bridge [0680]"). The NVSwitches of HGX B200-class boards are not PCIe devices of the
# host (NVIDIA Fabric Manager User Guide, "NVSwitch-Based Systems").
NVSWITCH_CLASSES = (0x0680,)
EFI_GLOBAL_GUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
QUERY_GPU_FIELDS = ("pci.bus_id", "name", "memory.total", "uuid", "driver_version")
NVIDIA_SMI_QUERY_ARGS = ["--query-gpu=" + ",".join(QUERY_GPU_FIELDS), "--format=csv,noheader,nounits"]
# -q prints a header with "Driver Version" and "CUDA Version" before the GPUs; -d COMPUTE
# keeps the per-GPU part to one line (the compute mode), so the call stays short.
NVIDIA_SMI_CUDA_ARGS = ["-q", "-d", "COMPUTE"]
MAX_SYMLINKS = 40  # as Linux's path walk (ELOOP after 40 links)

_PCI_ADDRESS = re.compile(r"^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$")
_NVRM_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)(?:\s|$)")
_SMI_HEADER = re.compile(r"^\s*(Driver|CUDA) Version\s*:\s*(\S+)\s*$", re.MULTILINE)
_VERSION = re.compile(r"^\d+(?:\.\d+)+$")
_MISSING = (errno.ENOENT, errno.ENOTDIR)


class GpuFactsError(Exception):
    """A source exists but cannot be read or makes no sense; the message names the file."""


def host_path(root, path):
    """The file system path (str) of the host path ``path`` (absolute, str) below ``root``."""
    return os.path.join(root, path.lstrip("/")) if path != "/" else root


def read_bytes(root, path):
    """Contents (bytes) of the file ``path`` below ``root``, or None when it does not exist.

    Raises GpuFactsError naming the file for any other read error (permission, I/O).
    """
    try:
        with open(host_path(root, path), "rb") as f:
            return f.read()
    except (IOError, OSError) as exc:
        if exc.errno in _MISSING:
            return None
        raise GpuFactsError("cannot read %s: %s" % (path, exc.strerror or exc))


def read_text(root, path):
    """Contents of the text file ``path`` below ``root`` (str, surrounding whitespace
    stripped, undecodable bytes replaced), or None when it does not exist. Raises
    GpuFactsError as :func:`read_bytes`."""
    data = read_bytes(root, path)
    return None if data is None else data.decode("utf-8", "replace").strip()


def resolve_in_root(root, path):
    """Follow every symbolic link of the host path ``path`` (absolute, str) as the host
    would, but inside ``root``: an absolute link target starts again at ``root``, and
    ``..`` never climbs above it.

    :returns: the resolved host path (str, absolute, without ``root``), or None when a
        component does not exist (a dangling link) or after more than
        :data:`MAX_SYMLINKS` links (a loop).
    """
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done = []
    links = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        real = os.path.join(root, *(done + [part]))
        if os.path.islink(real):
            links += 1
            if links > MAX_SYMLINKS:
                return None
            target = os.readlink(real)
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p not in ("", ".")] + todo
            continue
        if not os.path.lexists(real):
            return None
        done.append(part)
    return "/" + "/".join(done)


def parse_pci_address(address):
    """(domain, bus, device, function) (tuple of int) of a PCI address in sysfs form
    (``0000:3b:00.0``) or nvidia-smi's ``pci.bus_id`` form (``00000000:3B:00.0``, an
    8-hex-digit domain); None when ``address`` is neither."""
    m = _PCI_ADDRESS.match(address.strip())
    return tuple(int(g, 16) for g in m.groups()) if m else None


def _hex(text):
    """int of a sysfs hex attribute (``0x10de``), None when missing or not hex."""
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def _hex_str(value, digits):
    """``0x`` and ``value`` (int) in at least ``digits`` lower-case hex digits (str);
    None for None."""
    return None if value is None else "0x" + format(value, "0%dx" % digits)


def _numa_node(text):
    """NUMA node (int) of a ``numa_node`` attribute; None when missing, -1 or not a number."""
    try:
        node = int(text) if text else -1
    except ValueError:
        return None
    return node if node >= 0 else None


def pci_gpus(root):
    """The NVIDIA GPUs in ``/sys/bus/pci/devices`` below ``root``: vendor 0x10de and
    class 0x0300xx or 0x0302xx (the top 16 bits of ``class``).

    :returns: list of dict, sorted by PCI address: ``pci_address`` (str, as sysfs names
        the device), ``vendor_id``, ``device_id`` (str, ``0x`` and 4 hex digits),
        ``class`` (str, ``0x`` and 6 hex digits), ``numa_node`` (int or None) and
        ``driver`` (str, the bound driver's name, or None). Empty when the directory
        does not exist (not Linux, or no sysfs).
    :raises GpuFactsError: an attribute exists but cannot be read.
    """
    return pci_nvidia_devices(root, GPU_CLASSES)


def pci_nvswitches(root):
    """The NVIDIA NVSwitches in ``/sys/bus/pci/devices`` below ``root``: vendor 0x10de
    and class 0x0680xx (:data:`NVSWITCH_CLASSES`). A host with any needs NVIDIA Fabric
    Manager before CUDA initialises (NVIDIA Fabric Manager User Guide).

    :returns: list of dict as :func:`pci_gpus`, sorted by PCI address; empty without sysfs.
    :raises GpuFactsError: an attribute exists but cannot be read.
    """
    return pci_nvidia_devices(root, NVSWITCH_CLASSES)


def pci_nvidia_devices(root, classes):
    """The NVIDIA (vendor 0x10de) PCI functions below ``root`` whose ``class`` has one of
    ``classes`` (tuple of int, base class and subclass such as 0x0302) as its top 16 bits.

    :returns: list of dict as :func:`pci_gpus`, sorted by PCI address.
    :raises GpuFactsError: an attribute exists but cannot be read.
    """
    base = "/sys/bus/pci/devices"
    try:
        names = os.listdir(host_path(root, base))
    except (IOError, OSError) as exc:
        if exc.errno in _MISSING:
            return []
        raise GpuFactsError("cannot list %s: %s" % (base, exc.strerror or exc))
    gpus = []
    for name in names:
        dev = base + "/" + name
        vendor = _hex(read_text(root, dev + "/vendor"))
        pci_class = _hex(read_text(root, dev + "/class"))
        if vendor != NVIDIA_VENDOR or pci_class is None or pci_class >> 8 not in classes:
            continue
        device = _hex(read_text(root, dev + "/device"))
        driver_link = host_path(root, dev + "/driver")
        gpus.append({
            "pci_address": name,
            "vendor_id": _hex_str(vendor, 4),
            "device_id": _hex_str(device, 4),
            "class": _hex_str(pci_class, 6),
            "numa_node": _numa_node(read_text(root, dev + "/numa_node")),
            "driver": os.path.basename(os.readlink(driver_link)) if os.path.islink(driver_link) else None,
        })
    return sorted(gpus, key=lambda g: parse_pci_address(g["pci_address"]) or (1 << 32, g["pci_address"]))


def parse_driver_version(text):
    """Parse the contents of ``/proc/driver/nvidia/version``.

    ``text`` (str or None) is the file, e.g. (proprietary, then open kernel modules)
    ``NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.173.02  Tue Jun 23 ...`` or
    ``NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01  Release Build ...``.

    :returns: dict ``line`` (the first ``NVRM version:`` line, str, or None), ``version``
        (str such as ``565.57.01``, or None) and ``flavour`` (``open`` when the module
        calls itself an Open Kernel Module, ``proprietary`` otherwise; None without a
        ``NVRM version:`` line).
    """
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("NVRM version:"):
            m = _NVRM_VERSION.search(line)
            return {"line": line, "version": m.group(1) if m else None,
                    "flavour": "open" if "Open Kernel Module" in line else "proprietary"}
    return {"line": None, "version": None, "flavour": None}


def efi_variable_flag(root, name):
    """The one-byte UEFI global variable ``name`` (``SecureBoot``, ``SetupMode``) from
    efivarfs below ``root``: True when its data byte is 1, False when 0.

    :returns: bool, or None when the variable does not exist.
    :raises GpuFactsError: the variable cannot be read or holds no data byte (efivarfs
        files are 4 bytes of attributes followed by the data).
    """
    path = "/sys/firmware/efi/efivars/%s-%s" % (name, EFI_GLOBAL_GUID)
    data = read_bytes(root, path)
    if data is None:
        return None
    if len(data) < 5:
        raise GpuFactsError("EFI variable %s holds %d bytes; expected 4 bytes of attributes and 1 data byte"
                            % (path, len(data)))
    return bytearray(data)[4] == 1


def secure_boot(root):
    """Secure Boot state of the host below ``root``.

    :returns: tuple (state, setup_mode, warning): state ``unsupported`` when there is no
        ``/sys/firmware/efi`` (BIOS boot), ``enabled`` when the SecureBoot variable's
        data byte is 1, ``disabled`` otherwise (also when UEFI has no SecureBoot
        variable); setup_mode bool, or None without UEFI or without the SetupMode
        variable; warning str or None, set when efivarfs is not mounted, so that
        ``disabled`` is a guess.
    :raises GpuFactsError: as :func:`efi_variable_flag`.
    """
    if not os.path.isdir(host_path(root, "/sys/firmware/efi")):
        return "unsupported", None, None
    enabled = efi_variable_flag(root, "SecureBoot")
    setup_mode = efi_variable_flag(root, "SetupMode")
    warning = None
    efivars = host_path(root, "/sys/firmware/efi/efivars")
    if enabled is None and not (os.path.isdir(efivars) and os.listdir(efivars)):
        warning = ("/sys/firmware/efi/efivars is empty or missing (efivarfs not mounted?): "
                   "Secure Boot state unknown, reported as disabled")
    return ("enabled" if enabled else "disabled"), setup_mode, warning


def kernel_headers(root, kernel):
    """Whether the build headers of kernel release ``kernel`` (str) are installed below
    ``root``: ``/lib/modules/<kernel>/build`` resolves (inside ``root``,
    :func:`resolve_in_root`) to a directory holding a ``Makefile``.

    :returns: tuple (present: bool, path: str or None, the resolved build directory as
        on the host, e.g. ``/usr/src/linux-headers-6.1.0-18-amd64``, when present).
    """
    build = resolve_in_root(root, "/lib/modules/%s/build" % kernel)
    if build is None or not os.path.isdir(host_path(root, build)):
        return False, None
    makefile = resolve_in_root(root, build.rstrip("/") + "/Makefile")
    if makefile is None or not os.path.isfile(host_path(root, makefile)):
        return False, None
    return True, build


def _smi_value(text):
    """A value of nvidia-smi CSV output (str) or None for an empty one, ``N/A`` or a
    bracketed one such as ``[N/A]``, ``[Not Supported]``, ``[Unknown Error]``."""
    text = text.strip()
    if not text or text == "N/A" or (text.startswith("[") and text.endswith("]")):
        return None
    return text


def _mib(text):
    """Memory size in MiB (int) of a ``memory.total`` value (``15360`` with nounits,
    ``15360 MiB`` without), None when unknown."""
    value = _smi_value(text)
    if value and value.endswith(" MiB"):
        value = value[:-4].strip()
    return int(value) if value and value.isdigit() else None


def parse_query_gpu(stdout):
    """Parse ``nvidia-smi --query-gpu=pci.bus_id,name,memory.total,uuid,driver_version
    --format=csv,noheader,nounits`` output: one line per GPU, values separated by
    ``, `` in that order, e.g. ``00000000:3B:00.0, Tesla T4, 15360, GPU-..., 550.163.01``.

    :returns: tuple (gpus, bad): gpus dict {PCI address tuple (:func:`parse_pci_address`):
        dict ``name`` (str or None), ``memory_mib`` (int or None), ``uuid`` (str or None),
        ``driver_version`` (str or None)}; bad, the lines that are not such a line (list
        of str).
    """
    gpus, bad = {}, []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        fields = line.split(",")
        address = parse_pci_address(fields[0]) if len(fields) >= 5 else None
        if address is None:
            bad.append(line.strip())
            continue
        # A name never holds a comma today; should one, the fields around it still fit.
        gpus[address] = {
            "name": _smi_value(",".join(fields[1:-3])),
            "memory_mib": _mib(fields[-3]),
            "uuid": _smi_value(fields[-2]),
            "driver_version": _smi_value(fields[-1]),
        }
    return gpus, bad


def parse_query_header(stdout):
    """``Driver Version`` and ``CUDA Version`` from the header of ``nvidia-smi -q``
    output (``CUDA Version                              : 12.2``).

    :returns: dict ``driver_version`` and ``cuda_version`` (str such as ``12.2``, or
        None when missing or not a version, e.g. ``N/A``).
    """
    out = {"driver_version": None, "cuda_version": None}
    for kind, value in _SMI_HEADER.findall(stdout):
        key = "driver_version" if kind == "Driver" else "cuda_version"
        if out[key] is None and _VERSION.match(value):
            out[key] = value
    return out


def command_error(cmd, rc, stdout, stderr):
    """Message (str) for a failed command: the argv (list of str), its exit status and
    what it printed (nvidia-smi prints its errors on stdout), on one line, at most 500
    characters."""
    said = " ".join(line.strip() for line in (stdout + "\n" + stderr).splitlines() if line.strip())
    if len(said) > 500:
        said = said[:497] + "..."
    return "%s exited with rc %s: %s" % (" ".join(cmd), rc, said or "(no output)")


# Shim's MOK variables (rhboot/shim MokVars.txt): the runtime copy of the MOK list,
# exported by the kernel (drivers/firmware/efi/mokvar-table.c) as a raw EFI_SIGNATURE_LIST
# sequence in /sys/firmware/efi/mok-variables/MokListRT, and by efivarfs with the usual
# 4 bytes of attributes in front.
MOK_GUID = "605dab50-e046-4300-abb6-3dd810dd8b23"
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def certificate_der(data):
    """The DER bytes of a certificate given as DER or PEM (bytes).

    :returns: bytes, the DER encoding (PEM: the base64 body of its first CERTIFICATE block).
    :raises GpuFactsError: PEM text without a CERTIFICATE block or with bad base64.
    """
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    if "-----BEGIN" not in text:
        return data
    m = _PEM_CERT.search(text)
    if not m:
        raise GpuFactsError("PEM data holds no CERTIFICATE block")
    try:
        return base64.b64decode("".join(m.group(1).split()))
    except (ValueError, TypeError) as exc:
        raise GpuFactsError("bad base64 in the PEM certificate: %s" % exc)


def mok_enrolled(root, cert_path):
    """Whether the certificate at ``cert_path`` (str, DER or PEM, read below ``root``) is
    in the host's MOK list: its DER bytes occur in MokListRT
    (``/sys/firmware/efi/mok-variables/MokListRT``, else efivarfs
    ``MokListRT-605dab50-e046-4300-abb6-3dd810dd8b23``; each an EFI_SIGNATURE_LIST of
    X.509 entries, UEFI specification section 32.4.1).

    :returns: tuple (enrolled, error): enrolled bool; error str naming what is missing
        (the certificate file, or every MokListRT location) when enrolled is False
        for that reason, else None.
    :raises GpuFactsError: the certificate is unreadable PEM (:func:`certificate_der`).
    """
    cert = read_bytes(root, cert_path)
    if cert is None:
        return False, "certificate %s does not exist" % cert_path
    der = certificate_der(cert)
    paths = ["/sys/firmware/efi/mok-variables/MokListRT", "/sys/firmware/efi/efivars/MokListRT-%s" % MOK_GUID]
    for path in paths:
        data = read_bytes(root, path)
        if data is not None:
            if der in data:
                return True, None
            return False, "%s does not contain the certificate %s" % (path, cert_path)
    return False, "no MOK list on this host (%s missing)" % " and ".join(paths)

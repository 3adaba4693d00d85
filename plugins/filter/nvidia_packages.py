# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.nvidia_packages``: the kernel-following and fabric manager packages of a GPU host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: nvidia_packages
short_description: Packages that keep the NVIDIA kernel module working across kernel updates, and the fabric manager
version_added: 0.3.0
description:
  - Takes a kernel release (C(uname -r)) and returns the header packages DKMS needs, the
    signed precompiled module packages (Ubuntu), and the NVIDIA Fabric Manager packages of a
    host with NVSwitches.
  - "Headers (DKMS): the running (or target) kernel's C(linux-headers-<release>) and the
    flavour's metapackage, which depends on the headers of the newest kernel of that
    flavour, so that DKMS builds the module for the next kernel when it is installed
    (its C(header_postinst.d) hook) and the module is there after the reboot. Debian
    (linux source package): releases C(<version>-<abi>-<flavour>), C(<version>+debNN-<flavour>)
    (Debian 13) or C(<version>+bpo-<flavour>) (backports), metapackage
    C(linux-headers-<flavour>) (C(amd64), C(cloud-amd64), C(rt-amd64), C(arm64)). Ubuntu
    (linux-meta): releases C(<version>-<abi>-<flavour>), metapackage
    C(linux-headers-<flavour>), with C(-hwe-<release>) for the C(generic), C(generic-64k)
    and C(lowlatency) flavours when the kernel is not the release's GA kernel (22.04 5.15,
    24.04 6.8)."
  - "Precompiled (Ubuntu, linux-restricted-modules): C(linux-modules-nvidia-<branch>-server[-open]-<release>)
    and the flavour's metapackage C(linux-modules-nvidia-<branch>-server[-open]-<flavour>),
    which follows the kernel (NVIDIA's and Canonical's precompiled-driver instructions)."
  - "Fabric manager: Ubuntu C(nvidia-fabricmanager-<branch>) (multiverse). Debian has no
    fabric manager package: the list is empty unless O(fabric_manager) names packages."
  - A release that matches no distribution form (a custom kernel) gets its own headers only;
    C(follows_kernel) is then false.
options:
  _input:
    description: Kernel release (C(uname -r) form), e.g. C(6.1.0-18-amd64).
    type: str
    required: true
  distribution:
    description: C(Debian) or C(Ubuntu) (C(ansible_facts.distribution)).
    type: str
    required: true
  distribution_version:
    description: Release, e.g. C(12) or C(22.04) (C(ansible_facts.distribution_version)); decides Ubuntu's HWE names.
    type: str
    required: true
  branch:
    description: Driver branch, e.g. C(550); Ubuntu's precompiled packages are listed only with it.
    type: str
  flavour:
    description: Kernel module flavour, C(proprietary) or C(open).
    type: str
    default: proprietary
  headers:
    description: C(nvidia_kernel_headers_packages); a non-empty list replaces the computed headers.
    type: list
    elements: str
  nvswitch:
    description: Whether the host has NVSwitches (C(ansible_facts.onprem_gpu.fabric_manager_needed)).
    type: bool
    default: false
  fabric_manager:
    description: C(nvidia_fabricmanager_packages); a non-empty list replaces the distribution's.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Packages for this host
  ansible.builtin.debug:
    msg: "{{ ansible_facts['kernel'] | onprem.stack.nvidia_packages('Debian', '12') }}"
  # {"headers": ["linux-headers-6.1.0-18-amd64", "linux-headers-amd64"], "precompiled": [],
  #  "fabric_manager": [], "follows_kernel": true, "meta_flavour": "amd64"}
"""

RETURN = r"""
_value:
  description:
    - C(headers) (list of str, for DKMS), C(precompiled) (list of str; Ubuntu with O(branch)
      only, else empty), C(fabric_manager) (list of str; empty without O(nvswitch) or where the
      distribution has none), C(follows_kernel) (bool, a metapackage was found) and
      C(meta_flavour) (str, the metapackages' flavour, or null).
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

# Ubuntu's GA kernel (major.minor) per LTS release (Ubuntu kernel lifecycle); a newer
# kernel on that release is an HWE kernel, whose metapackages end in -hwe-<release>.
UBUNTU_GA = {"20.04": (5, 4), "22.04": (5, 15), "24.04": (6, 8)}
UBUNTU_HWE_FLAVOURS = ("generic", "generic-64k", "lowlatency")
_DEBIAN_RE = re.compile(r"^(?P<major>[0-9]+)\.(?P<minor>[0-9]+)(\.[0-9]+)?(-[0-9]+|\+deb[0-9]+|\+bpo)-(?P<flavour>[a-z0-9][a-z0-9-]*)$")
_UBUNTU_RE = re.compile(r"^(?P<major>[0-9]+)\.(?P<minor>[0-9]+)\.[0-9]+-[0-9]+-(?P<flavour>[a-z][a-z0-9-]*)$")
_BRANCH_RE = re.compile(r"^[0-9]{3}$")


def _str_list(value, name):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise AnsibleFilterError("nvidia_packages: %s must be a list of package names, got %r" % (name, value))
    return list(value)


def meta_flavour(kernel, distribution, distribution_version):
    """The flavour of the metapackages that follow ``kernel`` (str), or None for a custom kernel.

    :param kernel: kernel release, ``uname -r`` form (str).
    :param distribution: ``Debian`` or ``Ubuntu`` (str).
    :param distribution_version: ``12``, ``22.04``, ... (str).
    :returns: str such as ``amd64``, ``cloud-amd64``, ``generic``, ``generic-hwe-22.04``; None
        when the release has no distribution form.
    """
    m = (_DEBIAN_RE if distribution == "Debian" else _UBUNTU_RE).match(kernel)
    if not m:
        return None
    flavour = m.group("flavour")
    if distribution == "Ubuntu" and flavour in UBUNTU_HWE_FLAVOURS:
        release = ".".join(str(distribution_version).split(".")[:2])
        ga = UBUNTU_GA.get(release)
        if ga and (int(m.group("major")), int(m.group("minor"))) != ga:
            flavour = "%s-hwe-%s" % (flavour, release)
    return flavour


def nvidia_packages(kernel, distribution, distribution_version, branch="", flavour="proprietary", headers=None,
                    nvswitch=False, fabric_manager=None):
    """Return the kernel-following and fabric manager packages (see DOCUMENTATION).

    :param kernel: str, the target kernel release (``uname -r`` form).
    :param distribution: str, ``Debian`` or ``Ubuntu``.
    :param distribution_version: str, e.g. ``12`` or ``24.04``.
    :param branch: str, driver branch (three digits); Ubuntu's precompiled packages are
        listed only with it, and its fabric manager package needs it.
    :param flavour: str, ``proprietary`` or ``open``.
    :param headers: list of str or None, ``nvidia_kernel_headers_packages``.
    :param nvswitch: bool, the host has NVSwitches.
    :param fabric_manager: list of str or None, ``nvidia_fabricmanager_packages``.
    :returns: dict with ``headers``, ``precompiled``, ``fabric_manager`` (lists of str),
        ``follows_kernel`` (bool) and ``meta_flavour`` (str or None).
    :raises AnsibleFilterError: naming the value, for an empty kernel release, another
        distribution, a missing branch where one is needed, or lists of the wrong shape.
    """
    if not isinstance(kernel, str) or not kernel.strip():
        raise AnsibleFilterError("nvidia_packages: want a kernel release (uname -r, e.g. 6.1.0-18-amd64), got %r"
                                 % (kernel,))
    if distribution not in ("Debian", "Ubuntu"):
        raise AnsibleFilterError("nvidia_packages: distribution must be Debian or Ubuntu, got %r" % (distribution,))
    if flavour not in ("proprietary", "open"):
        raise AnsibleFilterError("nvidia_packages: nvidia_driver_flavour must be proprietary or open, got %r" % (flavour,))
    headers = _str_list(headers, "nvidia_kernel_headers_packages")
    fabric_manager = _str_list(fabric_manager, "nvidia_fabricmanager_packages")
    branch = str(branch or "")
    ubuntu = distribution == "Ubuntu"
    if branch and not _BRANCH_RE.match(branch) or (ubuntu and nvswitch and not fabric_manager and not branch):
        raise AnsibleFilterError("nvidia_packages: the driver branch must be three digits such as 550 (Ubuntu's "
                                 "fabric manager package is named after it), got %r" % (branch,))
    meta = meta_flavour(kernel, distribution, distribution_version)
    out = {"headers": [], "precompiled": [], "fabric_manager": [], "follows_kernel": meta is not None,
           "meta_flavour": meta}
    if ubuntu and branch:
        prefix = "linux-modules-nvidia-%s-server%s-" % (branch, "-open" if flavour == "open" else "")
        out["precompiled"] = [prefix + kernel] + ([prefix + meta] if meta else [])
    out["headers"] = headers or ["linux-headers-" + kernel] + (["linux-headers-" + meta] if meta else [])
    if nvswitch:
        out["fabric_manager"] = fabric_manager or (["nvidia-fabricmanager-" + branch] if ubuntu else [])
    return out


class FilterModule(object):
    def filters(self):
        return {"nvidia_packages": nvidia_packages}

"""What prepare.yml made the role refuse, on the fresh hosts, before the converge:

- nvidia-d12, a fixture tree with an NVIDIA T4 and Secure Boot on (the EFI variable),
  no MOK key: the role failed before any package or source changed (prepare.yml
  compared dpkg's database before and after);
- nvidia-d13, the open flavour: nvidia-open-kernel-dkms 550.163.01-2 does not build for
  Debian 13's 6.12 kernel (shared TEST-HOST.md); the role failed naming the package,
  the kernel and the first compiler error, kept the DKMS make.log and purged the
  half-configured package, so that the converge with the proprietary flavour completed.
"""
import os
import pathlib

import onprem_verify

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."))


def test_secure_boot_refusal_names_the_fix():
    msg = (EPHEMERAL / "secure-boot-refusal.txt").read_text()
    assert "Secure Boot enabled" in msg
    assert "nvidia_mok_key and nvidia_mok_cert" in msg
    assert "mokutil --import" in msg and "MokManager" in msg
    assert "Nothing was installed." in msg


def test_open_flavour_failure_names_package_kernel_and_compiler_error():
    kernel = (EPHEMERAL / "kernel-nvidia-d13").read_text().strip()
    msg = " ".join((EPHEMERAL / "open-flavour-failure.txt").read_text().split())
    assert "nvidia-open-kernel-dkms" in msg
    assert "for kernel %s failed" % kernel in msg
    # gcc quotes with the locale's quotation marks (U+2018/U+2019 under UTF-8)
    assert "nv-pci.c:237:9: error: too few arguments to function" in msg and "pci_resize_resource" in msg
    assert "/var/log/onprem-nvidia/dkms-make-nvidia-open-kernel-dkms-%s.log" % kernel in msg
    assert "Purged what dpkg left unconfigured (nvidia-open-kernel-dkms)" in msg


def test_open_flavour_log_kept_and_apt_usable():
    host = onprem_verify.get_host("nvidia-d13")
    kernel = (EPHEMERAL / "kernel-nvidia-d13").read_text().strip()
    log = host.file("/var/log/onprem-nvidia/dkms-make-nvidia-open-kernel-dkms-%s.log" % kernel)
    assert log.exists and "pci_resize_resource" in log.content_string
    assert host.run("dpkg --audit").stdout == ""
    assert host.run("apt-get check").rc == 0
    assert host.run("apt-get install --simulate --no-install-recommends jq").rc == 0

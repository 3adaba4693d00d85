"""The GPU host of the air-gapped site (airgap-data, group gpu, nvidia_require_gpu false;
no GPU on the CI host): the driver packages come from the bundle's apt repository, which
the bundle resolved with Debian's contrib/non-free/non-free-firmware components because
the inventory has a GPU host, and DKMS built the module there for the kernel of the
bundle's headers metapackage (the CI host's own kernel has no headers package).
"""
import json
import re

import onprem_verify
from test_airgap import BUNDLE_REPO, installed_origins

testinfra_hosts = onprem_verify.hosts("gpu")

DRIVER_PACKAGES = ["nvidia-kernel-dkms", "nvidia-smi", "libcuda1", "firmware-nvidia-gsp", "linux-headers-amd64"]


def _kernel():
    packages = (onprem_verify.bundle_dir() / "repos" / "debian-13" / "Packages").read_text()
    m = re.search(r"Package: linux-headers-amd64\n(?:.+\n)*?Depends: linux-headers-(\S+)", packages)
    assert m, "the bundle's repository has no linux-headers-amd64"
    return m.group(1)


def test_driver_packages_from_the_bundle(host):
    origins = {package: installed_origins(host, package) for package in DRIVER_PACKAGES}
    assert all(any(o.startswith(BUNDLE_REPO + " ") for o in found) for found in origins.values()), origins


def test_bundle_records_the_components_it_resolved_with():
    inputs = json.loads((onprem_verify.bundle_dir() / "repos" / "debian-13" / "onprem-inputs.json").read_text())
    assert inputs["components"] == ["contrib", "non-free", "non-free-firmware"]
    assert {"nvidia-kernel-dkms", "firmware-nvidia-gsp", "linux-headers-amd64"} <= set(inputs["packages"])


def test_dkms_built_the_module(host):
    kernel = _kernel()
    assert ": installed" in host.check_output("dkms status -k %s nvidia-current", kernel)
    assert host.run("modinfo -k %s -F filename nvidia-current", kernel).rc == 0


def test_model_weights_from_the_bundle(host):
    """models/tiny.bin of bundle_files, placed with the sha256 bundle.json records."""
    manifest = json.loads((onprem_verify.bundle_dir() / "bundle.json").read_text())
    want = {f["path"]: f["sha256"] for f in manifest["files"]}["files/models/tiny.bin"]
    weights = host.file("/srv/models/tiny.bin")
    assert weights.exists and weights.sha256sum == want

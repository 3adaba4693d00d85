"""The driver on the GPU-less podman host of group gpu (nvidia_require_gpu false): Debian 12's
DKMS packages installed and the module built for the distribution kernel whose headers
are installed (the CI host's own kernel has no headers package, so the scenario pins
nvidia_kernel_release to that kernel; prepare.yml records it). No GPU here, so nothing
is loaded; gpu_facts runs for real against the host. Debian 13's driver is built by the
airgap scenario (molecule/airgap/tests/test_airgap_gpu.py), from the bundle.
"""
import json
import os
import pathlib
import subprocess

import onprem_verify

testinfra_hosts = onprem_verify.hosts("gpu")

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "."))
BRANCH = {"nvidia-d12": "535."}


def _kernel(host):
    name = onprem_verify.inventory_name(host)
    return (EPHEMERAL / ("kernel-" + name)).read_text().strip()


def test_dkms_built_the_module_for_the_pinned_kernel(host):
    kernel = _kernel(host)
    status = host.check_output("dkms status -k %s", kernel)
    assert "nvidia-current/" + BRANCH[onprem_verify.inventory_name(host)] in status and ": installed" in status, status
    modinfo = host.run("modinfo -k %s -F filename nvidia-current", kernel)
    assert modinfo.rc == 0 and "/updates/dkms/nvidia-current.ko" in modinfo.stdout, modinfo.stderr


def test_driver_packages_of_the_pinned_branch(host):
    branch = BRANCH[onprem_verify.inventory_name(host)]
    for name in ("nvidia-kernel-dkms", "nvidia-smi", "libcuda1", "firmware-nvidia-gsp"):
        pkg = host.package(name)
        assert pkg.is_installed, name
        assert pkg.version.startswith(branch), (name, pkg.version)
    # headless: no X driver metapackage, no open flavour
    assert not host.package("nvidia-driver").is_installed
    assert not host.package("nvidia-open-kernel-dkms").is_installed
    assert host.package("linux-headers-" + _kernel(host)).is_installed


def test_non_free_source_signed_by_the_archive_key(host):
    source = host.file("/etc/apt/sources.list.d/onprem-nvidia-debian.sources")
    assert source.exists
    text = source.content_string
    assert "Components: contrib non-free non-free-firmware" in text
    assert "Signed-By: /usr/share/keyrings/debian-archive-keyring." in text


def test_nouveau_blacklisted(host):
    conf = host.file("/etc/modprobe.d/onprem-nouveau.conf")
    assert conf.exists and conf.mode == 0o644
    assert "blacklist nouveau" in conf.content_string
    assert "options nouveau modeset=0" in conf.content_string


def test_gpu_facts_on_the_host(host):
    """gpu_facts for real: no NVIDIA GPU in a container of the CI VM, no EFI there, and the
    headers of the pinned kernel installed."""
    name = onprem_verify.inventory_name(host)
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)  # no profile_tasks lines in the JSON
    run = subprocess.run(["ansible", "-i", str(onprem_verify.inventory_dir()), name, "-m", "onprem.stack.gpu_facts",
                          "-a", "kernel=%s" % _kernel(host)], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][name]
    facts = result["ansible_facts"]["onprem_gpu"]
    assert facts["count"] == 0 and facts["present"] is False
    assert facts["secure_boot"] == "unsupported"
    assert facts["kernel_headers"] is True, json.dumps(facts)
    assert facts["driver_loaded"] is False


def test_model_weights_placed_with_their_sha256(host):
    weights = host.file("/srv/models/tiny/weights.bin")
    assert weights.exists and weights.mode == 0o644
    assert weights.sha256sum == "f603b8725bf4602cb0edc97e38f4fddeb4ae4f224fe3b0ababe64c3f6e7e671e"

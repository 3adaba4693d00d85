"""The bundle's package list for GPU hosts (roles/nvidia/tasks/packages.yml, entry point
``packages``) through a real ansible-playbook run on localhost: a GPU host that names its
kernel release gets that kernel's headers and the flavour's metapackage, so that the
air-gapped host's DKMS also builds for the next kernel of the bundle (issue 19, fault 9);
nvidia_fabricmanager_packages of a host go into the bundle too (fault 10). Changes nothing;
no container, no network. Cost: one playbook run, a few seconds.
"""
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_bundle_headers_follow_the_next_kernel(tmp_path):
    out = tmp_path / "packages.json"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"gpu": {"hosts": {
        "gpu1": {"nvidia_kernel_release": "6.1.0-18-amd64"},
        "gpu2": {"nvidia_kernel_release": "6.1.0-18-cloud-amd64",
                 "nvidia_fabricmanager_packages": ["nvidia-fabricmanager-535"]},
        "gpu3": {"nvidia_kernel_headers_packages": ["linux-headers-6.1.0-17-amd64"]},
    }}}}}))
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "onprem.stack.nvidia", "tasks_from": "packages"},
         "vars": {"stack_packages_os": "debian-12"}},
        {"ansible.builtin.copy": {"dest": str(out), "mode": "0600",
                                  "content": "{{ __nvidia_os_packages | ansible.builtin.to_json }}"}}]}]))
    res = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                          "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                          str(play)], cwd=REPO, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    packages = json.loads(out.read_text())["debian-12"]
    assert {"linux-headers-6.1.0-18-amd64", "linux-headers-amd64", "linux-headers-6.1.0-18-cloud-amd64",
            "linux-headers-cloud-amd64", "linux-headers-6.1.0-17-amd64", "nvidia-fabricmanager-535",
            "nvidia-kernel-dkms", "dkms"} <= set(packages), packages

"""A fault healed by a re-run (issue 8, section 4): the bundle directory's filesystem fills up during a build.

The bundle is built by the real playbooks/bundle.yml (helm, skopeo, docker-registry from registry_fixture.py)
into a tmpfs mounted small enough that the build runs out of space (``mount -t tmpfs -o size=...``: the
tests run as root; a host where mounting is not permitted reports the test as skipped by name). The run must
fail naming the file it was writing (Ansible's atomic move reports "failed to copy <src> to <dest>"; it does
not pass on the errno), leave no file under its final name, and no bundle.json (nothing a later run or
playbooks/airgap.yml would take as a complete bundle). With the filesystem grown (``mount -o remount,size=``,
the files stay), the re-run completes and the bundle passes full (sha256) verification: no partially written
file was taken as complete. Cost: about 30 s.
"""
import json
import os
import subprocess

import pytest

from skips import skip_not_provided

from registry_fixture import upstream  # noqa: F401 (a fixture)  # pylint: disable=unused-import

from test_bundle_playbook import _release, _run, _vars


@pytest.fixture
def small_fs(tmp_path):
    """``tmp_path/out`` as a 1 MiB tmpfs; unmounted afterwards."""
    out = tmp_path / "out"
    out.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(out)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        skip_not_provided("permission to mount a tmpfs (run as root)", res.stderr.strip())
    yield out
    subprocess.run(["umount", "-l", str(out)], check=False)


def test_bundle_build_on_a_full_filesystem(upstream, tmp_path, small_fs, run_module):  # noqa: F811
    reg = upstream[0]
    _release(tmp_path / "release")
    # 4 MiB of "model weights": more than the filesystem holds.
    (tmp_path / "release" / "weights.bin").write_bytes(os.urandom(4 << 20))
    v = _vars(tmp_path, reg, bundle_charts=[],
              bundle_files=[{"url": f"file://{tmp_path}/release/weights.bin", "dest": "models/weights.bin"}])
    p = _run(v, check=False)
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-3000:]
    bundle = small_fs / "bundle"
    target = bundle / "files" / "models" / "weights.bin"
    assert "failed to copy" in out and str(target) in out, "the error does not name the file being written:\n" + out[-3000:]
    assert not target.exists(), "a partial weights.bin was left under its final name"
    assert not (bundle / "bundle.json").exists(), "a bundle.json was written for an incomplete bundle"

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_fs)], check=True)
    _run(v)
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert "files/models/weights.bin" in {f["path"] for f in manifest["files"]}
    from ansible_collections.onprem.stack.plugins.modules import bundle as bundle_module  # noqa: PLC0415
    failed, res = run_module(bundle_module.main, {"path": str(bundle), "state": "verified", "mode": "full"})
    assert not failed, res

"""playbooks/bundle.yml end to end on the control node, with real helm, skopeo and
docker-registry: the upstream registry is the local fixture (registry_fixture.py) and
the k3s/helm "releases" are local file:// sources (the CI host has no internet); their
sha256 check is real. OS package repositories are built in the Molecule `airgap`
scenario (they need a target-OS container), not here (bundle_os_targets: []).
The tests that render charts run under helm 3 and helm 4 (the helm_binary fixture,
passed as bundle_helm_binary).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ansible_collections.onprem.stack.plugins.module_utils._oci import oci_blobs, oci_lookup

from registry_fixture import StallingProxy, bundle_vars, stand_in_release, upstream  # noqa: F401 (a fixture)  # pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def _release(d: Path, **kw):
    stand_in_release(d, **kw)


def _vars(tmp: Path, reg, **extra):
    rel = tmp / "release"
    extra.setdefault("bundle_files", [{"url": f"file://{rel}/k3s", "dest": "models/tiny.bin"}])
    f = tmp / "vars.yml"
    f.write_text(yaml.safe_dump(bundle_vars(tmp, rel, reg, **extra)))
    return f


def _run(varsfile, check=True, **popen):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    cmd = [PLAYBOOK, str(REPO / "playbooks" / "bundle.yml"), "-e", f"@{varsfile}"]
    if popen:
        return subprocess.Popen(cmd, env=env, cwd=REPO, **popen)
    p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if check:
        assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    return p


def _proc_table():
    """{pid: (state letter, parent pid)} of every process now."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(stat.parent.name)] = (fields[0], int(fields[1]))
    return table


def _tree(pid, table):
    """pid and its descendants in ``table`` (see _proc_table)."""
    children = {}
    for p, (_state, ppid) in table.items():
        children.setdefault(ppid, []).append(p)
    todo, tree = [pid], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def _kill_tree(pid, timeout=120):
    """SIGKILL pid and every descendant (ansible runs modules in their own sessions, so killing the process group
    alone would leave the module and skopeo running), and wait until none of them runs any more (gone, or a
    zombie), ``timeout`` seconds at most. The tree is stopped (SIGSTOP) until no new process appears in it
    first, so that none forks a process that outlives the kill."""
    stopped = set()
    while True:
        fresh = [p for p in _tree(pid, _proc_table()) if p not in stopped]
        if not fresh:
            break
        for p in fresh:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        stopped.update(fresh)
    for p in stopped:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while True:
        table = _proc_table()
        running = [p for p in stopped if p in table and table[p][0] != "Z"]
        if not running:
            return
        assert time.monotonic() < deadline, "processes %s still run %d s after SIGKILL" % (running, timeout)
        time.sleep(0.05)


def _recap_changed(out):
    return int(out.rsplit("changed=", 1)[1].split()[0])


def test_build_rerun_pack_and_verify(upstream, helm_binary, tmp_path, run_module):  # noqa: F811
    reg, seeded = upstream
    _release(tmp_path / "release", helm=helm_binary)
    v = _vars(tmp_path, reg, bundle_extra_images=["docker.io/app/one:1.0"], bundle_pack=True,
              bundle_pack_part_size="64K", bundle_helm_binary=helm_binary)
    _run(v)
    b = tmp_path / "out" / "bundle"
    manifest = json.loads((b / "bundle.json").read_text())
    assert {i["ref"]: i["digest"] for i in manifest["images"]} == {
        "docker.io/app/one:1.0": seeded["app/one:1.0"], "ghcr.io/app/two:1.0": seeded["app/two:1.0"],
        "quay.io/app/multi:1.0": oci_lookup(str(b / "images"), "quay.io/app/multi:1.0")["digest"]}
    paths = {f["path"] for f in manifest["files"]}
    assert {"bin/k3s", "bin/helm", "k3s/k3s-airgap-images-amd64.tar.zst", "charts/mirrored-0.1.0.tgz",
            "files/models/tiny.bin", "images/index.json"} <= paths
    assert manifest["inputs"]["k3s_version"] and manifest["inputs"]["charts"]
    parts = sorted((tmp_path / "out").glob("bundle.tar.zst.part-*"))
    assert len(parts) > 1, "a 64K part size must split the archive"
    # The parts, joined, are the whole bundle.
    joined = subprocess.run("cat " + " ".join(map(str, parts)) + " | zstd -dc | tar tf -", shell=True,
                            capture_output=True, text=True, check=True).stdout.split()
    assert "bundle/bundle.json" in joined and "bundle/bin/k3s" in joined

    before = (b / "bundle.json").stat().st_mtime_ns
    p = _run(v)
    assert _recap_changed(p.stdout) == 0, p.stdout[-3000:]
    assert (b / "bundle.json").stat().st_mtime_ns == before

    from ansible_collections.onprem.stack.plugins.modules import bundle  # noqa: PLC0415
    failed, res = run_module(bundle.main, {"path": str(b), "state": "verified", "mode": "full"})
    assert not failed, res
    blob = sorted((b / "images" / "blobs" / "sha256").iterdir())[0]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    failed, res = run_module(bundle.main, {"path": str(b), "state": "verified", "mode": "full"})
    assert failed and f"images/blobs/sha256/{blob.name}" in res["msg"], res


def test_wrong_upstream_sha256_is_refused(upstream, tmp_path):  # noqa: F811
    """Stops at the k3s download, before any chart is rendered: no helm needed."""
    reg = upstream[0]
    rel = tmp_path / "release"
    _release(rel)
    (rel / "k3s").write_bytes(b"tampered\n")  # the sha256 list still names the original
    p = _run(_vars(tmp_path, reg), check=False)
    assert p.returncode != 0 and "checksum" in p.stdout.lower(), p.stdout[-3000:]
    assert not (tmp_path / "out" / "bundle" / "bin" / "k3s").exists()


def test_image_missing_upstream_names_image_and_chart(upstream, helm_binary, tmp_path):  # noqa: F811
    reg = upstream[0]
    _release(tmp_path / "release")
    charts = [{"chart": str(REPO / "tests" / "fixtures" / "charts" / "mirrored"), "release": "demo",
               "values": {"init": {"image": "ghcr.io/app/absent:9.9"}}}]
    p = _run(_vars(tmp_path, reg, bundle_charts=charts, bundle_helm_binary=helm_binary), check=False)
    assert p.returncode != 0
    assert "ghcr.io/app/absent:9.9" in p.stdout and "demo" in p.stdout, p.stdout[-3000:]


# The four images of the interrupted build, all as bundle_extra_images: no chart is rendered, so no helm runs.
KILLED_IMAGES = ["docker.io/app/one:1.0", "ghcr.io/app/two:1.0", "quay.io/app/multi:1.0", "docker.io/app/big:1.0"]


def test_killed_during_image_copy_then_rerun_copies_only_the_rest(upstream, tmp_path):  # noqa: F811
    """Kill ansible-playbook (and its skopeo) while app/big is being copied, then rerun. The first build pulls
    through a StallingProxy, which holds app/big's layer after 16 MiB: the build waits there, with the other
    images done and part of app/big written, until it is killed, however fast or slow the host. The rerun
    copies app/big only, keeps every blob already there and cleans up the partial one.

    The images are bundle_extra_images and no chart is rendered (bundle_charts: []): an interrupted image copy
    does not involve helm, so this runs once, not once per helm major; the images a chart names are copied under
    both majors in test_build_rerun_pack_and_verify and test_image_missing_upstream_names_image_and_chart."""
    reg, seeded = upstream
    _release(tmp_path / "release")
    layout = tmp_path / "out" / "bundle" / "images"
    proxy = StallingProxy(reg)
    try:
        held = _vars(tmp_path, reg, bundle_charts=[], bundle_extra_images=KILLED_IMAGES,
                     bundle_image_source_registry=proxy.host)
        held = held.rename(held.with_name("vars-held.yml"))
        proc = _run(held, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        interrupted = False
        deadline = time.monotonic() + 600  # the state is held by the proxy: only a broken build takes this long
        while time.monotonic() < deadline and proc.poll() is None:
            if (proxy.stalled.is_set() and list(layout.glob("**/oci-put-blob*"))
                    and oci_lookup(str(layout), "quay.io/app/multi:1.0")):
                interrupted = True
                break
            time.sleep(0.05)
        _kill_tree(proc.pid)  # and wait until no process of the build runs any more
        proc.wait()
    finally:
        proxy.close()
    assert interrupted, "the bundle build ended before app/big was held with the other images done"
    v = _vars(tmp_path, reg, bundle_charts=[], bundle_extra_images=KILLED_IMAGES)
    missing = [r for r in KILLED_IMAGES if oci_lookup(str(layout), r) is None]
    assert "docker.io/app/big:1.0" in missing and "quay.io/app/multi:1.0" not in missing
    before = oci_blobs(str(layout))
    p = _run(v)
    after = oci_blobs(str(layout))
    assert oci_lookup(str(layout), "docker.io/app/big:1.0")["digest"] == seeded["app/big:1.0"]
    assert all(after[d] == s for d, s in before.items())
    new = sum(s for d, s in after.items() if d not in before)
    assert 0 < new < sum(after.values())
    assert f"4 images ({len(missing)} copied" in p.stdout, p.stdout[-2000:]
    assert not list(layout.glob("**/oci-put-blob*"))

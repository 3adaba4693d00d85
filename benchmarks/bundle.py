#!/usr/bin/env python3
"""Air-gap bundle benchmark: prints figures, asserts nothing.

In one run, against a local upstream registry (tests/functional/registry_fixture.py:
docker-registry on loopback with TLS, images built offline with umoci):

1. image_mirror (the module, run as Ansible runs it: a Python process with its args
   file) copying app/one, app/two, app/big (48 MiB), app/multi (linux/amd64) and
   --images more images of --mib MiB each (own random layer on the shared busybox
   base) into one OCI layout, vs plain ``skopeo copy`` of the same images one by one
   into one layout. Ratio mirror/skopeo; target <= 1.1.
2. Bytes of the bundle's images/ directory vs the sum of the unique blob bytes the
   images reference (manifests, configs, layers, each digest once); target <= 1.02.
   Also shown: the bytes one OCI layout per image would take (no blob sharing).
3. playbooks/bundle.yml: first build vs no-op re-run (wall seconds); target re-run
   <= 10% of the build. With --os-image (default: the Debian 13 test image when it
   exists) the build also resolves the apt repository in a container of that image.

Usage: .venv/bin/python benchmarks/bundle.py [--images N] [--mib M] [--os-image IMAGE|none] [--json FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "functional"))
sys.path.insert(0, str(REPO / "collections"))

from registry_fixture import (  # noqa: E402
    Registry, _sh, bundle_vars, busybox_base, missing_tools, seed, stand_in_release)

BIN = Path(sys.executable).parent
IMAGES = ["app/one:1.0", "app/two:1.0", "app/big:1.0", "app/multi:1.0"]


def seed_more(reg, work, count, mib):
    """Push ``count`` images bench/imgN:1.0, each the busybox base plus its own layer of
    ``mib`` MiB of random bytes (built with umoci), to ``reg``; return their paths."""
    layout = work / "more"
    (work / "more-work").mkdir()
    busybox_base(layout, work / "more-work")
    refs = []
    for i in range(count):
        tag = "img%d" % i
        _sh("umoci", "tag", "--image", f"{layout}:base", tag)
        b = work / ("more-" + tag)
        _sh("umoci", "unpack", "--image", f"{layout}:{tag}", b)
        (b / "rootfs" / "data.bin").write_bytes(os.urandom(mib * 1024 * 1024))
        _sh("umoci", "repack", "--image", f"{layout}:{tag}", b)
        shutil.rmtree(b)
        _sh("skopeo", "copy", "--dest-cert-dir", reg.certs, f"oci:{layout}:{tag}", f"docker://{reg.host}/bench/{tag}:1.0")
        refs.append("bench/%s:1.0" % tag)
    return refs


def du(path):
    """Sum of the sizes of the regular files under path (bytes)."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())


def unique_blob_bytes(layout):
    """Sum of sizes of every distinct blob reachable from the layout's index.json
    (image-spec: index -> manifests/indexes -> config + layers), each digest once."""
    seen = {}

    def walk(desc):
        d = desc["digest"]
        if d in seen:
            return
        seen[d] = desc["size"]
        kinds = ("manifest.v1+json", "manifest.v2+json", "index.v1+json", "manifest.list.v2+json")
        if desc.get("mediaType", "").endswith(kinds):
            doc = json.loads((Path(layout) / "blobs" / "sha256" / d.split(":", 1)[1]).read_text())
            for m in doc.get("manifests", []):
                if (Path(layout) / "blobs" / "sha256" / m["digest"].split(":", 1)[1]).exists():
                    walk(m)
            if "config" in doc:
                walk(doc["config"])
            for layer in doc.get("layers", []):
                walk(layer)

    for m in json.loads((Path(layout) / "index.json").read_text())["manifests"]:
        walk(m)
    return sum(seen.values())


def timed(argv, **kw):
    t = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s\n%s" % (" ".join(map(str, argv)), p.stdout[-3000:], p.stderr[-3000:]))
    return time.monotonic() - t, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    default_os = "localhost/onprem-debian13-systemd:latest"
    ap.add_argument("--os-image", default=None, help="target-OS image for the apt repository (none: skip)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--images", type=int, default=8, help="extra images to copy (default 8)")
    ap.add_argument("--mib", type=int, default=24, help="size of each extra image's own layer in MiB (default 24)")
    a = ap.parse_args()
    if missing_tools():
        sys.exit("needs " + ", ".join(missing_tools()) + " (make host)")
    if not (BIN / "helm").exists():
        sys.exit("needs helm in %s (scripts/install-helm.sh)" % BIN)
    os_image = a.os_image
    if os_image is None:
        have = subprocess.run(["podman", "image", "exists", default_os], capture_output=True,
                              check=False).returncode == 0
        os_image = default_os if have else "none"
    work = Path(tempfile.mkdtemp(prefix="onprem-bench-bundle-"))
    reg = Registry(work / "upstream")
    fig = {}
    try:
        seed(reg, work / "seed")
        more = seed_more(reg, work, a.images, a.mib)
        refs = ["%s/%s" % (reg.host, r) for r in IMAGES + more]
        fig["images"] = len(refs)

        # 1. plain skopeo, one by one, into one layout
        plain = work / "plain"
        t0 = time.monotonic()
        for r in refs:
            timed(["skopeo", "copy", "--quiet", "--src-cert-dir", str(reg.certs), "--override-os", "linux",
                   "--override-arch", "amd64", "docker://" + r, "oci:%s:%s" % (plain, r)])
        fig["skopeo_s"] = round(time.monotonic() - t0, 2)

        # one layout per image (what a naive per-image tarball export stores)
        separate = 0
        for i, r in enumerate(refs):
            d = work / ("sep%d" % i)
            timed(["skopeo", "copy", "--quiet", "--src-cert-dir", str(reg.certs), "--override-os", "linux",
                   "--override-arch", "amd64", "docker://" + r, "oci:%s:x" % d])
            separate += du(d)

        # image_mirror, as Ansible runs a module
        layout = work / "mirror"
        args = work / "args.json"
        args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
            "layout": str(layout), "ca_cert_dir": str(reg.certs), "images": [{"ref": r} for r in refs]}}))
        env = dict(os.environ, PYTHONPATH=str(REPO / "collections"))
        t, p = timed([sys.executable, "-m", "ansible_collections.onprem.stack.plugins.modules.image_mirror", str(args)],
                     env=env)
        res = json.loads(p.stdout)
        assert res["copied"] == len(refs), res
        fig["image_mirror_s"] = round(t, 2)
        fig["mirror_over_skopeo"] = round(fig["image_mirror_s"] / fig["skopeo_s"], 3)
        t, p = timed([sys.executable, "-m", "ansible_collections.onprem.stack.plugins.modules.image_mirror", str(args)],
                     env=env)
        fig["image_mirror_noop_s"] = round(t, 2)

        # 2. bytes
        fig["layout_bytes"] = du(layout)
        fig["unique_blob_bytes"] = unique_blob_bytes(layout)
        fig["layout_over_unique"] = round(fig["layout_bytes"] / fig["unique_blob_bytes"], 4)
        fig["one_layout_per_image_bytes"] = separate

        # 3. bundle.yml build vs no-op re-run
        rel = work / "release"
        stand_in_release(rel, str(BIN / "helm"), k3s=os.urandom(1 << 20), images=os.urandom(1 << 20))
        v = bundle_vars(work, rel, reg, bundle_extra_images=["docker.io/app/big:1.0"],
                        bundle_os_targets=[] if os_image == "none" else [{"name": "debian-13", "image": os_image}])
        vf = work / "vars.json"
        vf.write_text(json.dumps(v))
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), PATH="%s%s%s" % (BIN, os.pathsep, os.environ["PATH"]))
        cmd = [str(BIN / "ansible-playbook"), str(REPO / "playbooks" / "bundle.yml"), "-e", "@%s" % vf]
        t = timed(cmd, env=env, cwd=REPO)[0]
        fig["bundle_build_s"] = round(t, 2)
        t, p = timed(cmd, env=env, cwd=REPO)
        fig["bundle_noop_s"] = round(t, 2)
        fig["bundle_noop_changed"] = int(p.stdout.rsplit("changed=", 1)[1].split()[0])
        fig["noop_over_build"] = round(fig["bundle_noop_s"] / fig["bundle_build_s"], 3)
        fig["bundle_bytes"] = du(work / "out" / "bundle")

        # 4. what the default stack_bundle_verify_mode=full (every sha256) costs over quick (sizes)
        for mode in ("quick", "full"):
            margs = work / ("verify-%s.json" % mode)
            margs.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
                "path": str(work / "out" / "bundle"), "state": "verified", "mode": mode}}))
            t, p = timed([sys.executable, "-m", "ansible_collections.onprem.stack.plugins.modules.bundle", str(margs)],
                         env=dict(os.environ, PYTHONPATH=str(REPO / "collections")))
            assert not json.loads(p.stdout).get("failed"), p.stdout
            fig["verify_%s_s" % mode] = round(t, 2)
        fig["os_image"] = os_image
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("image_mirror vs skopeo one by one (%d images):  %.2f s vs %.2f s  ratio %.3f (target <= 1.1)"
          % (fig["images"], fig["image_mirror_s"], fig["skopeo_s"], fig["mirror_over_skopeo"]))
    print("image_mirror no-op re-run:                        %.2f s" % fig["image_mirror_noop_s"])
    print("images/ bytes vs unique blob bytes:               %d vs %d  ratio %.4f (target <= 1.02)"
          % (fig["layout_bytes"], fig["unique_blob_bytes"], fig["layout_over_unique"]))
    print("one OCI layout per image (no sharing) would take: %d bytes" % fig["one_layout_per_image_bytes"])
    print("bundle.yml build vs no-op re-run (os image %s):  %.2f s vs %.2f s (changed=%d)  ratio %.3f (target <= 0.10)"
          % (fig["os_image"], fig["bundle_build_s"], fig["bundle_noop_s"], fig["bundle_noop_changed"],
             fig["noop_over_build"]))
    print("bundle directory bytes:                           %d" % fig["bundle_bytes"])
    print("bundle verify quick vs full (default, sha256):    %.2f s vs %.2f s  (%.0f MiB/s hashed)"
          % (fig["verify_quick_s"], fig["verify_full_s"],
             fig["bundle_bytes"] / 1048576 / max(fig["verify_full_s"] - fig["verify_quick_s"], 0.01)))
    if a.json:
        Path(a.json).write_text(json.dumps(fig, indent=1))


if __name__ == "__main__":
    main()

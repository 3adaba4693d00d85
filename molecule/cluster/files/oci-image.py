"""Write a one-layer OCI image archive from files of this host, for `ctr images import`.

    python3 oci-image.py OUT.tar NAME:TAG --entrypoint JSON [--cmd JSON] [--workdir DIR]
                 [--file SRC[:DEST]]... [--busybox] [--with-libs]

The archive is an OCI image layout in a tar (OCI image-spec: image-layout.md,
manifest.md, config.md; the layer is an uncompressed tar, media type
application/vnd.oci.image.layer.v1.tar), with the image name in the index's
`io.containerd.image.name` and `org.opencontainers.image.ref.name` annotations, which
`ctr images import` (containerd 1.7) reads as the image's name. It builds the test
workload images of the Molecule scenario `cluster` offline, from Debian packages
installed on the cluster host (busybox-static, catatonit, postgresql-client,
redis-tools): no image registry can be reached from the CI host.

--file copies SRC into the image at DEST (default: the same path); --with-libs adds
every shared library `ldd` lists for each copied ELF file, and the dynamic loader;
--busybox adds /bin/busybox and one link per applet in /bin. Exit 2 on bad arguments,
1 when a file is missing.
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

EPOCH = 0  # fixed mtimes: the same inputs give the same digests


def _ldd(path):
    """Shared libraries of ELF ``path`` (list of absolute paths; [] for static files)."""
    p = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
    libs = []
    for line in p.stdout.splitlines():
        parts = line.split()
        if "=>" in parts and parts[parts.index("=>") + 1].startswith("/"):
            libs.append(parts[parts.index("=>") + 1])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def _add(tar, src, dest, seen):
    """Add file ``src`` as ``dest`` (following links: the image holds the target's content),
    with its parent directories."""
    dest = dest.lstrip("/")
    if dest in seen:
        return
    parent = os.path.dirname(dest)
    if parent and parent not in seen:
        _add_dir(tar, parent, seen)
    info = tarfile.TarInfo(dest)
    st = os.stat(src)
    info.size, info.mode, info.mtime = st.st_size, st.st_mode & 0o7777, EPOCH
    with open(src, "rb") as f:
        tar.addfile(info, f)
    seen.add(dest)


def _add_dir(tar, path, seen):
    parent = os.path.dirname(path)
    if parent and parent not in seen:
        _add_dir(tar, parent, seen)
    info = tarfile.TarInfo(path)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
    tar.addfile(info)
    seen.add(path)


def _add_link(tar, path, target, seen):
    info = tarfile.TarInfo(path.lstrip("/"))
    info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, EPOCH
    tar.addfile(info)
    seen.add(path.lstrip("/"))


def layer(args):
    """The layer tar (bytes)."""
    buf = io.BytesIO()
    seen = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("tmp", "etc", "bin", "data"):
            _add_dir(tar, d, seen)
        files = []
        for spec in args.file:
            src, _sep, dest = spec.partition(":")
            files.append((src, dest or src))
        if args.busybox:
            files.append(("/bin/busybox", "/bin/busybox"))
        for src, dest in files:
            if not os.path.isfile(src):
                print(f"oci-image: {src}: no such file", file=sys.stderr)
                sys.exit(1)
            _add(tar, src, dest, seen)
            if args.with_libs:
                for lib in _ldd(src):
                    _add(tar, lib, lib, seen)
        if args.busybox:
            applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                                     check=True).stdout.split()
            for applet in applets:
                if "bin/" + applet not in seen:
                    _add_link(tar, "/bin/" + applet, "busybox", seen)
        passwd = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size, info.mode, info.mtime = len(passwd), 0o644, EPOCH
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def blob(out, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest)
    info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
    out.addfile(info, io.BytesIO(data))
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("name", help="image name with tag, e.g. docker.io/library/busybox:1.36.1")
    ap.add_argument("--entrypoint", type=json.loads, required=True, help="JSON list")
    ap.add_argument("--cmd", type=json.loads, default=None, help="JSON list")
    ap.add_argument("--workdir", default="/")
    ap.add_argument("--file", action="append", default=[], help="SRC[:DEST]")
    ap.add_argument("--busybox", action="store_true")
    ap.add_argument("--with-libs", action="store_true")
    args = ap.parse_args()
    if ":" not in args.name.rsplit("/", 1)[-1]:
        ap.error(f"image name {args.name!r} has no tag")
    data = layer(args)
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": args.entrypoint, "Cmd": args.cmd, "WorkingDir": args.workdir,
                         "Env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/lib/postgresql/17/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    with tarfile.open(args.out, "w") as out:
        layer_desc = blob(out, data, "application/vnd.oci.image.layer.v1.tar")
        config_desc = blob(out, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        manifest_desc = blob(out, json.dumps(manifest, sort_keys=True).encode(),
                             "application/vnd.oci.image.manifest.v1+json")
        manifest_desc["annotations"] = {"io.containerd.image.name": args.name,
                                        "org.opencontainers.image.ref.name": args.name.rsplit(":", 1)[1]}
        for name, content in (("oci-layout", {"imageLayoutVersion": "1.0.0"}),
                              ("index.json", {"schemaVersion": 2, "manifests": [manifest_desc]})):
            raw = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(raw), 0o644, EPOCH
            out.addfile(info, io.BytesIO(raw))
    print(f"{args.out}: {args.name} {manifest_desc['digest']}")


if __name__ == "__main__":
    main()

"""A local "upstream" registry for image tests, seeded offline.

Real components only: CNCF distribution (Debian's ``docker-registry``) on loopback
with TLS from a throw-away CA (openssl), images built with umoci from
busybox-static, copied with skopeo. Seeded content:

  app/one:1.0    base layer (busybox) + one layer
  app/two:1.0    the same base layer + another layer (blobs shared with app/one)
  app/big:1.0    base + a 48 MiB random layer (held in the middle by StallingProxy, to interrupt)
  app/multi:1.0  an OCI index with linux/amd64 and linux/arm64 images

Skipped (with the missing program named; a failure under CI=true) when
docker-registry, umoci, skopeo, busybox-static or openssl is missing.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

TOOLS = {"docker-registry": "/usr/bin/docker-registry", "umoci": "/usr/bin/umoci", "skopeo": "/usr/bin/skopeo",
         "busybox-static": "/bin/busybox", "openssl": "/usr/bin/openssl"}


def missing_tools():
    return [name for name, path in TOOLS.items() if not os.path.exists(path)]


def _sh(*argv, **kw):
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True, **kw)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(d: Path, name="test"):
    """Create d/ca.crt and a server cert d/server.crt|key for 127.0.0.1 and localhost."""
    d.mkdir(parents=True, exist_ok=True)
    _sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", d / "ca.key", "-out", d / "ca.crt", "-days", "30", "-subj", f"/CN={name} CA")
    _sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", d / "server.key", "-out", d / "server.csr", "-subj", "/CN=localhost")
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _sh("openssl", "x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.crt", "-CAkey", d / "ca.key",
        "-CAcreateserial", "-out", d / "server.crt", "-days", "2", "-extfile", ext)


class Registry:
    """A running docker-registry on 127.0.0.1 with TLS; .host is 'localhost:<port>',
    .certs a directory holding ca.crt (usable as skopeo --cert-dir)."""

    def __init__(self, root: Path, htpasswd: Path = None, detach: bool = False):
        self.root = root
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.certs = root / "certs"
        make_ca(root / "pki")
        self.certs.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / "pki" / "ca.crt", self.certs / "ca.crt")
        auth = ""
        if htpasswd:
            auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"
        cfg = root / "config.yml"
        cfg.write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n  tls:\n    certificate: {root / 'pki' / 'server.crt'}\n"
            f"    key: {root / 'pki' / 'server.key'}\n" + auth)
        self.log = open(root / "registry.log", "w")
        self._start(detach)

    def _start(self, detach=False):
        """Start docker-registry with root/config.yml; wait until it listens (it usually takes well under a
        second; 120 s at most, for a loaded host).
        :raises RuntimeError: with the registry's log when it exits or does not listen."""
        self.proc = subprocess.Popen(["docker-registry", "serve", str(self.root / "config.yml")], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=detach)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"docker-registry did not listen on {self.port}: {(self.root / 'registry.log').read_text()}")

    def restart(self):
        """Start the registry again after stop(): same address, TLS and storage."""
        self.log = open(self.root / "registry.log", "a")  # closed by stop()
        self._start()

    def stop(self):
        """Stop the registry and wait until it has exited (SIGTERM; SIGKILL when it has not exited 60 s later)."""
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def digest(self, ref):
        raw = _sh("skopeo", "inspect", "--raw", "--cert-dir", self.certs, f"docker://{self.host}/{ref}").stdout
        return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


class StallingProxy:
    """A TCP relay from 127.0.0.1:<own port> (``.host``) to the registry ``target`` that holds a large download
    in the middle, so that a test can interrupt a copy at a known point instead of racing it.

    TLS passes through untouched (the registry's certificate names IP 127.0.0.1, so ``target.certs`` still
    verifies it). Every connection is relayed as it is until it has carried ``stall_after`` bytes from the
    registry (no blob of the seeded images but app/big's 48 MiB layer comes near the default 16 MiB); then it
    relays nothing more from the registry on that connection until close(). ``stalled`` is set when the first
    connection is held. A copy of app/big through the proxy thus stops with part of its layer written, and
    stays there however fast or slow the host is; copies of the other images go through in full.
    """

    def __init__(self, target: Registry, stall_after: int = 16 << 20):
        self.target_port = target.port
        self.stall_after = stall_after
        self.stalled = threading.Event()
        self._closed = threading.Event()
        self._sockets = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._relay, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._relay, args=(upstream, client, True), daemon=True).start()

    def _relay(self, src, dst, from_registry):
        relayed = 0
        try:
            while not self._closed.is_set():
                data = src.recv(1 << 16)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if from_registry and relayed + len(data) >= self.stall_after:
                    dst.sendall(data[:self.stall_after - relayed])
                    self.stalled.set()
                    self._closed.wait()
                    return
                dst.sendall(data)
                relayed += len(data)
        except OSError:
            pass

    def close(self):
        """Stop relaying and close every connection (a held copy then fails, if it still runs)."""
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass


def busybox_base(layout: Path, work: Path) -> None:
    """Create the OCI layout ``layout`` (umoci) holding the image ``base``: one layer
    with /bin/busybox (busybox-static). ``work`` is a scratch directory."""
    _sh("umoci", "init", "--layout", layout)
    _sh("umoci", "new", "--image", f"{layout}:base")
    bundle = work / "bundle-base"
    _sh("umoci", "unpack", "--image", f"{layout}:base", bundle)
    (bundle / "rootfs" / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/busybox", bundle / "rootfs" / "bin" / "busybox")
    _sh("umoci", "repack", "--image", f"{layout}:base", bundle)


def _build_layout(work: Path):
    """Build the seed images into an OCI layout at work/src; return its path."""
    layout = work / "src"
    busybox_base(layout, work)

    def derive(tag, filename, content, arch=None):
        _sh("umoci", "tag", "--image", f"{layout}:base", tag)
        b = work / f"bundle-{tag}"
        _sh("umoci", "unpack", "--image", f"{layout}:{tag}", b)
        (b / "rootfs" / filename).write_text(content)
        _sh("umoci", "repack", "--image", f"{layout}:{tag}", b)
        if arch:
            _sh("umoci", "config", "--image", f"{layout}:{tag}", "--architecture", arch)
        # keep the history stable and small
    derive("one", "one.txt", "one\n" * 100)
    derive("two", "two.txt", "two\n" * 200)
    # app/big: 48 MiB of random data in its own layer, so that a copy takes long
    # enough to be interrupted in the middle.
    _sh("umoci", "tag", "--image", f"{layout}:base", "big")
    b = work / "bundle-big"
    _sh("umoci", "unpack", "--image", f"{layout}:big", b)
    (b / "rootfs" / "big.bin").write_bytes(os.urandom(48 * 1024 * 1024))
    _sh("umoci", "repack", "--image", f"{layout}:big", b)
    derive("amd64", "arch.txt", "amd64\n", arch="amd64")
    derive("arm64", "arch.txt", "arm64\n" * 2, arch="arm64")

    # An OCI index over the two platform images, added to the layout by hand
    # (image-spec image-index.md).
    index = json.loads((layout / "index.json").read_text())
    by_name = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
    manifests = []
    for arch in ("amd64", "arm64"):
        m = dict(by_name[arch])
        m.pop("annotations", None)
        m["platform"] = {"os": "linux", "architecture": arch}
        manifests.append(m)
    blob = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}, sort_keys=True).encode()
    digest = hashlib.sha256(blob).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(blob)
    index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                               "digest": "sha256:" + digest, "size": len(blob),
                               "annotations": {"org.opencontainers.image.ref.name": "multi"}})
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def seed(registry: Registry, work: Path):
    """Build the images and push them to ``registry``; return {ref: digest}."""
    layout = _build_layout(work)
    seeded = {}
    for tag, ref, extra in (("one", "app/one:1.0", []), ("two", "app/two:1.0", []), ("big", "app/big:1.0", []), ("multi", "app/multi:1.0", ["--all"])):
        _sh("skopeo", "copy", "--preserve-digests", *extra, "--dest-cert-dir", registry.certs,
            f"oci:{layout}:{tag}", f"docker://{registry.host}/{ref}")
        seeded[ref] = registry.digest(ref)
    return seeded


@pytest.fixture(scope="session")
def upstream(tmp_path_factory):
    """(Registry, {ref: digest}) of the seeded upstream registry."""
    from skips import skip_missing_tool  # noqa: PLC0415  (tests/skips.py, on sys.path under pytest only)
    missing = missing_tools()
    if missing:
        skip_missing_tool(", ".join(missing), "make host installs them")
    root = tmp_path_factory.mktemp("upstream")
    reg = Registry(root)
    try:
        yield reg, seed(reg, root / "build")
    finally:
        reg.stop()


REPO = Path(__file__).resolve().parents[2]


def stand_in_release(d: Path, helm: str = None, k3s: bytes = b"#!/bin/sh\necho stand-in k3s\n",
                     images: bytes = b"stand-in\n") -> None:
    """Write a stand-in upstream release directory ``d`` for playbooks/bundle.yml's
    file:// sources (the CI host has no internet): ``k3s`` and
    ``k3s-airgap-images-amd64.tar.zst`` with ``sha256sum-amd64.txt`` (the k3s release's
    format), and ``helm-v3.10.1-linux-amd64.tar.gz`` holding the binary ``helm`` (a real
    helm's path; None: a stand-in script, the bundle never runs it) with its
    ``.sha256sum`` (get.helm.sh's format)."""
    (d / "linux-amd64").mkdir(parents=True, exist_ok=True)
    (d / "k3s").write_bytes(k3s)
    (d / "k3s-airgap-images-amd64.tar.zst").write_bytes(images)
    (d / "sha256sum-amd64.txt").write_text("".join(
        "%s  %s\n" % (hashlib.sha256((d / n).read_bytes()).hexdigest(), n) for n in ("k3s", "k3s-airgap-images-amd64.tar.zst")))
    if helm:
        shutil.copy(helm, d / "linux-amd64" / "helm")
    else:
        (d / "linux-amd64" / "helm").write_bytes(b"#!/bin/sh\necho stand-in helm\n")
    with tarfile.open(d / "helm-v3.10.1-linux-amd64.tar.gz", "w:gz") as t:
        t.add(d / "linux-amd64", arcname="linux-amd64")
    h = hashlib.sha256((d / "helm-v3.10.1-linux-amd64.tar.gz").read_bytes()).hexdigest()
    (d / "helm-v3.10.1-linux-amd64.tar.gz.sha256sum").write_text("%s  helm-v3.10.1-linux-amd64.tar.gz\n" % h)


def bundle_vars(work: Path, release: Path, reg: "Registry", **extra) -> dict:
    """Variables for playbooks/bundle.yml building ``work``/out/bundle from the stand-in
    ``release`` directory, the fixture chart tests/fixtures/charts/mirrored and the
    seeded registry ``reg`` (as source mirror); no apt repositories unless ``extra`` sets
    bundle_os_targets. ``extra`` overrides or adds variables."""
    v = {
        "stack_bundle_dir": str(work / "out" / "bundle"),
        "bundle_cache_dir": str(work / "cache"),
        "bundle_k3s_url": f"file://{release}/k3s",
        "bundle_k3s_images_url": f"file://{release}/k3s-airgap-images-amd64.tar.zst",
        "bundle_k3s_sha256_url": f"file://{release}/sha256sum-amd64.txt",
        "bundle_helm_version": "v3.10.1",
        "bundle_helm_url": f"file://{release}/helm-v3.10.1-linux-amd64.tar.gz",
        "bundle_charts": [{"chart": str(REPO / "tests" / "fixtures" / "charts" / "mirrored"), "release": "demo"}],
        "bundle_image_source_registry": reg.host,
        "bundle_image_ca_cert_dir": str(reg.certs),
        "bundle_os_targets": [],
    }
    v.update(extra)
    return v


def _serve(root: Path) -> None:
    """Start a seeded upstream registry that outlives this process (for Molecule and
    benchmarks). Writes root/upstream.json: {"host", "certs", "pid", "images": {ref: digest}}."""
    import sys
    missing = missing_tools()
    if missing:
        sys.exit("needs " + ", ".join(missing) + " (make host installs them)")
    _stop(root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    reg = Registry(root, detach=True)
    seeded = seed(reg, root / "build")
    shutil.rmtree(root / "build", ignore_errors=True)
    (root / "upstream.json").write_text(json.dumps(
        {"host": reg.host, "certs": str(reg.certs), "pid": reg.proc.pid, "images": seeded}, indent=1))
    print(json.dumps({"host": reg.host, "certs": str(reg.certs), "images": seeded}))


def _stop(root: Path) -> None:
    """Stop the registry started by _serve under root (no error when none runs)."""
    info = root / "upstream.json"
    if not info.exists():
        return
    pid = json.loads(info.read_text()).get("pid")
    try:
        os.kill(int(pid), 15)
    except (OSError, TypeError, ValueError):
        pass
    info.unlink()


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Seeded local upstream registry (test fixture).")
    ap.add_argument("action", choices=["serve", "stop"])
    ap.add_argument("--root", required=True, type=Path, help="working directory (removed and recreated by serve)")
    a = ap.parse_args()
    _serve(a.root) if a.action == "serve" else _stop(a.root)

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds skopeo command lines (skopeo 1.9+, containers/skopeo).

Every call is an argv list run through ``AnsibleModule.run_command``; a failure
raises :class:`SkopeoError` carrying the command (with secrets masked), rc, stdout
and stderr. Transports used: ``docker://`` (a registry) and ``oci:<dir>:<ref>`` (an
OCI image layout, image-spec ``image-layout.md``; ``<ref>`` is stored as the
``org.opencontainers.image.ref.name`` annotation in ``index.json``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import base64
import hashlib
import json
import os
import tempfile

from ansible_collections.onprem.stack.plugins.module_utils._cli import CommandError


class SkopeoError(CommandError):
    """A skopeo command failed (see CommandError for the attributes)."""


class Endpoint(object):
    """How to reach one side of a copy.

    :param transport_ref: ``docker://host/repo:tag`` or ``oci:/dir:ref`` (str).
    :param tls_verify: verify the registry's TLS certificate (bool; docker:// only).
    :param cert_dir: directory with ``*.crt`` CA files for the registry (str or None).
    :param authfile: containers-auth.json(5) file (str or None).
    :param username, password: registry credentials (str or None). They never appear on
        a command line: they are written to a temporary containers-auth.json(5) file
        (mode 0600, removed when the process exits) passed as ``--authfile``, which
        takes the place of ``authfile``; the password is also masked in errors.
    """

    def __init__(self, transport_ref, tls_verify=True, cert_dir=None, authfile=None, username=None, password=None):
        self.ref = transport_ref
        self.tls_verify = tls_verify
        self.cert_dir = cert_dir
        self.authfile = authfile
        self.username = username
        self.password = password

    @property
    def is_registry(self):
        return self.ref.startswith("docker://")

    def flags(self, prefix):
        """Return skopeo flags for this endpoint; ``prefix`` is '', 'src-' or 'dest-'."""
        if not self.is_registry:
            return []
        out = ["--%stls-verify=%s" % (prefix, "true" if self.tls_verify else "false")]
        if self.cert_dir:
            out += ["--%scert-dir" % prefix, self.cert_dir]
        if self.username:
            out += ["--%sauthfile" % prefix, self._credentials_file()]
        elif self.authfile:
            out += ["--%sauthfile" % prefix, self.authfile]
        return out

    def _credentials_file(self):
        """Path of the 0600 containers-auth.json(5) file holding username/password for
        this endpoint's registry host (one file per host and credentials, shared by
        every Endpoint of the process, removed at exit)."""
        host = self.ref[len("docker://"):].split("/", 1)[0]
        key = (host, self.username, self.password or "")
        if key not in _CREDS_FILES:
            token = base64.b64encode(("%s:%s" % key[1:]).encode("utf-8")).decode("ascii")
            fd, path = tempfile.mkstemp(prefix="onprem-auth-", suffix=".json")  # mkstemp creates it 0600
            with os.fdopen(fd, "w") as f:
                json.dump({"auths": {host: {"auth": token}}}, f)
            atexit.register(_remove, path)
            _CREDS_FILES[key] = path
        return _CREDS_FILES[key]


_CREDS_FILES = {}  # (host, username, password) -> temporary auth file


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


class Skopeo(object):
    """skopeo driven through an AnsibleModule (its run_command and get_bin_path).

    :param module: the AnsibleModule.
    :param timeout: seconds one command may run before it is killed (int).
    """

    def __init__(self, module, timeout=1800):
        self.module = module
        self.bin = module.get_bin_path("skopeo", required=True)
        self.timeout = timeout
        self._secrets = []

    def _run(self, args, endpoints=()):
        for ep in endpoints:
            if ep.password:
                self._secrets.append(ep.password)
                self.module.no_log_values.add(ep.password)
        cmd = [self.bin] + args
        prefix = ["timeout", "--kill-after=10", str(self.timeout)] if self.timeout else []
        rc, out, err = self.module.run_command(prefix + cmd, environ_update={"LC_ALL": "C"})
        if rc != 0:
            shown = [self._mask(a) for a in cmd]
            reason = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            if rc in (124, 137):
                reason = "timed out after %d s" % self.timeout
            raise SkopeoError("skopeo %s failed: %s" % (args[0], reason), shown, rc, out, err)
        return out

    def _mask(self, arg):
        for s in self._secrets:
            if s and s in arg:
                arg = arg.replace(s, "********")
        return arg

    def raw_manifest(self, ep):
        """Return the raw manifest bytes (bytes) of ``ep`` (``skopeo inspect --raw``)."""
        out = self._run(["inspect", "--raw"] + ep.flags("") + [ep.ref], [ep])
        return out.encode("utf-8")

    def digest(self, ep):
        """Return ``sha256:<hex>`` of ``ep``'s manifest as stored (index for a multi-arch image).

        The digest of a manifest is the sha256 of its raw bytes (OCI image-spec
        descriptor.md), so it is computed from ``inspect --raw``.
        """
        return "sha256:" + hashlib.sha256(self.raw_manifest(ep)).hexdigest()

    def copy(self, src, dest, all_platforms=False, platform=None, dest_shared_blob_dir=None):
        """Copy ``src`` to ``dest`` (Endpoints), keeping digests (``--preserve-digests``).

        :param all_platforms: copy a whole multi-arch index (``--all``).
        :param platform: ``os/arch[/variant]`` to pick one image from an index (str or None).
        :param dest_shared_blob_dir: for an ``oci:`` destination, store blobs in this directory
            (``<dir>/sha256/<hex>``) instead of the destination layout's own blobs/ (str or None).
        Raises SkopeoError when skopeo fails or runs past the timeout.
        """
        args = ["copy", "--retry-times", "3", "--preserve-digests"]
        if dest_shared_blob_dir:
            args += ["--dest-shared-blob-dir", dest_shared_blob_dir]
        if all_platforms:
            args.append("--all")
        elif platform:
            parts = platform.split("/")
            args += ["--override-os", parts[0], "--override-arch", parts[1]]
            if len(parts) > 2:
                args += ["--override-variant", parts[2]]
        args += src.flags("src-") + dest.flags("dest-") + [src.ref, dest.ref]
        self._run(args, [src, dest])


def oci_index(layout):
    """Return the ``manifests`` list of ``<layout>/index.json`` (list of descriptors), [] if absent."""
    path = os.path.join(layout, "index.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f).get("manifests", [])


def oci_lookup(layout, ref_name):
    """Return the descriptor (dict) of ``ref_name`` in the layout's index.json, or None."""
    for desc in oci_index(layout):
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref_name:
            return desc
    return None


def oci_blob_path(layout, digest):
    """Path (str) of the blob ``sha256:<hex>`` inside an OCI layout."""
    algo, hexpart = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexpart)


def oci_blobs(layout):
    """Return {digest: size in bytes} of every blob file in the layout."""
    out = {}
    root = os.path.join(layout, "blobs")
    if not os.path.isdir(root):
        return out
    for algo in os.listdir(root):
        for name in os.listdir(os.path.join(root, algo)):
            out["%s:%s" % (algo, name)] = os.path.getsize(os.path.join(root, algo, name))
    return out

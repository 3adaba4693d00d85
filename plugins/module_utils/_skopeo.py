# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The one place that builds skopeo command lines (skopeo 1.9+, containers/skopeo).

Every call is an argv list run through ``AnsibleModule.run_command``; a failure
raises :class:`SkopeoError` carrying the command, rc, stdout and stderr. Transports
used: ``docker://`` (a registry) and ``oci:<dir>:<ref>`` (an OCI image layout, see
``_oci.py``). Registry passwords never reach a command line: they are written to a
containers-auth.json(5) file in the module's temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import threading

from ansible_collections.onprem.stack.plugins.module_utils._cli import CommandError


class SkopeoError(CommandError):
    """A skopeo command failed (see CommandError for the attributes)."""


class Endpoint(object):
    """How to reach one side of a copy.

    :param transport_ref: ``docker://host/repo:tag`` or ``oci:/dir:ref`` (str).
    :param tls_verify: verify the registry's TLS certificate (bool; docker:// only).
    :param cert_dir: directory with ``*.crt`` CA files for the registry (str or None).
    :param authfile: containers-auth.json(5) file (str or None).
    :param username, password: registry credentials (str or None). They take the place
        of ``authfile``: :class:`Skopeo` writes them to an auth file of its own.
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
        """True for a ``docker://`` (registry) endpoint."""
        return self.ref.startswith("docker://")

    @property
    def host(self):
        """Registry ``host[:port]`` of a ``docker://`` endpoint (str)."""
        return self.ref[len("docker://"):].split("/", 1)[0]


class Skopeo(object):
    """skopeo driven through an AnsibleModule (its run_command and get_bin_path).

    :param module: the AnsibleModule.
    :param timeout: seconds one command may run before it is killed (int).
    """

    def __init__(self, module, timeout=1800):
        self.module = module
        self.bin = module.get_bin_path("skopeo", required=True)
        self.timeout = timeout
        self._auth_files = {}  # (host, username, password) -> auth file path
        self._lock = threading.Lock()  # copies run in threads

    def _flags(self, ep, prefix):
        """Return skopeo flags (list of str) for Endpoint ``ep``; ``prefix`` is '', 'src-' or 'dest-'."""
        if not ep.is_registry:
            return []
        out = ["--%stls-verify=%s" % (prefix, "true" if ep.tls_verify else "false")]
        if ep.cert_dir:
            out += ["--%scert-dir" % prefix, ep.cert_dir]
        if ep.username:
            out += ["--%sauthfile" % prefix, self._auth_file(ep)]
        elif ep.authfile:
            out += ["--%sauthfile" % prefix, ep.authfile]
        return out

    def _auth_file(self, ep):
        """Path (str) of the auth file holding ``ep``'s username and password (see
        write_auth_file): one per registry host and credentials, in ``module.tmpdir``,
        named after this process (an action plugin may run the module several times in one
        remote tmpdir) and removed when the module exits (``add_cleanup_file``; Ansible also
        removes the tmpdir when the task ends)."""
        key = (ep.host, ep.username, ep.password or "")
        with self._lock:
            if key not in self._auth_files:
                if ep.password:
                    self.module.no_log_values.add(ep.password)
                path = os.path.join(self.module.tmpdir, "auth-%d-%d.json" % (os.getpid(), len(self._auth_files)))
                write_auth_file(path, *key)
                self.module.add_cleanup_file(path)
                self._auth_files[key] = path
            return self._auth_files[key]

    def _run(self, args):
        cmd = [self.bin] + args
        prefix = ["timeout", "--kill-after=10", str(self.timeout)] if self.timeout else []
        rc, out, err = self.module.run_command(prefix + cmd, environ_update={"LC_ALL": "C"})
        if rc != 0:
            reason = err.strip().splitlines()[-1] if err.strip() else "exit code %d" % rc
            if rc in (124, 137):
                reason = "timed out after %d s" % self.timeout
            raise SkopeoError("skopeo %s failed: %s" % (args[0], reason), cmd, rc, out, err)
        return out

    def raw_manifest(self, ep):
        """Return the raw manifest bytes (bytes) of ``ep`` (``skopeo inspect --raw``)."""
        out = self._run(["inspect", "--raw"] + self._flags(ep, "") + [ep.ref])
        return out.encode("utf-8")

    def digest(self, ep):
        """Return ``sha256:<hex>`` of ``ep``'s manifest as stored (index for a multi-arch image).

        The digest of a manifest is the sha256 of its raw bytes (OCI image-spec
        descriptor.md), so it is computed from ``inspect --raw``.
        """
        return "sha256:" + hashlib.sha256(self.raw_manifest(ep)).hexdigest()

    def copy(self, src, dest, all_platforms=False, dest_shared_blob_dir=None):
        """Copy ``src`` to ``dest`` (Endpoints), keeping digests (``--preserve-digests``).

        :param all_platforms: copy a whole multi-arch index (``--all``); otherwise ``src``
            names a single-image manifest (by digest when it comes from an index).
        :param dest_shared_blob_dir: for an ``oci:`` destination, store blobs in this directory
            (``<dir>/sha256/<hex>``) instead of the destination layout's own blobs/ (str or None).
        Raises SkopeoError when skopeo fails or runs past the timeout.
        """
        args = ["copy", "--retry-times", "3", "--preserve-digests"]
        if dest_shared_blob_dir:
            args += ["--dest-shared-blob-dir", dest_shared_blob_dir]
        if all_platforms:
            args.append("--all")
        args += self._flags(src, "src-") + self._flags(dest, "dest-") + [src.ref, dest.ref]
        self._run(args)


def write_auth_file(path, host, username, password):
    """Create ``path`` (str, must not exist) with mode 0600, holding a
    containers-auth.json(5) document: ``{"auths": {host: {"auth": base64("user:password")}}}``.

    Raises OSError when the file exists or cannot be written.
    """
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"auths": {host: {"auth": token}}}, f)

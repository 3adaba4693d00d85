# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The air-gap bundle manifest, ``bundle.json`` (format: docs/airgap.md, DESIGN.md).

Shape (JSON object, keys sorted when written)::

    {
      "schema_version": 1,
      "created": "2026-11-22T20:00:00Z",          # UTC, RFC 3339
      "inputs": {...},                             # inventory-derived lists, free-form
      "files": [{"path": "bin/k3s", "size": 123, "sha256": "<64 hex>"}, ...],
      "images": [{"ref": "docker.io/library/busybox:1.36", "source": "...",
                  "digest": "sha256:<64 hex>", "platform": "linux/amd64"}, ...]
    }

``files`` lists every regular file under the bundle directory except
``bundle.json`` itself, by path relative to it (POSIX separators), size in bytes
and sha256 hex digest. Errors are :class:`BundleError` with a message naming the
file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re
import tempfile

SCHEMA_VERSION = 1
MANIFEST = "bundle.json"
CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Partial downloads and tool scratch files that never belong to a bundle.
_IGNORED_SUFFIXES = (".part", ".tmp")


class BundleError(Exception):
    """A bundle or manifest problem; the message names the file and what was expected."""


def sha256_file(path):
    """Return the sha256 hex digest (str, 64 lower-case hex) of the file at ``path``.

    Reads in 1 MiB chunks. Raises ``OSError`` when the file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def list_files(root):
    """Return the sorted relative POSIX paths (list of str) of regular files under ``root``.

    ``bundle.json`` at the top and files ending in ``.part``/``.tmp`` are left out;
    symbolic links are refused with :class:`BundleError` (a bundle must be
    self-contained).
    """
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel == MANIFEST or name.endswith(_IGNORED_SUFFIXES):
                continue
            if os.path.islink(full):
                raise BundleError("%s in bundle %s is a symbolic link; a bundle holds regular files only" % (rel, root))
            out.append(rel)
    return sorted(out)


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan(root, previous=None):
    """Describe every file under ``root``: list of ``{"path", "size", "sha256"}`` dicts.

    :param root: bundle directory (str).
    :param previous: an earlier manifest (dict) or None. A file whose size equals its
        entry there and that was not modified after that manifest was written keeps
        the recorded sha256 instead of being read again (so a no-op re-run is cheap).
    :returns: ``(files, hashed_bytes)``: the list and the number of bytes read to hash.
    """
    known = {}
    manifest_mtime = None
    if previous:
        known = {f["path"]: f for f in previous.get("files", [])}
        try:
            manifest_mtime = os.stat(os.path.join(root, MANIFEST)).st_mtime_ns
        except OSError:
            manifest_mtime = None
    files, hashed = [], 0
    for rel in list_files(root):
        st = os.stat(os.path.join(root, rel))
        old = known.get(rel)
        if old and manifest_mtime is not None and old.get("size") == st.st_size and st.st_mtime_ns <= manifest_mtime:
            digest = old["sha256"]
        else:
            digest = sha256_file(os.path.join(root, rel))
            hashed += st.st_size
        files.append({"path": rel, "size": st.st_size, "sha256": digest})
    return files, hashed


def build_manifest(files, images=None, inputs=None, created=None):
    """Return a manifest dict from ``files`` (as :func:`scan` returns), ``images``
    (list of dicts with ``ref``, ``digest`` and optionally ``source``, ``platform``),
    ``inputs`` (dict) and ``created`` (RFC 3339 UTC str; default now).

    Raises :class:`BundleError` when an image has no valid ``sha256:`` digest or a
    ref appears twice.
    """
    seen = set()
    imgs = []
    for img in images or []:
        ref = img.get("ref")
        if not ref or not _DIGEST.match(img.get("digest") or ""):
            raise BundleError("image %r needs a ref and a sha256:<64 hex> digest, got %r" % (ref, img.get("digest")))
        if ref in seen:
            raise BundleError("image %s is listed twice" % ref)
        seen.add(ref)
        entry = {"ref": ref, "digest": img["digest"]}
        for key in ("source", "platform"):
            if img.get(key):
                entry[key] = img[key]
        imgs.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "created": created or _utc_now(),
        "inputs": inputs or {},
        "files": sorted(files, key=lambda f: f["path"]),
        "images": sorted(imgs, key=lambda i: i["ref"]),
    }


def _without_created(manifest):
    """``manifest`` (dict) without its ``created`` key."""
    return {k: v for k, v in manifest.items() if k != "created"}


def same_content(a, b):
    """True when manifests ``a`` and ``b`` (dicts) differ at most in ``created``."""
    if not a or not b:
        return False
    return _without_created(a) == _without_created(b)


def load_manifest(root):
    """Read and check ``<root>/bundle.json``; return it as a dict.

    Raises :class:`BundleError` when it is missing, not JSON, of another schema
    version, or an entry lacks path/size/sha256 (the message names bundle.json and
    the entry).
    """
    path = os.path.join(root, MANIFEST)
    try:
        with open(path) as f:
            data = json.load(f)
    except (IOError, OSError) as exc:
        raise BundleError("cannot read %s: %s" % (path, exc))
    except ValueError as exc:
        raise BundleError("%s is not valid JSON: %s" % (path, exc))
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise BundleError("%s: schema_version %r is not supported (expected %d)"
                          % (path, data.get("schema_version") if isinstance(data, dict) else None, SCHEMA_VERSION))
    for i, entry in enumerate(data.get("files", [])):
        if (not isinstance(entry, dict) or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("size"), int) or not _HEX64.match(str(entry.get("sha256", "")))):
            raise BundleError("%s: files[%d] needs path (str), size (int, bytes) and sha256 (64 hex)" % (path, i))
        if entry["path"].startswith("/") or ".." in entry["path"].split("/"):
            raise BundleError("%s: files[%d] path %r leaves the bundle directory" % (path, i, entry["path"]))
    return data


def write_manifest(root, manifest):
    """Write ``manifest`` (dict) to ``<root>/bundle.json`` atomically (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(prefix=".bundle.json.", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, os.path.join(root, MANIFEST))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def verify(root, manifest, full=False):
    """Compare the files under ``root`` with ``manifest`` (dict).

    :param full: False compares sizes only (quick); True also recomputes every sha256.
    :returns: list of problems, each ``{"path", "problem", "expected", "found"}`` with
        problem one of ``missing``, ``extra``, ``size``, ``sha256``; empty when the
        bundle matches. ``expected``/``found`` are sizes in bytes or hex digests.
    """
    problems = []
    on_disk = set(list_files(root))
    listed = {}
    for entry in manifest.get("files", []):
        listed[entry["path"]] = entry
    for rel in sorted(set(listed) - on_disk):
        problems.append({"path": rel, "problem": "missing", "expected": listed[rel]["size"], "found": None})
    for rel in sorted(on_disk - set(listed)):
        problems.append({"path": rel, "problem": "extra", "expected": None,
                         "found": os.stat(os.path.join(root, rel)).st_size})
    for rel in sorted(on_disk & set(listed)):
        entry = listed[rel]
        full_path = os.path.join(root, rel)
        size = os.stat(full_path).st_size
        if size != entry["size"]:
            problems.append({"path": rel, "problem": "size", "expected": entry["size"], "found": size})
        elif full:
            digest = sha256_file(full_path)
            if digest != entry["sha256"]:
                problems.append({"path": rel, "problem": "sha256", "expected": entry["sha256"], "found": digest})
    return problems


def describe(problems, limit=10):
    """One human sentence (str) for a list of :func:`verify` problems, naming the files."""
    parts = []
    for p in problems[:limit]:
        if p["problem"] == "missing":
            parts.append("%s is missing" % p["path"])
        elif p["problem"] == "extra":
            parts.append("%s is not listed in bundle.json" % p["path"])
        elif p["problem"] == "size":
            parts.append("%s has %d bytes, bundle.json says %d" % (p["path"], p["found"], p["expected"]))
        else:
            parts.append("%s has sha256 %s, bundle.json says %s" % (p["path"], p["found"], p["expected"]))
    more = len(problems) - limit
    return "; ".join(parts) + ("; and %d more" % more if more > 0 else "")

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Reading and writing one OCI image layout (the bundle's ``images/`` directory).

Format: OCI image-spec v1.1, https://github.com/opencontainers/image-spec:

- ``image-layout.md``: a layout is a directory holding ``oci-layout``
  (``{"imageLayoutVersion": "1.0.0"}``), ``index.json`` (an image index) and
  ``blobs/<algorithm>/<encoded>`` (content-addressed files).
- ``image-index.md``: ``index.json`` is ``{"schemaVersion": 2, "manifests": [descriptor, ...]}``.
- ``descriptor.md``: a descriptor is ``{"mediaType", "digest", "size", "annotations"?,
  "platform"?}``; ``digest`` is ``<algorithm>:<encoded>``, the sha256 of the blob's bytes.
- ``annotations.md``: ``org.opencontainers.image.ref.name`` names an entry of
  ``index.json`` (skopeo's ``oci:<dir>:<name>`` writes the name there).
- ``manifest.md``: an image manifest lists ``config`` and ``layers`` descriptors.

Errors: a layout whose ``index.json`` or a manifest cannot be read raises
:class:`OciLayoutError`, whose message names the file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import shutil

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
REF_ANNOTATION = "org.opencontainers.image.ref.name"
STAGING = ".staging"  # per-copy layouts inside the layout (same filesystem, so blob renames stay atomic)
_MANIFEST_MAX = 4 * 1024 * 1024  # manifests and indexes are small; a larger blob is a layer


class OciLayoutError(Exception):
    """An OCI image layout file is missing, unreadable or not what image-spec describes."""


def _load_json(path, what):
    """Return the JSON document in ``path``; raise OciLayoutError naming ``path`` otherwise."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, IOError) as exc:
        raise OciLayoutError("%s: cannot read %s: %s" % (path, what, exc))
    except (ValueError, UnicodeDecodeError) as exc:
        raise OciLayoutError("%s: not a JSON %s (image-spec): %s" % (path, what, exc))


def oci_index(layout):
    """Return the ``manifests`` of ``<layout>/index.json`` (list of descriptor dicts, each
    with a str ``digest``); [] when the file does not exist.

    Raises OciLayoutError when index.json cannot be read, is not JSON, or is not an image
    index whose manifests are descriptors (image-spec image-index.md, descriptor.md).
    """
    path = os.path.join(layout, "index.json")
    if not os.path.exists(path):
        return []
    doc = _load_json(path, "image index")
    if not isinstance(doc, dict) or not isinstance(doc.get("manifests", []), list):
        raise OciLayoutError("%s: expected an image index (a JSON object with a manifests list), found %s"
                             % (path, json.dumps(doc)[:120]))
    manifests = doc.get("manifests", [])
    for n, desc in enumerate(manifests):
        if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str) or ":" not in desc["digest"]:
            raise OciLayoutError("%s: manifests[%d] is not a descriptor with a digest (found %r)" % (path, n, desc))
    return manifests


def ref_name(desc):
    """The ``org.opencontainers.image.ref.name`` annotation of a descriptor (str or None)."""
    annotations = desc.get("annotations")
    return annotations.get(REF_ANNOTATION) if isinstance(annotations, dict) else None


def oci_lookup(layout, name):
    """Return the descriptor (dict) named ``name`` (str) in the layout's index.json, or None.
    Raises OciLayoutError (see oci_index)."""
    for desc in oci_index(layout):
        if ref_name(desc) == name:
            return desc
    return None


def oci_blob_path(layout, digest):
    """Path (str) of the blob ``<algorithm>:<encoded>`` inside the layout (image-layout.md)."""
    algo, encoded = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, encoded)


def oci_blobs(layout):
    """Return {digest (str): size in bytes (int)} of every blob file in the layout."""
    out = {}
    root = os.path.join(layout, "blobs")
    if not os.path.isdir(root):
        return out
    for algo in os.listdir(root):
        if not os.path.isdir(os.path.join(root, algo)):
            continue
        for name in os.listdir(os.path.join(root, algo)):
            out["%s:%s" % (algo, name)] = os.path.getsize(os.path.join(root, algo, name))
    return out


def platform_manifest(raw, platform):
    """Choose what to copy from the manifest or index ``raw`` (bytes or str, JSON).

    :param platform: ``os/arch[/variant]`` (str) or ``all``.
    :returns: None to copy ``raw`` as it is (``all``, or a single-image manifest); the
        digest (str) of the index entry whose ``platform`` matches (image-index.md); or
        False when the index has no such entry.
    Raises ValueError when ``raw`` is not JSON.
    """
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("manifest is a JSON %s, not an object" % type(doc).__name__)
    if platform == "all" or (doc.get("mediaType", "") not in INDEX_TYPES and "manifests" not in doc):
        return None
    want = platform.split("/")
    for m in doc.get("manifests") or []:
        p = m.get("platform") or {}
        got = [p.get("os"), p.get("architecture")] + ([p.get("variant")] if len(want) > 2 else [])
        if got == want and m.get("digest"):
            return m["digest"]
    return False


def image_blobs(layout, digest):
    """Return {digest: size in bytes} of the blobs reachable from ``digest`` (str) in the
    layout: an index's manifests, a manifest's config and layers (image-index.md,
    manifest.md). Blobs not in the layout are left out.

    Raises OciLayoutError when a manifest or index lists an entry without a digest.
    """
    found, todo = {}, [digest]
    while todo:
        d = todo.pop()
        if d in found:
            continue
        path = oci_blob_path(layout, d)
        if not os.path.exists(path):
            continue
        size = os.path.getsize(path)
        found[d] = size
        if size > _MANIFEST_MAX:
            continue
        try:
            doc = _load_json(path, "manifest")
        except OciLayoutError:
            continue  # a layer or an image config that is not JSON
        if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
            continue  # an image config or a layer, not a manifest or index
        refs = list(doc.get("manifests") or []) + list(doc.get("layers") or [])
        if isinstance(doc.get("config"), dict):
            refs.append(doc["config"])
        for ref in refs:
            if not isinstance(ref, dict) or not isinstance(ref.get("digest"), str) or ":" not in ref["digest"]:
                raise OciLayoutError("%s: manifest %s lists an entry without a digest (found %r)" % (path, d, ref))
            todo.append(ref["digest"])
    return found


def image_bytes(layout, digest):
    """Size in bytes (int) of the blobs reachable from ``digest`` in the layout (see image_blobs)."""
    return sum(image_blobs(layout, digest).values())


def write_index(layout, manifests):
    """Write ``<layout>/index.json`` (image-index.md) holding ``manifests`` (list of
    descriptors), atomically: a temporary file renamed over the old one."""
    path = os.path.join(layout, "index.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": manifests}, f)
    os.rename(tmp, path)


def init_layout(layout):
    """Create an empty OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256``)
    in the directory ``layout``, keeping what is already there (image-layout.md)."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    marker = os.path.join(layout, "oci-layout")
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if not os.path.exists(os.path.join(layout, "index.json")):
        write_index(layout, [])


def merge_staged(layout, staged, name):
    """Move the descriptor named ``name`` from the staging layout ``staged`` (a directory
    whose blobs were written into ``layout``'s) into ``layout``'s index.json, replacing an
    older entry of the same name.

    Raises OciLayoutError when either index cannot be read or ``staged`` has no ``name``.
    """
    desc = oci_lookup(staged, name)
    if desc is None:
        raise OciLayoutError("%s: no entry named %s after the copy" % (os.path.join(staged, "index.json"), name))
    manifests = [d for d in oci_index(layout) if ref_name(d) != name]
    write_index(layout, manifests + [desc])


def clean_partial(layout):
    """Remove what an interrupted copy left in the layout: blob files not yet renamed to
    their digest (skopeo's ``oci-put-blob*``) and the staging layouts (STAGING)."""
    for path in glob.glob(os.path.join(layout, "oci-put-blob*")) + glob.glob(
            os.path.join(layout, "blobs", "*", "oci-put-blob*")):
        os.unlink(path)
    shutil.rmtree(os.path.join(layout, STAGING), ignore_errors=True)

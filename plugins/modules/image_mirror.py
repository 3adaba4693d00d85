#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_mirror
short_description: Copy container images by digest between registries and the bundle's OCI layout
version_added: 0.1.0
description:
  - With O(direction=pull), resolves each image of O(images) to a digest at its source
    registry and copies it, by digest, into the single OCI image layout O(layout)
    (blobs shared between images are stored once). An image whose reference is
    already in the layout with that digest is skipped.
  - With O(direction=push), copies images from O(layout) into the registry O(registry)
    under the same repository and tag, skipping those whose digest there already
    equals the layout's.
  - An interrupted copy is resumed by running again; blobs already in the layout are
    not copied again.
  - All skopeo command lines are built by the collection's C(module_utils/_skopeo.py).
author:
  - onprem.stack contributors
requirements:
  - skopeo 1.9 or newer on the host the module runs on
attributes:
  check_mode:
    support: full
    description: Resolves digests and reports which images would be copied, copies nothing.
  diff_mode:
    support: none
options:
  direction:
    description: V(pull) copies from source registries into O(layout); V(push) from O(layout) into O(registry).
    type: str
    choices: [pull, push]
    default: pull
  images:
    description:
      - Images to copy. For V(push), an empty list means every image in O(layout).
    type: list
    elements: dict
    default: []
    suboptions:
      ref:
        description:
          - Image reference; normalised (C(busybox) means C(docker.io/library/busybox:latest)).
          - Entries naming the same image are merged (their O(images[].charts) united).
        type: str
        required: true
      charts:
        description: Charts that reference the image, named in errors.
        type: list
        elements: str
        default: []
  layout:
    description: Directory of the OCI image layout (created when missing).
    type: path
    required: true
  registry:
    description: Target registry C(host[:port]) for V(push).
    type: str
  source_registry:
    description:
      - Pull from this registry C(host[:port]) instead of each reference's own (a local
        mirror of the upstream registries); the layout still records the original reference.
    type: str
  platform:
    description: C(os/arch[/variant]) to take from a multi-arch index, or V(all) to keep the whole index.
    type: str
    default: linux/amd64
  tls_verify:
    description: Verify registry TLS certificates.
    type: bool
    default: true
  ca_cert_dir:
    description: Directory of C(*.crt) CA certificates trusted for the registries (in addition to the system's).
    type: path
  authfile:
    description: containers-auth.json(5) file with registry credentials.
    type: path
  username:
    description: Registry user name (the target registry for V(push), the source for V(pull)).
    type: str
  password:
    description: Password of O(username).
    type: str
  timeout:
    description: Seconds one skopeo command may run before it is stopped.
    type: int
    default: 1800
"""

EXAMPLES = r"""
- name: Mirror the chart images into the bundle
  onprem.stack.image_mirror:
    layout: /srv/bundle/images
    images: "{{ found.images }}"
    platform: linux/amd64

- name: Load the bundle into the site registry
  onprem.stack.image_mirror:
    direction: push
    layout: /srv/bundle/images
    registry: registry.site:5000
    ca_cert_dir: /etc/onprem/ca
    username: loader
    password: "{{ registry_password }}"
"""

RETURN = r"""
images:
  description: One entry per image, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: Normalised reference (as stored in the layout).
      type: str
    source:
      description: Where it was copied from (C(docker://...@digest) or C(oci:...)).
      type: str
    dest:
      description: Where it was copied to.
      type: str
    digest:
      description: Manifest (or index) digest, C(sha256:...).
      type: str
    bytes:
      description: Bytes of blobs newly written to the layout (pull), or of the image's blobs (push); 0 when skipped.
      type: int
    skipped:
      description: True when the destination already held this digest.
      type: bool
copied:
  description: Number of images copied (or that would be, in check mode).
  returned: always
  type: int
bytes:
  description: Sum of RV(images[].bytes).
  returned: always
  type: int
"""

import glob
import hashlib
import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, parse_image_ref
from ansible_collections.onprem.stack.plugins.module_utils._skopeo import (
    Endpoint, Skopeo, SkopeoError, oci_blob_path, oci_blobs, oci_index, oci_lookup)

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
REF_ANNOTATION = "org.opencontainers.image.ref.name"


def _explain(exc, what):
    text = exc.stderr or ""
    if "x509" in text or "certificate" in text:
        return ("TLS verification failed for %s (%s): give the registry's CA with ca_cert_dir"
                % (what, text.strip().splitlines()[-1]))
    if "manifest unknown" in text or "not found" in text or "name unknown" in text:
        return "%s was not found: %s" % (what, text.strip().splitlines()[-1] if text.strip() else exc)
    return "%s: %s" % (what, exc)


def _pick(raw, platform):
    """Digest of the manifest to copy: None for the whole index (or a single-image manifest),
    the platform's entry in an index, or False when the index has no such platform."""
    digest = None
    doc = json.loads(raw)
    media = doc.get("mediaType", "")
    if platform == "all" or (media not in INDEX_TYPES and "manifests" not in doc):
        return None
    want = platform.split("/")
    for m in doc.get("manifests", []):
        p = m.get("platform", {})
        got = [p.get("os"), p.get("architecture")] + ([p.get("variant")] if len(want) > 2 else [])
        if got == want:
            digest = m["digest"]
            break
    return digest or False


def _image_bytes(layout, digest):
    """Size in bytes of the blobs reachable from ``digest`` in the layout."""
    total, seen, todo = 0, set(), [digest]
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.add(d)
        path = oci_blob_path(layout, d)
        if not os.path.exists(path):
            continue
        size = os.path.getsize(path)
        total += size
        if size > 4 * 1024 * 1024:
            continue  # manifests and indexes are small; a large blob is a layer
        try:
            with open(path) as f:
                doc = json.load(f)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(doc, dict):
            continue
        if doc.get("schemaVersion") != 2:
            continue  # an image config or a layer, not a manifest or index
        todo += [m["digest"] for m in doc.get("manifests", [])]
        if isinstance(doc.get("config"), dict) and "digest" in doc["config"]:
            todo.append(doc["config"]["digest"])
        todo += [layer["digest"] for layer in doc.get("layers", [])]
    return total


def _clean_partial(layout):
    """Remove blob files an interrupted skopeo copy left behind (not yet renamed to a digest)."""
    for path in glob.glob(os.path.join(layout, "oci-put-blob*")) + glob.glob(os.path.join(layout, "blobs", "*", "oci-put-blob*")):
        os.unlink(path)


def unique_images(images):
    """Merge entries of ``images`` (list of {ref, charts}) whose references normalise to
    the same image: the first one's position is kept and the charts are united.
    Raises ImageRefError for an invalid reference."""
    out = {}
    for item in images:
        key = str(parse_image_ref(item["ref"]))
        charts = set(item.get("charts") or [])
        if key in out:
            out[key]["charts"] = sorted(set(out[key]["charts"]) | charts)
        else:
            out[key] = dict(item, charts=sorted(charts))
    return list(out.values())


def _pull(module, sk, p):
    layout = p["layout"]
    results = []
    if not module.check_mode:
        os.makedirs(layout, exist_ok=True)
        _clean_partial(layout)
    for item in p["images"]:
        ref = parse_image_ref(item["ref"])
        charts = item.get("charts") or []
        what = "image %s%s" % (ref, (" (referenced by chart %s)" % ", ".join(charts)) if charts else "")
        src_ref = ref.with_registry(p["source_registry"]) if p["source_registry"] else ref
        src_name = "docker://%s" % src_ref.name
        src = Endpoint("docker://" + str(src_ref), p["tls_verify"], p["ca_cert_dir"], p["authfile"],
                       p["username"], p["password"])
        try:
            raw = sk.raw_manifest(src)
        except SkopeoError as exc:
            module.fail_json(msg=_explain(exc, what), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr, images=results)
        top = "sha256:" + hashlib.sha256(raw).hexdigest()
        chosen = _pick(raw, p["platform"])
        if chosen is False:
            module.fail_json(msg="%s has no %s image in its index (platform option)" % (what, p["platform"]),
                             images=results)
        digest = chosen or top
        name = str(ref)
        existing = oci_lookup(layout, name)
        entry = dict(ref=name, source="%s@%s" % (src_name, digest), dest="oci:%s:%s" % (layout, name),
                     digest=digest, bytes=0, skipped=False)
        if existing and existing.get("digest") == digest:
            entry["skipped"] = True
        elif not module.check_mode:
            before = oci_blobs(layout)
            src.ref = "%s@%s" % (src_name, digest)
            try:
                sk.copy(src, Endpoint("oci:%s:%s" % (layout, name)), all_platforms=chosen is None)
            except SkopeoError as exc:
                module.fail_json(msg=_explain(exc, what), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr, images=results)
            after = oci_blobs(layout)
            entry["bytes"] = sum(size for d, size in after.items() if d not in before)
        results.append(entry)
    return results


def _push(module, sk, p):
    layout = p["layout"]
    if not p["registry"]:
        module.fail_json(msg="direction=push needs registry (host[:port] of the target registry)")
    names = [i["ref"] for i in p["images"]] or [d.get("annotations", {}).get(REF_ANNOTATION)
                                                 for d in oci_index(layout)]
    results = []
    for raw_name in names:
        ref = parse_image_ref(raw_name)
        name = str(ref)
        desc = oci_lookup(layout, name)
        if desc is None:
            module.fail_json(msg="image %s is not in the layout %s (index.json)" % (name, layout), images=results)
        target = ref.with_registry(p["registry"])._replace(digest=None)
        dest = Endpoint("docker://" + str(target), p["tls_verify"], p["ca_cert_dir"], p["authfile"],
                        p["username"], p["password"])
        entry = dict(ref=name, source="oci:%s:%s" % (layout, name), dest=dest.ref, digest=desc["digest"],
                     bytes=0, skipped=False)
        try:
            present = sk.digest(dest)
        except SkopeoError as exc:
            text = exc.stderr or ""
            if "x509" in text or "certificate" in text or "unauthorized" in text or "connection refused" in text:
                module.fail_json(msg=_explain(exc, "registry %s" % p["registry"]), cmd=exc.cmd, rc=exc.rc,
                                 stderr=exc.stderr, images=results)
            present = None
        if present == desc["digest"]:
            entry["skipped"] = True
        elif not module.check_mode:
            try:
                sk.copy(Endpoint(entry["source"]), dest, all_platforms=desc.get("mediaType") in INDEX_TYPES)
            except SkopeoError as exc:
                module.fail_json(msg=_explain(exc, "push of %s to %s" % (name, p["registry"])), cmd=exc.cmd,
                                 rc=exc.rc, stderr=exc.stderr, images=results)
            entry["bytes"] = _image_bytes(layout, desc["digest"])
        results.append(entry)
    return results


def main():
    module = AnsibleModule(
        argument_spec=dict(
            direction=dict(type="str", choices=["pull", "push"], default="pull"),
            images=dict(type="list", elements="dict", default=[], options=dict(
                ref=dict(type="str", required=True),
                charts=dict(type="list", elements="str", default=[]),
            )),
            layout=dict(type="path", required=True),
            registry=dict(type="str"),
            source_registry=dict(type="str"),
            platform=dict(type="str", default="linux/amd64"),
            tls_verify=dict(type="bool", default=True),
            ca_cert_dir=dict(type="path"),
            authfile=dict(type="path"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            timeout=dict(type="int", default=1800),
        ),
        required_if=[("direction", "push", ["registry"])],
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    p = module.params
    plat = p["platform"]
    if plat != "all" and len(plat.split("/")) not in (2, 3):
        module.fail_json(msg="platform must be os/arch[/variant] or all, got %r" % plat)
    try:
        for item in p["images"]:
            parse_image_ref(item["ref"])
    except ImageRefError as exc:
        module.fail_json(msg="images: %s" % exc)
    p["images"] = unique_images(p["images"])
    sk = Skopeo(module, timeout=p["timeout"])
    results = _pull(module, sk, p) if p["direction"] == "pull" else _push(module, sk, p)
    copied = [r for r in results if not r["skipped"]]
    module.exit_json(changed=bool(copied), images=results, copied=len(copied),
                     bytes=sum(r["bytes"] for r in results))


if __name__ == "__main__":
    main()

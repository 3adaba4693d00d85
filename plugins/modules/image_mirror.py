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
    equals the layout's; after a copy the registry's digest is read again and must
    equal the layout's, so every returned digest is the one the registry serves.
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
    description:
      - Password of O(username). Given to skopeo in a temporary 0600 auth file, never on its command line.
    type: str
  timeout:
    description: Seconds one skopeo command may run before it is stopped.
    type: int
    default: 1800
  parallel:
    description:
      - Number of images resolved and copied at once (1 copies one by one).
      - Pulled images write their blobs straight into the layout; each image is added
        to C(index.json) as soon as its copy completes.
    type: int
    default: 4
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
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, parse_image_ref
from ansible_collections.onprem.stack.plugins.module_utils._skopeo import (
    Endpoint, Skopeo, SkopeoError, oci_blob_path, oci_blobs, oci_index, oci_lookup)

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
REF_ANNOTATION = "org.opencontainers.image.ref.name"
STAGING = ".staging"  # per-copy layouts inside the layout (same filesystem, so blob renames stay atomic)


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


def _image_blobs(layout, digest):
    """{digest: size in bytes} of the blobs reachable from ``digest`` in the layout
    (image-spec: index -> manifests, manifest -> config + layers)."""
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
        if size > 4 * 1024 * 1024:
            continue  # manifests and indexes are small; a large blob is a layer
        try:
            with open(path) as f:
                doc = json.load(f)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
            continue  # an image config or a layer, not a manifest or index
        todo += [m["digest"] for m in doc.get("manifests", [])]
        if isinstance(doc.get("config"), dict) and "digest" in doc["config"]:
            todo.append(doc["config"]["digest"])
        todo += [layer["digest"] for layer in doc.get("layers", [])]
    return found


def _image_bytes(layout, digest):
    """Size in bytes of the blobs reachable from ``digest`` in the layout."""
    return sum(_image_blobs(layout, digest).values())


def _clean_partial(layout):
    """Remove what an interrupted copy left behind: blob files not yet renamed to their
    digest, and staging layouts."""
    for path in glob.glob(os.path.join(layout, "oci-put-blob*")) + glob.glob(os.path.join(layout, "blobs", "*", "oci-put-blob*")):
        os.unlink(path)
    shutil.rmtree(os.path.join(layout, STAGING), ignore_errors=True)


def _parallel(func, items, workers):
    """Run ``func(item)`` for every item with up to ``workers`` threads; return the
    results in input order. ``func`` must not raise (it returns its errors)."""
    if workers <= 1 or len(items) <= 1:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def _init_layout(layout):
    """Create an empty OCI image layout (oci-layout + index.json) when missing."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    marker = os.path.join(layout, "oci-layout")
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if not os.path.exists(os.path.join(layout, "index.json")):
        _write_index(layout, [])


def _write_index(layout, manifests):
    """Write ``<layout>/index.json`` atomically (image-spec image-layout.md)."""
    path = os.path.join(layout, "index.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": manifests}, f)
    os.rename(tmp, path)


def _merge_staged(layout, staged, name):
    """Move the descriptor of ``name`` from the staging layout ``staged`` into the
    layout's index.json, replacing an older entry of the same name."""
    desc = oci_lookup(staged, name)
    manifests = [d for d in oci_index(layout) if d.get("annotations", {}).get(REF_ANNOTATION) != name]
    _write_index(layout, manifests + [desc])


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
    """Resolve every image's digest (in parallel), then copy the missing ones (in
    parallel) into staging layouts that write their blobs straight into the layout's
    blobs/ (skopeo --dest-shared-blob-dir), and record each in index.json as it
    completes, so an interruption keeps every image already finished."""
    layout = p["layout"]
    if not module.check_mode:
        os.makedirs(layout, exist_ok=True)
        _clean_partial(layout)

    def resolve(item):
        ref = parse_image_ref(item["ref"])
        charts = item.get("charts") or []
        what = "image %s%s" % (ref, (" (referenced by chart %s)" % ", ".join(charts)) if charts else "")
        src_ref = ref.with_registry(p["source_registry"]) if p["source_registry"] else ref
        src = Endpoint("docker://" + str(src_ref), p["tls_verify"], p["ca_cert_dir"], p["authfile"],
                       p["username"], p["password"])
        try:
            return dict(ref=ref, what=what, src=src, src_name="docker://%s" % src_ref.name, raw=sk.raw_manifest(src))
        except SkopeoError as exc:
            return dict(ref=ref, what=what, error=exc)

    results, todo = [], []
    for r in _parallel(resolve, p["images"], p["parallel"]):
        if "error" in r:
            exc = r["error"]
            module.fail_json(msg=_explain(exc, r["what"]), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr, images=results)
        chosen = _pick(r["raw"], p["platform"])
        if chosen is False:
            module.fail_json(msg="%s has no %s image in its index (platform option)" % (r["what"], p["platform"]),
                             images=results)
        digest = chosen or "sha256:" + hashlib.sha256(r["raw"]).hexdigest()
        name = str(r["ref"])
        existing = oci_lookup(layout, name)
        entry = dict(ref=name, source="%s@%s" % (r["src_name"], digest), dest="oci:%s:%s" % (layout, name),
                     digest=digest, bytes=0, skipped=bool(existing and existing.get("digest") == digest))
        results.append(entry)
        if not entry["skipped"]:
            r["src"].ref = entry["source"]
            todo.append(dict(r, name=name, all_platforms=chosen is None, staged=None))
    if module.check_mode or not todo:
        return results

    _init_layout(layout)
    before = oci_blobs(layout)
    staging = os.path.join(layout, STAGING)
    for n, t in enumerate(todo):
        t["staged"] = os.path.join(staging, str(n))
        os.makedirs(t["staged"])

    def copy(t):
        try:
            sk.copy(t["src"], Endpoint("oci:%s:%s" % (t["staged"], t["name"])), all_platforms=t["all_platforms"],
                    dest_shared_blob_dir=os.path.join(layout, "blobs"))
            return None
        except SkopeoError as exc:
            return exc

    errors = []
    workers = max(1, min(p["parallel"], len(todo)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(copy, t): t for t in todo}
        for fut in as_completed(futures):
            t = futures[fut]
            exc = fut.result()
            if exc is None:
                _merge_staged(layout, t["staged"], t["name"])
            else:
                errors.append((t, exc))
    shutil.rmtree(staging, ignore_errors=True)
    if errors:
        t, exc = min(errors, key=lambda e: todo.index(e[0]))
        module.fail_json(msg=_explain(exc, t["what"]), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr, images=results)
    # Bytes newly written, each blob counted once, for the first image (in input order) using it.
    counted = set(before)
    by_name = dict((e["ref"], e) for e in results)
    for t in todo:
        entry = by_name[t["name"]]
        blobs = _image_blobs(layout, entry["digest"])
        entry["bytes"] = sum(size for d, size in blobs.items() if d not in counted)
        counted.update(blobs)
    return results


def _push(module, sk, p):
    """Push every image of the layout (or of ``images``) to the registry, in parallel;
    an image whose digest there already equals the layout's is skipped."""
    layout = p["layout"]
    if not p["registry"]:
        module.fail_json(msg="direction=push needs registry (host[:port] of the target registry)")
    names = [i["ref"] for i in p["images"]] or [d.get("annotations", {}).get(REF_ANNOTATION)
                                                 for d in oci_index(layout)]
    plan = []
    for raw_name in names:
        name = str(parse_image_ref(raw_name))
        desc = oci_lookup(layout, name)
        if desc is None:
            module.fail_json(msg="image %s is not in the layout %s (index.json)" % (name, layout), images=[])
        plan.append((name, desc))

    def one(item):
        name, desc = item
        target = parse_image_ref(name).with_registry(p["registry"])._replace(digest=None)
        dest = Endpoint("docker://" + str(target), p["tls_verify"], p["ca_cert_dir"], p["authfile"],
                        p["username"], p["password"])
        entry = dict(ref=name, source="oci:%s:%s" % (layout, name), dest=dest.ref, digest=desc["digest"],
                     bytes=0, skipped=False)
        try:
            present = sk.digest(dest)
        except SkopeoError as exc:
            text = exc.stderr or ""
            if "x509" in text or "certificate" in text or "unauthorized" in text or "connection refused" in text:
                return entry, _explain(exc, "registry %s" % p["registry"]), exc
            present = None
        if present == desc["digest"]:
            entry["skipped"] = True
        elif not module.check_mode:
            try:
                sk.copy(Endpoint(entry["source"]), dest, all_platforms=desc.get("mediaType") in INDEX_TYPES)
            except SkopeoError as exc:
                return entry, _explain(exc, "push of %s to %s" % (name, p["registry"])), exc
            try:
                present = sk.digest(dest)
            except SkopeoError as exc:
                return entry, _explain(exc, "check of %s after its push to %s" % (name, p["registry"])), exc
            if present != desc["digest"]:
                err = SkopeoError("digest mismatch")
                return entry, "%s: the registry has %s after the push, the layout %s" % (
                    dest.ref, present, desc["digest"]), err
            entry["bytes"] = _image_bytes(layout, desc["digest"])
        return entry, None, None

    results = []
    for entry, msg, exc in _parallel(one, plan, p["parallel"]):
        if msg:
            module.fail_json(msg=msg, cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr, images=results)
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
            parallel=dict(type="int", default=4),
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
        p["images"] = unique_images(p["images"])
    except ImageRefError as exc:
        module.fail_json(msg="images: %s" % exc)
    if p["parallel"] < 1:
        module.fail_json(msg="parallel must be 1 or more, got %d" % p["parallel"])
    sk = Skopeo(module, timeout=p["timeout"])
    results = _pull(module, sk, p) if p["direction"] == "pull" else _push(module, sk, p)
    copied = [r for r in results if not r["skipped"]]
    module.exit_json(changed=bool(copied), images=results, copied=len(copied),
                     bytes=sum(r["bytes"] for r in results))


if __name__ == "__main__":
    main()

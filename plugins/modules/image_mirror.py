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
  - O(username) and O(password) are the credentials of the target registry for
    V(push), of the source registry for V(pull).
  - Its action plugin shows progress. It asks the module first, in check mode, which images
    to copy, then copies them in batches of O(parallel) images and prints, after each batch,
    one line on stderr with the images done out of the total, their bytes and seconds, and the
    bytes and seconds so far. A re-run with nothing to copy prints nothing.
  - An image's seconds (RV(images[].seconds), and in the progress line) are wall-clock seconds
    rounded to the millisecond, so a very small or fast copy may report V(0.0).
  - All skopeo command lines are built by the collection's C(module_utils/_skopeo.py);
    the OCI image layout is read and written by C(module_utils/_oci.py).
  - A layout whose C(index.json) or manifests cannot be read, or (for V(push)) an
    C(index.json) entry without a C(org.opencontainers.image.ref.name) annotation,
    fails the task naming the file.
  - Two images whose references differ only by registry host (or, for one tag, only by
    digest), such as C(docker.io/library/x:1) and C(quay.io/library/x:1), would have
    the same repository and tag in the site registry, one overwriting the other. Both
    directions refuse them before anything is copied, naming both references.
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.registry
requirements:
  - skopeo 1.9 or newer on the host the module runs on
attributes:
  check_mode:
    support: full
    description: Resolves digests and reports which images would be copied, copies nothing.
  diff_mode:
    support: none
    description: The module returns no diff; RV(images) lists what was (or would be) copied.
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
    seconds:
      description:
        - Wall-clock seconds the copy of this image took (for V(push) with the read-back of its digest),
          rounded to 0.001 s; V(0.0) when skipped, and it may be V(0.0) for a very small or fast copy.
        - The action plugin's progress line prints this figure as returned.
      type: float
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

import hashlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils import _oci
from ansible_collections.onprem.stack.plugins.module_utils._argspec import registry_argument_spec
from ansible_collections.onprem.stack.plugins.module_utils._mirror import (
    MirrorError, check_collisions as _check_collisions, explain as _explain, parallel as _parallel,
    seconds_since as _seconds_since)
from ansible_collections.onprem.stack.plugins.module_utils._image_ref import (
    ImageRefError, parse_image_ref, unique_images)
from ansible_collections.onprem.stack.plugins.module_utils._skopeo import Endpoint, Skopeo, SkopeoError


def _endpoint(p, ref):
    """Endpoint of the registry image ``ref`` (str, without transport) with the module's TLS and auth options."""
    return Endpoint("docker://" + ref, p["tls_verify"], p["ca_cert_dir"], p["authfile"], p["username"], p["password"])


def _resolve(sk, p, item):
    """Read the source manifest of one ``images`` entry; return a dict (ref, what, src,
    src_name, raw) or (ref, what, error)."""
    ref = parse_image_ref(item["ref"])
    charts = item.get("charts") or []
    what = "image %s%s" % (ref, (" (referenced by chart %s)" % ", ".join(charts)) if charts else "")
    src_ref = ref.with_registry(p["source_registry"]) if p["source_registry"] else ref
    src = _endpoint(p, str(src_ref))
    try:
        return dict(ref=ref, what=what, src=src, src_name="docker://%s" % src_ref.name, raw=sk.raw_manifest(src))
    except SkopeoError as exc:
        return dict(ref=ref, what=what, error=exc)


def _plan_pull(sk, p, known, results):
    """Resolve every image's digest (in parallel), append one entry per image to
    ``results`` and return the images whose digest the layout does not hold yet
    (``known``: {name: descriptor} of the layout's index.json)."""
    layout = p["layout"]
    todo = []
    for r in _parallel(lambda item: _resolve(sk, p, item), p["images"], p["parallel"]):
        if "error" in r:
            raise MirrorError(_explain(r["error"], r["what"]), r["error"])
        try:
            chosen = _oci.platform_manifest(r["raw"], p["platform"])
        except ValueError as exc:
            raise MirrorError("%s: the registry's manifest is not JSON: %s" % (r["what"], exc))
        if chosen is False:
            raise MirrorError("%s has no %s image in its index (platform option)" % (r["what"], p["platform"]))
        digest = chosen or "sha256:" + hashlib.sha256(r["raw"]).hexdigest()
        name = str(r["ref"])
        existing = known.get(name)
        entry = dict(ref=name, source="%s@%s" % (r["src_name"], digest), dest="oci:%s:%s" % (layout, name),
                     digest=digest, bytes=0, seconds=0.0, skipped=bool(existing and existing.get("digest") == digest))
        results.append(entry)
        if not entry["skipped"]:
            r["src"].ref = entry["source"]
            todo.append(dict(r, name=name, all_platforms=chosen is None, staged=None))
    return todo


def _pull(module, sk, p, known, results):
    """Copy the images of ``p["images"]`` missing from the layout, in parallel, into
    staging layouts that write their blobs straight into the layout's blobs/ (skopeo
    --dest-shared-blob-dir), and record each in index.json as it completes, so an
    interruption keeps every image already finished. Fills ``results`` (list)."""
    layout = p["layout"]
    if not module.check_mode:
        os.makedirs(layout, exist_ok=True)
        _oci.clean_partial(layout)
    todo = _plan_pull(sk, p, known, results)
    if module.check_mode or not todo:
        return
    _oci.init_layout(layout)
    before = _oci.oci_blobs(layout)
    staging = os.path.join(layout, _oci.STAGING)
    for n, t in enumerate(todo):
        t["staged"] = os.path.join(staging, str(n))
        os.makedirs(t["staged"])

    def copy(t):
        start = time.monotonic()
        try:
            sk.copy(t["src"], Endpoint("oci:%s:%s" % (t["staged"], t["name"])), all_platforms=t["all_platforms"],
                    dest_shared_blob_dir=os.path.join(layout, "blobs"))
            t["seconds"] = _seconds_since(start)
            return None
        except SkopeoError as exc:
            return exc

    errors = []
    with ThreadPoolExecutor(max_workers=max(1, min(p["parallel"], len(todo)))) as pool:
        futures = {pool.submit(copy, t): t for t in todo}
        for fut in as_completed(futures):
            t, exc = futures[fut], fut.result()
            if exc is None:
                _oci.merge_staged(layout, t["staged"], t["name"])
            else:
                errors.append((t, exc))
    shutil.rmtree(staging, ignore_errors=True)
    if errors:
        t, exc = min(errors, key=lambda e: todo.index(e[0]))
        raise MirrorError(_explain(exc, t["what"]), exc)
    # Bytes newly written, each blob counted once, for the first image (in input order) using it.
    counted = set(before)
    by_name = dict((e["ref"], e) for e in results)
    for t in todo:
        entry = by_name[t["name"]]
        blobs = _oci.image_blobs(layout, entry["digest"])
        entry["bytes"] = sum(size for d, size in blobs.items() if d not in counted)
        entry["seconds"] = t["seconds"]
        counted.update(blobs)


def _push_plan(p):
    """Return [(name, descriptor)] of the images to push: those of ``p["images"]``, or
    every entry of the layout's index.json when it is empty. Raises MirrorError."""
    layout = p["layout"]
    index = os.path.join(layout, "index.json")
    if not os.path.isfile(index):
        raise MirrorError("%s not found: direction=push needs an OCI image layout in layout" % index)
    if p["images"]:
        names = [i["ref"] for i in p["images"]]
    else:
        names = []
        for n, desc in enumerate(_oci.oci_index(layout)):
            name = _oci.ref_name(desc)
            if not name:
                raise MirrorError("%s: manifests[%d] (%s) has no %s annotation, so it has no name to push under"
                                  % (index, n, desc["digest"], _oci.REF_ANNOTATION))
            names.append(name)
    plan = []
    for raw_name in names:
        try:
            name = str(parse_image_ref(raw_name))
        except ImageRefError as exc:
            raise MirrorError("%s: %s" % (index, exc))
        desc = _oci.oci_lookup(layout, name)
        if desc is None:
            raise MirrorError("image %s is not in the layout %s (index.json)" % (name, layout))
        plan.append((name, desc))
    return plan


def _push_one(module, sk, p, name, desc):
    """Push one image; return (entry, None) or (entry, MirrorError)."""
    layout = p["layout"]
    target = parse_image_ref(name).with_registry(p["registry"])._replace(digest=None)
    dest = _endpoint(p, str(target))
    entry = dict(ref=name, source="oci:%s:%s" % (layout, name), dest=dest.ref, digest=desc["digest"],
                 bytes=0, seconds=0.0, skipped=False)
    try:
        present = sk.digest(dest)
    except SkopeoError as exc:
        text = exc.stderr or ""
        if "x509" in text or "certificate" in text or "unauthorized" in text or "connection refused" in text:
            return entry, MirrorError(_explain(exc, "registry %s" % p["registry"]), exc)
        present = None
    if present == desc["digest"]:
        entry["skipped"] = True
        return entry, None
    if module.check_mode:
        return entry, None
    start = time.monotonic()
    try:
        sk.copy(Endpoint(entry["source"]), dest, all_platforms=desc.get("mediaType") in _oci.INDEX_TYPES)
    except SkopeoError as exc:
        return entry, MirrorError(_explain(exc, "push of %s to %s" % (name, p["registry"])), exc)
    try:
        present = sk.digest(dest)
    except SkopeoError as exc:
        return entry, MirrorError(_explain(exc, "check of %s after its push to %s" % (name, p["registry"])), exc)
    if present != desc["digest"]:
        return entry, MirrorError("%s: the registry has %s after the push, the layout %s"
                                  % (dest.ref, present, desc["digest"]))
    entry["bytes"] = _oci.image_bytes(layout, desc["digest"])
    entry["seconds"] = _seconds_since(start)
    return entry, None


def _push(module, sk, p, plan, results):
    """Push the images of ``plan`` (see _push_plan) to the registry, in parallel; an
    image whose digest there already equals the layout's is skipped. Fills ``results``."""
    for entry, err in _parallel(lambda item: _push_one(module, sk, p, *item), plan, p["parallel"]):
        if err is not None:
            raise err
        results.append(entry)


def main():
    argument_spec = dict(
        direction=dict(type="str", choices=["pull", "push"], default="pull"),
        images=dict(type="list", elements="dict", default=[], options=dict(
            ref=dict(type="str", required=True),
            charts=dict(type="list", elements="str", default=[]),
        )),
        layout=dict(type="path", required=True),
        registry=dict(type="str"),
        source_registry=dict(type="str"),
        platform=dict(type="str", default="linux/amd64"),
        timeout=dict(type="int", default=1800),
        parallel=dict(type="int", default=4),
    )
    argument_spec.update(registry_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
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
    results = []
    try:
        # The layout is read before skopeo is looked for or any registry is asked.
        if p["direction"] == "push":
            plan = _push_plan(p)
            _check_collisions([name for name, _desc in plan], p["registry"])
            _push(module, Skopeo(module, timeout=p["timeout"]), p, plan, results)
        else:
            _check_collisions([i["ref"] for i in p["images"]], None)
            known = dict((_oci.ref_name(d), d) for d in _oci.oci_index(p["layout"]))
            _pull(module, Skopeo(module, timeout=p["timeout"]), p, known, results)
    except MirrorError as exc:
        module.fail_json(msg=str(exc), images=results, **exc.details)
    except _oci.OciLayoutError as exc:
        module.fail_json(msg=str(exc), images=results)
    except OSError as exc:
        module.fail_json(msg="layout %s: %s" % (p["layout"], exc), images=results)
    copied = [r for r in results if not r["skipped"]]
    module.exit_json(changed=bool(copied), images=results, copied=len(copied),
                     bytes=sum(r["bytes"] for r in results))


if __name__ == "__main__":
    main()

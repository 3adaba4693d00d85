#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bundle
short_description: Write or verify the air-gap bundle manifest (bundle.json)
version_added: 0.1.0
description:
  - With O(state=present), lists every regular file under O(path) with its size in
    bytes and sha256, adds the given O(images) and O(inputs), and writes
    C(bundle.json) atomically. Nothing is written when the content is unchanged
    (the C(created) time of the existing manifest is kept), so a re-run reports no
    change.
  - With O(state=verified), compares the files under O(path) with C(bundle.json);
    a missing, extra or changed file fails the task with a message naming the file.
    O(mode=quick) compares sizes, O(mode=full) also recomputes every sha256.
  - The manifest format is described in the collection's C(docs/airgap.md).
author:
  - onprem.stack contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: With O(state=present) reports whether bundle.json would change, without writing it.
  diff_mode:
    support: partial
    description: Shows the file paths added to and removed from the manifest.
options:
  path:
    description: Bundle directory on the host the module runs on.
    type: path
    required: true
  state:
    description: V(present) writes bundle.json, V(verified) checks the bundle against it.
    type: str
    choices: [present, verified]
    default: present
  mode:
    description:
      - For O(state=verified), V(quick) compares file sizes, V(full) also sha256 digests.
      - For O(state=present), V(full) re-reads every file; V(quick) reuses the recorded
        sha256 of a file whose size is unchanged and which is not newer than bundle.json.
    type: str
    choices: [quick, full]
    default: quick
  images:
    description: Images held in the bundle's OCI layout (O(state=present) only).
    type: list
    elements: dict
    default: []
    suboptions:
      ref:
        description: Normalised image reference, e.g. C(docker.io/library/busybox:1.36).
        type: str
        required: true
      digest:
        description: Manifest (or index) digest, C(sha256:<64 hex>).
        type: str
        required: true
      source:
        description: Where it was copied from, when that differs from O(images[].ref).
        type: str
      platform:
        description: C(os/arch[/variant]), or C(all) for a whole multi-arch index.
        type: str
  inputs:
    description: Inventory-derived lists the bundle was built from (recorded as given).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Write bundle.json
  onprem.stack.bundle:
    path: /srv/bundle
    images: "{{ mirrored.images | map('ansible.builtin.dict2items') | list }}"
    inputs:
      charts: [open-webui-5.0.0.tgz]

- name: Verify a carried bundle completely before installing from it
  onprem.stack.bundle:
    path: /srv/bundle
    state: verified
    mode: full
"""

RETURN = r"""
manifest_path:
  description: Path of bundle.json.
  returned: always
  type: str
files:
  description: Number of files listed in (or checked against) bundle.json.
  returned: always
  type: int
bytes:
  description: Total size of those files in bytes.
  returned: always
  type: int
hashed_bytes:
  description: Bytes read to compute sha256 digests in this run.
  returned: always
  type: int
problems:
  description:
    - With O(state=verified), every mismatch; empty when the bundle is intact.
    - Each item has C(path), C(problem) (missing, extra, size or sha256), C(expected) and C(found).
  returned: always
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.stack.plugins.module_utils._bundle import (
    MANIFEST, BundleError, build_manifest, describe, load_manifest, same_content, scan,
    verify, write_manifest)


def _verify(module, root, full):
    manifest = load_manifest(root)
    problems = verify(root, manifest, full=full)
    files = manifest.get("files", [])
    hashed = sum(f["size"] for f in files) if full else 0
    result = dict(changed=False, manifest_path=os.path.join(root, MANIFEST), files=len(files),
                  bytes=sum(f["size"] for f in files), hashed_bytes=hashed, problems=problems)
    if problems:
        module.fail_json(msg="bundle %s does not match bundle.json: %s" % (root, describe(problems)), **result)
    module.exit_json(**result)


def _present(module, root, full):
    previous = None
    if os.path.exists(os.path.join(root, MANIFEST)):
        try:
            previous = load_manifest(root)
        except BundleError:
            previous = None  # unreadable or older schema: rewritten below
    files, hashed = scan(root, previous=None if full else previous)
    manifest = build_manifest(files, images=module.params["images"], inputs=module.params["inputs"],
                              created=previous.get("created") if previous else None)
    changed = not same_content(previous, manifest)
    if changed and previous is not None:
        manifest["created"] = build_manifest([])["created"]
    result = dict(changed=changed, manifest_path=os.path.join(root, MANIFEST), files=len(files),
                  bytes=sum(f["size"] for f in files), hashed_bytes=hashed, problems=[])
    if module._diff:
        before = sorted(f["path"] for f in (previous or {}).get("files", []))
        after = sorted(f["path"] for f in files)
        result["diff"] = {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n",
                          "before_header": "bundle.json (files)", "after_header": "bundle.json (files)"}
    if changed and not module.check_mode:
        write_manifest(root, manifest)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "verified"], default="present"),
            mode=dict(type="str", choices=["quick", "full"], default="quick"),
            images=dict(type="list", elements="dict", default=[], options=dict(
                ref=dict(type="str", required=True),
                digest=dict(type="str", required=True),
                source=dict(type="str"),
                platform=dict(type="str"),
            )),
            inputs=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    root = module.params["path"]
    if not os.path.isdir(root):
        module.fail_json(msg="bundle directory %s does not exist (option path)" % root)
    full = module.params["mode"] == "full"
    try:
        if module.params["state"] == "verified":
            _verify(module, root, full)
        else:
            _present(module, root, full)
    except BundleError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="cannot read bundle %s: %s" % (root, exc))


if __name__ == "__main__":
    main()

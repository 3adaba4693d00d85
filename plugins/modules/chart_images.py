#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: chart_images
short_description: List every container image a set of Helm charts uses with their values
version_added: 0.1.0
description:
  - Renders each chart with C(helm template) and its values, and collects the
    C(image) of every container, initContainer and ephemeralContainer in the pod
    templates of Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and
    CronJob objects (Kubernetes API, core/v1 PodSpec).
  - Adds the images listed in the C(helm.sh/images) annotation of the chart's
    C(Chart.yaml) (and of its subcharts), as used by Artifact Hub
    (a YAML list of C(name)/C(image) entries).
  - Every reference is normalised (see the collection's image reference rules),
    and the list is deduplicated and sorted; each image names the charts that use it.
  - Read-only; runs on the control node.
author:
  - onprem.stack contributors
requirements:
  - helm 3.8 or newer (or 4) on the host the module runs on
attributes:
  check_mode:
    support: full
    description: The module changes nothing; check mode returns the same result.
  diff_mode:
    support: none
options:
  charts:
    description: Charts to render.
    type: list
    elements: dict
    required: true
    suboptions:
      chart:
        description: Chart directory, C(.tgz) file, or C(repo/name)/C(oci://) reference helm can resolve offline.
        type: str
        required: true
      release:
        description: Release name used for rendering (default, the chart's name).
        type: str
      namespace:
        description: Namespace used for rendering.
        type: str
        default: default
      values:
        description: Values, as the site sets them.
        type: dict
        default: {}
      values_files:
        description: Values files applied before O(charts[].values).
        type: list
        elements: path
        default: []
      version:
        description: Chart version for repository charts.
        type: str
  helm_binary:
    description: Path of the helm binary (default, C(helm) on PATH).
    type: path
  kube_version:
    description: Kubernetes version for C(.Capabilities.KubeVersion), e.g. C(1.31.0).
    type: str
"""

EXAMPLES = r"""
- name: Discover the images of the product charts
  onprem.stack.chart_images:
    charts:
      - chart: charts/open-webui-5.0.0.tgz
        release: open-webui
        namespace: ai
        values: "{{ open_webui_values }}"
  register: found

- name: Mirror them
  onprem.stack.image_mirror:
    layout: /srv/bundle/images
    images: "{{ found.images }}"
"""

RETURN = r"""
images:
  description: Every image, normalised, sorted by C(ref).
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: Normalised reference, e.g. C(docker.io/library/busybox:1.36).
      type: str
    charts:
      description: Charts (release names) that reference it, sorted.
      type: list
      elements: str
    sources:
      description: Where it was found, e.g. C(Deployment/web initContainers[0]) or C(Chart.yaml helm.sh/images).
      type: list
      elements: str
charts:
  description: Per chart, its release name, chart and number of distinct images found.
  returned: always
  type: list
  elements: dict
"""

import os
import tarfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._helm import Helm, HelmError, TemplateParams
from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, normalise_image_ref

POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
ANNOTATION = "helm.sh/images"


def images_in_manifest(text):
    """Yield (image, source) for every container image in rendered manifests (str, multi-document YAML)."""
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if doc.get("kind", "").endswith("List") else [doc]
        for obj in items or []:
            path = POD_SPEC_PATHS.get(obj.get("kind"))
            if not path:
                continue
            spec = obj
            for key in path:
                spec = (spec or {}).get(key)
            for lst in CONTAINER_LISTS:
                for i, c in enumerate((spec or {}).get(lst) or []):
                    if c.get("image"):
                        yield c["image"], "%s/%s %s[%d]" % (obj["kind"], obj.get("metadata", {}).get("name"), lst, i)


def _chart_yamls(chart):
    """Yield the text of Chart.yaml of a chart (dir or .tgz) and of its bundled subcharts."""
    if os.path.isdir(chart):
        for dirpath, _dirs, files in os.walk(chart):
            if "Chart.yaml" in files:
                with open(os.path.join(dirpath, "Chart.yaml")) as f:
                    yield f.read()
    elif os.path.isfile(chart) and tarfile.is_tarfile(chart):
        with tarfile.open(chart) as tar:
            for member in tar.getmembers():
                if member.isfile() and os.path.basename(member.name) == "Chart.yaml":
                    yield tar.extractfile(member).read().decode("utf-8")


def images_in_annotation(chart_yaml_text):
    """Return the image strings of the ``helm.sh/images`` annotation of one Chart.yaml text."""
    meta = yaml.safe_load(chart_yaml_text) or {}
    raw = (meta.get("annotations") or {}).get(ANNOTATION)
    if not raw:
        return []
    entries = yaml.safe_load(raw) if isinstance(raw, str) else raw
    return [e["image"] for e in entries or [] if isinstance(e, dict) and e.get("image")]


def _release_name(chart):
    for text in _chart_yamls(chart):
        return (yaml.safe_load(text) or {}).get("name")
    return os.path.basename(chart.rstrip("/")).split(".tgz")[0]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            charts=dict(type="list", elements="dict", required=True, options=dict(
                chart=dict(type="str", required=True),
                release=dict(type="str"),
                namespace=dict(type="str", default="default"),
                values=dict(type="dict", default={}),
                values_files=dict(type="list", elements="path", default=[]),
                version=dict(type="str"),
            )),
            helm_binary=dict(type="path"),
            kube_version=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    helm = Helm(module, module.params["helm_binary"])
    found = {}
    summary = []
    for c in module.params["charts"]:
        release = c["release"] or _release_name(c["chart"])
        params = TemplateParams(release, c["chart"], c["namespace"], c["values"], c["values_files"], c["version"],
                                module.params["kube_version"])
        try:
            manifest = helm.template(params)
        except HelmError as exc:
            module.fail_json(msg="rendering chart %s (release %s) failed: %s" % (c["chart"], release, exc),
                             cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        pairs = list(images_in_manifest(manifest))
        for text in _chart_yamls(c["chart"]):
            pairs += [(img, "Chart.yaml %s" % ANNOTATION) for img in images_in_annotation(text)]
        for image, source in pairs:
            try:
                ref = normalise_image_ref(image)
            except ImageRefError as exc:
                module.fail_json(msg="chart %s (release %s), %s: %s" % (c["chart"], release, source, exc))
            entry = found.setdefault(ref, {"ref": ref, "charts": set(), "sources": set()})
            entry["charts"].add(release)
            entry["sources"].add("%s: %s" % (release, source))
        summary.append({"release": release, "chart": c["chart"], "images": len(set(i for i, _ in pairs))})
    images = [{"ref": r, "charts": sorted(e["charts"]), "sources": sorted(e["sources"])}
              for r, e in sorted(found.items())]
    module.exit_json(changed=False, images=images, charts=summary)


if __name__ == "__main__":
    main()

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
  - O(charts[].values) is C(no_log) (product values carry JWT secrets, admin and OIDC
    passwords). The module's invocation shows C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) in
    their place, and a failure message (helm's stderr included) has every value string
    masked. A successful result is returned unmasked, since it holds only image references
    and object names, which the bundle and the site registry publish anyway.
  - Every C(Chart.yaml) is read before helm runs. One that cannot be read or parsed, a
    C(.tgz) that is not a readable archive, or a C(helm.sh/images) annotation that is
    not a list fails the task, naming the file.
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.helm
attributes:
  check_mode:
    support: full
    description: The module changes nothing; check mode returns the same result.
  diff_mode:
    support: none
    description: The module changes nothing, so it has no diff.
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
        description:
          - Values, as the site sets them.
          - Never logged or returned (C(no_log)); values files (O(charts[].values_files)) are
            read by helm only.
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
import zlib

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._argspec import helm_argument_spec
from ansible_collections.onprem.stack.plugins.module_utils._helm import Helm, HelmError, TemplateParams
from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, normalise_image_ref
from ansible_collections.onprem.stack.plugins.module_utils._values import value_strings

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
# What Ansible shows in place of a no_log option's value.
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


class ChartError(Exception):
    """A chart file cannot be read or parsed; the message names the file."""


def _pod_spec(obj):
    """The PodSpec (dict or None) of a Kubernetes object (dict), by POD_SPEC_PATHS."""
    path = POD_SPEC_PATHS.get(obj.get("kind"))
    if not path:
        return None
    spec = obj
    for key in path:
        spec = spec.get(key) if isinstance(spec, dict) else None
    return spec if isinstance(spec, dict) else None


def images_in_manifest(text):
    """Yield (image, source) for every container image in rendered manifests (str,
    multi-document YAML of Kubernetes objects; a ``*List`` object's ``items`` are read).
    Raises yaml.YAMLError when ``text`` is not YAML."""
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        items = doc.get("items") if isinstance(kind, str) and kind.endswith("List") else [doc]
        for obj in items if isinstance(items, list) else []:
            spec = _pod_spec(obj) if isinstance(obj, dict) else None
            for lst in CONTAINER_LISTS if spec else ():
                containers = spec.get(lst)
                for i, c in enumerate(containers if isinstance(containers, list) else []):
                    if isinstance(c, dict) and isinstance(c.get("image"), str) and c["image"]:
                        name = (obj.get("metadata") or {}).get("name")
                        yield c["image"], "%s/%s %s[%d]" % (obj["kind"], name, lst, i)


def chart_yamls(chart):
    """Return [(label, text)] for the Chart.yaml of a chart (directory or .tgz) and of its
    bundled subcharts; ``label`` names the file (``<archive>:<member>`` in a .tgz). A
    chart that is neither (a repository reference) gives [].

    Raises ChartError naming the file when a Chart.yaml or the archive cannot be read.
    """
    found = []  # (label, bytes)
    if os.path.isdir(chart):
        for dirpath, _dirs, files in os.walk(chart):
            if "Chart.yaml" in files:
                path = os.path.join(dirpath, "Chart.yaml")
                try:
                    with open(path, "rb") as f:
                        found.append((path, f.read()))
                except (OSError, IOError) as exc:
                    raise ChartError("%s: cannot read it: %s" % (path, exc))
    elif os.path.isfile(chart):
        try:
            with tarfile.open(chart, "r:*") as tar:
                found = [("%s:%s" % (chart, m.name), tar.extractfile(m).read()) for m in tar.getmembers()
                         if m.isfile() and os.path.basename(m.name) == "Chart.yaml"]
        except (tarfile.TarError, EOFError, zlib.error, OSError, IOError) as exc:
            raise ChartError("%s is not a readable chart archive (.tgz): %s" % (chart, exc))
    out = []
    for label, data in found:
        try:
            out.append((label, data.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise ChartError("%s is not UTF-8 text: %s" % (label, exc))
    return out


def chart_meta(label, text):
    """Parse one Chart.yaml (Helm's chart file format, helm.sh/docs/topics/charts);
    return it as a dict. Raises ChartError naming ``label`` when it is not a YAML mapping."""
    try:
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChartError("%s is not valid YAML: %s" % (label, exc))
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ChartError("%s: expected a YAML mapping, found %s" % (label, type(meta).__name__))
    return meta


def images_in_annotation(label, meta):
    """Return the image strings of the ``helm.sh/images`` annotation of one parsed
    Chart.yaml (dict): a YAML list (or YAML text of a list) of {name, image} entries, as
    Artifact Hub reads it. Raises ChartError naming ``label`` when it is not a list."""
    annotations = meta.get("annotations")
    raw = annotations.get(ANNOTATION) if isinstance(annotations, dict) else None
    if not raw:
        return []
    try:
        entries = yaml.safe_load(raw) if isinstance(raw, str) else raw
    except yaml.YAMLError as exc:
        raise ChartError("%s: annotation %s is not valid YAML: %s" % (label, ANNOTATION, exc))
    if not isinstance(entries, list):
        raise ChartError("%s: annotation %s must be a list of name/image entries, found %s"
                         % (label, ANNOTATION, type(entries).__name__))
    return [e["image"] for e in entries if isinstance(e, dict) and isinstance(e.get("image"), str) and e["image"]]


def _read_chart(c):
    """Return (release, [(image, source)]) of one ``charts`` entry from its Chart.yaml
    files (release: given, else the chart's name, else the file name). Raises ChartError."""
    metas = [(label, chart_meta(label, text)) for label, text in chart_yamls(c["chart"])]
    release = c["release"] or (metas[0][1].get("name") if metas else None) \
        or os.path.basename(c["chart"].rstrip("/")).split(".tgz")[0]
    pairs = []
    for label, meta in metas:
        pairs += [(img, "Chart.yaml %s" % ANNOTATION) for img in images_in_annotation(label, meta)]
    return str(release), pairs


def invocation(params):
    """Return the ``invocation`` of a result (dict): the module's parameters (dict) with
    every non-empty ``charts[].values`` replaced by NO_LOG_PLACEHOLDER."""
    charts = [dict(c, values=NO_LOG_PLACEHOLDER if c.get("values") else {}) for c in params["charts"]]
    return {"module_args": dict(params, charts=charts)}


def _fail(module, **result):
    """fail_json with the values hidden in the invocation; Ansible masks every value string
    (module.no_log_values) in the rest, helm's stderr included."""
    module.fail_json(invocation=invocation(module.params), **result)


def main():
    argument_spec = dict(
        charts=dict(type="list", elements="dict", required=True, options=dict(
            chart=dict(type="str", required=True),
            release=dict(type="str"),
            namespace=dict(type="str", default="default"),
            values=dict(type="dict", default={}, no_log=True),
            values_files=dict(type="list", elements="path", default=[]),
            version=dict(type="str"),
        )),
        kube_version=dict(type="str"),
    )
    argument_spec.update(helm_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_YAML:
        _fail(module, msg=missing_required_lib("PyYAML"))
    charts = module.params["charts"]
    read = []
    for c in charts:  # every chart's files are checked before helm runs
        try:
            read.append(_read_chart(c))
        except ChartError as exc:
            _fail(module, msg="chart %s: %s" % (c["chart"], exc))
    helm = Helm(module, module.params["helm_binary"])
    found = {}
    summary = []
    for c, (release, pairs) in zip(charts, read):
        params = TemplateParams(release, c["chart"], c["namespace"], c["values"], c["values_files"], c["version"],
                                module.params["kube_version"])
        try:
            pairs = list(images_in_manifest(helm.template(params))) + pairs
        except HelmError as exc:
            _fail(module, msg="rendering chart %s (release %s) failed: %s" % (c["chart"], release, exc),
                  cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        except yaml.YAMLError as exc:
            _fail(module, msg="chart %s (release %s): helm template printed no valid YAML: %s"
                  % (c["chart"], release, exc))
        for image, source in pairs:
            try:
                ref = normalise_image_ref(image)
            except ImageRefError as exc:
                _fail(module, msg="chart %s (release %s), %s: %s" % (c["chart"], release, source, exc))
            entry = found.setdefault(ref, {"ref": ref, "charts": set(), "sources": set()})
            entry["charts"].add(release)
            entry["sources"].add("%s: %s" % (release, source))
        summary.append({"release": release, "chart": c["chart"], "images": len(set(pair[0] for pair in pairs))})
    images = [{"ref": r, "charts": sorted(e["charts"]), "sources": sorted(e["sources"])}
              for r, e in sorted(found.items())]
    # The result holds image references and object names only, public by nature: the value
    # strings stop being masked so that a tag or repository set in values stays intact
    # (Ansible masks substrings: tag "1.1" would turn ghcr.io/x/web:1.1 into ghcr.io/x/web:********).
    for c in charts:
        module.no_log_values.difference_update(value_strings(c["values"]))
    module.exit_json(changed=False, images=images, charts=summary, invocation=invocation(module.params))


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.bundle_image_charts``: the platform releases as preflight renders them
with onprem.stack.chart_images to check that their images are in the bundle."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bundle_image_charts
short_description: The platform releases as onprem.stack.chart_images renders them for preflight's bundle check
version_added: 0.4.0
description:
  - Turns C(platform_releases) into the C(charts) option of the module onprem.stack.chart_images
    (the module the bundle finds its images with), run on the control node by preflight's
    check that every image a release renders is in the loaded bundle (docs/airgap.md).
  - "Each release's values are merged as onprem.stack.helm_release merges them (values files
    in order, then C(values), then C(set_values)). A credential reference (C({from: {...}}))
    is rendered as the string C(preflight-placeholder): preflight never generates or reads a
    credential. A C(set_values) entry of C(value_type=file) (a file on the k3s server) is left out."
  - A local chart (directory or C(.tgz); a relative path is taken from O(base_dir)) is
    rendered as it is, since that is what the platform role installs. An C(oci://) chart
    comes from the site registry, which does not exist yet when preflight runs; the bundle's
    C(charts/<name>-<version>.tgz) is rendered instead, and its absence is a problem.
  - Picks the helm CLI, O(helm_binary) when set, else C(helm) on the control node's PATH,
    else the bundle's C(bin/helm); none is a problem.
  - Reads the control node's files; changes nothing. Code in C(plugins/module_utils/_bundle_images.py).
options:
  _input:
    description: The releases (C(platform_releases)).
    type: list
    elements: dict
    required: true
  base_dir:
    description: Directory relative chart and values file paths are taken from (the inventory directory).
    type: str
    required: true
  bundle_dir:
    description: The bundle directory on the control node (C(stack_bundle_dir)).
    type: str
    required: true
  defaults:
    description:
      - Release fields filled in where a release leaves them out (the platform role's
        C(_platform_release_defaults)).
    type: dict
    default: {}
  helm_binary:
    description: The helm CLI on the control node; empty for C(helm) on PATH, else C(<bundle_dir>/bin/helm).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Charts to render
  ansible.builtin.set_fact:
    __charts: "{{ platform_releases | onprem.stack.bundle_image_charts(inventory_dir, stack_bundle_dir) }}"
  no_log: true  # the merged values may hold secrets from values files
"""

RETURN = r"""
_value:
  description: What to render.
  type: dict
  contains:
    charts:
      description:
        - C(charts) entries of onprem.stack.chart_images (chart, release, namespace, values), one per
          release whose chart can be rendered. The values may hold secrets (from values files).
      type: list
      elements: dict
    releases:
      description:
        - Per rendered release, C(name), C(namespace), C(chart) (as the inventory gives it) and
          C(rendered) (the path rendered).
      type: list
      elements: dict
    problems:
      description: One message per release whose chart cannot be rendered, and one when no helm CLI is found.
      type: list
      elements: str
    helm:
      description: Path of the helm CLI to render with; empty when none was found.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.module_utils._bundle_images import BundleImagesError, charts_to_render


def bundle_image_charts(releases, base_dir, bundle_dir, defaults=None, helm_binary=""):
    """``charts_to_render`` of module_utils/_bundle_images.py (types there); raises
    AnsibleFilterError naming the release and the file or entry whose values cannot be merged."""
    try:
        return charts_to_render(releases, base_dir, bundle_dir, defaults, helm_binary)
    except BundleImagesError as exc:
        raise AnsibleFilterError("bundle_image_charts: %s" % exc)


class FilterModule(object):
    """onprem.stack.bundle_image_charts."""

    def filters(self):
        return {"bundle_image_charts": bundle_image_charts}

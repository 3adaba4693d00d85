# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``onprem.stack.bundle_image_problems``: the images platform releases render that the
loaded bundle lacks, one message per release."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bundle_image_problems
short_description: The images platform releases render that the air-gap bundle lacks
version_added: 0.4.0
description:
  - Compares the images onprem.stack.chart_images found in the releases' charts with the
    C(images) of the bundle's C(bundle.json), and returns one message per release with an
    image the bundle lacks, naming the release, its chart, each image and what to do.
  - An image is in the bundle when bundle.json lists the same normalised reference, the
    same name and tag, or, for a reference with a digest, the same name and digest.
  - Reads bundle.json on the control node; changes nothing. Code in C(plugins/module_utils/_bundle_images.py).
options:
  _input:
    description: The C(images) result of onprem.stack.chart_images (C(ref), C(charts) the release names).
    type: list
    elements: dict
    required: true
  releases:
    description: The C(releases) of onprem.stack.bundle_image_charts.
    type: list
    elements: dict
    required: true
  bundle_dir:
    description: The bundle directory on the control node; its C(bundle.json) is read.
    type: str
    required: true
  problems:
    description: Earlier messages (the C(problems) of onprem.stack.bundle_image_charts), returned first.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Every release image is in the bundle
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('\n') }}"
  vars:
    __problems: "{{ found.images | onprem.stack.bundle_image_problems(charts.releases, stack_bundle_dir) }}"
"""

RETURN = r"""
_value:
  description: The messages, O(problems) first; empty when every image is in the bundle.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.stack.plugins.module_utils._bundle_images import BundleImagesError, missing_images


def bundle_image_problems(images, releases, bundle_dir, problems=None):
    """``missing_images`` of module_utils/_bundle_images.py (types there); raises
    AnsibleFilterError naming bundle.json when it cannot be read."""
    try:
        return missing_images(images, releases, bundle_dir, problems)
    except BundleImagesError as exc:
        raise AnsibleFilterError("bundle_image_problems: %s" % exc)


class FilterModule(object):
    """onprem.stack.bundle_image_problems."""

    def filters(self):
        return {"bundle_image_problems": bundle_image_problems}

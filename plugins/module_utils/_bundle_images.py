# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Preflight's check that every image the platform releases' charts render with the site's
values is in the loaded air-gap bundle (docs/airgap.md, "Every release image is in the
bundle"). The images are found by the module onprem.stack.chart_images, the code the bundle
itself finds them with; this file only prepares its input (:func:`charts_to_render`) and
compares its result with bundle.json (:func:`missing_images`). The filters
onprem.stack.bundle_image_charts and onprem.stack.bundle_image_problems call them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from ansible_collections.onprem.stack.plugins.module_utils._bundle import BundleError, load_manifest
from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, parse_image_ref
from ansible_collections.onprem.stack.plugins.module_utils._value_refs import (
    find_references, resolved_tree, without_references)
from ansible_collections.onprem.stack.plugins.module_utils._values import ValuesError, desired_values, merge_values


class BundleImagesError(Exception):
    """The releases or the bundle cannot be read; the message names the release or the file."""


# What a credential reference renders as in the check (never a real secret).
PLACEHOLDER = "preflight-placeholder"
# What to do about an image that is not in the bundle.
ADVICE = ("add the chart to bundle_charts with the same values (or the image to bundle_extra_images) and rebuild the "
          "bundle (playbooks/bundle.yml)")


def _path(base_dir, path):
    """``path`` (str) with ``~`` expanded, taken relative to ``base_dir`` (str) when relative."""
    path = os.path.expanduser(str(path))
    return path if os.path.isabs(path) else os.path.join(str(base_dir), path)


def _label(release):
    """``namespace/name`` (str) of a release (dict)."""
    return "%s/%s" % (release.get("namespace"), release.get("name"))


def _values(release, base_dir):
    """The values (dict) a release is installed with, as helm_release merges them, with every
    credential reference set to PLACEHOLDER. Raises ValuesError naming the file or entry."""
    values = release.get("values") or {}
    references, _in_lists = find_references(values)
    # The placeholders take the place of the secret values file helm_release reads after `values`.
    return desired_values({
        "values_files": [_path(base_dir, f) for f in release.get("values_files") or []],
        "values": merge_values(without_references(values), resolved_tree(references, [PLACEHOLDER] * len(references))),
        "set_values": [dict(e, value_type=e.get("value_type", "raw")) for e in release.get("set_values") or []
                       if e.get("value_type", "raw") != "file"],
    })


def _helm(helm_binary, bundle_dir):
    """The helm CLI (str path, or "" when none): ``helm_binary`` when set, else helm on PATH,
    else the bundle's bin/helm when it is an executable file."""
    if helm_binary:
        return shutil.which(str(helm_binary)) or ""
    found = shutil.which("helm")
    if found:
        return found
    bundled = os.path.join(str(bundle_dir), "bin", "helm")
    return bundled if os.path.isfile(bundled) and os.access(bundled, os.X_OK) else ""


def charts_to_render(releases, base_dir, bundle_dir, defaults=None, helm_binary=""):
    """What preflight renders to find the releases' images, on the control node.

    Each release's values are merged as helm_release merges them (values files in order,
    then ``values``, then ``set_values``), a credential reference (``{from: {...}}``) set
    to PLACEHOLDER (preflight never generates or reads a credential) and a ``set_values``
    entry of value_type ``file`` (a file on the k3s server) left out. A local chart
    (directory or .tgz) is rendered as it is, being what the platform role installs; an
    ``oci://`` chart comes from the site registry, which does not exist yet at preflight
    time, so the bundle's ``charts/<name>-<version>.tgz`` (as chart_fetch writes it) is
    rendered, and its absence is a problem. Reads the control node's files only.

    :param releases: platform_releases (list of dict).
    :param base_dir: directory relative control-node paths are taken from (str).
    :param bundle_dir: the bundle directory on the control node (str).
    :param defaults: release fields filled in where absent (dict or None).
    :param helm_binary: helm on the control node (str; empty: PATH, then <bundle_dir>/bin/helm).
    :returns: dict with ``charts`` (the ``charts`` option of chart_images: list of dict with
        chart, release, namespace, values; the values may hold secrets from values files),
        ``releases`` (per rendered release: dict with name, namespace, chart as given,
        rendered path), ``problems`` (list of str: a chart that cannot be rendered, no helm)
        and ``helm`` (str path of the helm CLI, "" when none).
    :raises BundleImagesError: when ``releases`` is not a list of mappings, or the values of
        a release cannot be merged (the message names the release and the file or entry).
    """
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise BundleImagesError("expected platform_releases as a list of mappings")
    out = {"charts": [], "releases": [], "problems": [], "helm": _helm(helm_binary, bundle_dir)}
    if not out["helm"]:
        out["problems"].append(
            "no helm CLI on the control node to render the platform releases' charts with (%s): put helm 3.8+ on "
            "the control node's PATH, set preflight_helm_binary, or carry a bundle whose bin/helm runs here "
            "(the bundle's bin/helm is for bundle_arch); preflight_bundle_images: false skips this check"
            % ("preflight_helm_binary %s is not an executable" % helm_binary if helm_binary
               else "none on PATH, no executable %s" % os.path.join(str(bundle_dir), "bin", "helm")))
    for release in releases:
        release = dict(defaults or {}, **release)
        chart = str(release.get("chart", ""))
        if chart.startswith("oci://"):
            name = chart.rstrip("/").rsplit("/", 1)[-1]
            rendered = os.path.join(str(bundle_dir), "charts", "%s-%s.tgz" % (name, release.get("version")))
            if not os.path.isfile(rendered):
                out["problems"].append(
                    "release %s: its chart %s version %s is not in the bundle (no %s), so neither are the images "
                    "it renders, and preflight cannot render it before the site registry exists: add the chart to "
                    "bundle_charts (with version %s and the release's values) and rebuild the bundle "
                    "(playbooks/bundle.yml)" % (_label(release), chart, release.get("version"), rendered,
                                                release.get("version")))
                continue
        else:
            rendered = _path(base_dir, chart)
            if not os.path.exists(rendered):
                out["problems"].append("release %s: its chart %s does not exist on the control node (looked for %s)"
                                       % (_label(release), chart, rendered))
                continue
        try:
            values = _values(release, base_dir)
        except (ValuesError, ValueError) as exc:
            raise BundleImagesError("release %s: %s" % (_label(release), exc))
        out["charts"].append({"chart": rendered, "release": str(release.get("name")),
                              "namespace": str(release.get("namespace") or "default"), "values": values})
        out["releases"].append({"name": str(release.get("name")), "namespace": str(release.get("namespace")),
                                "chart": chart, "rendered": rendered})
    return out


def _bundled(manifest):
    """The images of a manifest (dict) as a set of normalised reference strings and a set of
    (name, digest) pairs (a name being registry/repository), both from ``ref`` and the recorded
    ``digest``. A ref that does not parse is kept as written."""
    refs, pinned = set(), set()
    for img in manifest.get("images") or []:
        ref = str(img.get("ref", ""))
        try:
            parsed = parse_image_ref(ref)
        except ImageRefError:
            refs.add(ref)
            continue
        refs.add(str(parsed))
        refs.add(str(parsed._replace(digest=None)))  # a tag loaded with its digest is served by the tag too
        for digest in (parsed.digest, img.get("digest")):
            if digest:
                pinned.add((parsed.name, digest))
    return refs, pinned


def in_bundle(ref, refs, pinned):
    """True when image ``ref`` (str, normalised as chart_images returns it) is served by a
    registry loaded with the bundle images ``refs``/``pinned`` (see :func:`_bundled`): the
    same reference, the same tag, or, for a reference with a digest, the same name and
    digest."""
    if ref in refs:
        return True
    try:
        parsed = parse_image_ref(ref)
    except ImageRefError:
        return False
    return bool(parsed.digest) and (parsed.name, parsed.digest) in pinned


def missing_images(images, releases, bundle_dir, problems=None):
    """One message per release whose chart renders an image that bundle.json lacks.

    :param images: the ``images`` result of onprem.stack.chart_images (list of dict with
        ``ref`` and ``charts``, the release names).
    :param releases: the ``releases`` of :func:`charts_to_render` (list of dict).
    :param bundle_dir: the bundle directory on the control node (str); its bundle.json is read.
    :param problems: earlier messages (list of str, e.g. the ``problems`` of
        :func:`charts_to_render`), returned first.
    :returns: list of str, empty when every image is in the bundle.
    :raises BundleImagesError: when bundle.json cannot be read or is not a bundle manifest
        (the message names the file).
    """
    out = list(problems or [])
    if not releases:
        return out
    try:
        manifest = load_manifest(str(bundle_dir))
    except BundleError as exc:
        raise BundleImagesError(str(exc))
    refs, pinned = _bundled(manifest)
    for release in releases:
        missing = sorted(i["ref"] for i in images or [] if release["name"] in (i.get("charts") or [])
                         and not in_bundle(i["ref"], refs, pinned))
        if missing:
            out.append(
                "release %s (chart %s) renders %d image(s) that are not in the bundle (%s): %s. With a registry "
                "group k3s pulls only through the site registry (disable-default-registry-endpoint), which holds "
                "only the bundle's images, so these pods would never start: %s"
                % (_label(release), release["chart"], len(missing), os.path.join(str(bundle_dir), "bundle.json"),
                   ", ".join(missing), ADVICE))
    return out

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.nvidia role's inventory input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.onprem.stack.plugins.module_utils._image_ref import ImageRefError, parse_image_ref
from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _kube as kube
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net

FLAVOURS = ("proprietary", "open")
TOOLKIT_SOURCES = ("", "repo", "debs", "bundle")
MODEL_KEYS = ("dest", "bundle", "url", "sha256")
_BRANCH_RE = re.compile(r"^([0-9]{3})?$")
_KERNEL_RE = re.compile(r"^([0-9]+\.[0-9]+[0-9A-Za-z.+_~-]*)?$")
_CHART_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
# A Debian package version, [epoch:]upstream[-revision] (Debian Policy 5.6.12), as apt's
# "package=version" pin takes it.
_DEB_VERSION_RE = re.compile(r"^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$")
SRC_DEB_VERSION = "Debian package versions (Debian Policy 5.6.12), apt-get install package=version"
SRC_IMAGE_REF = "container image references (distribution/reference grammar, as containerd pulls them)"
# Booleans the role reads with the bool filter (which takes any other value as false).
BOOLEANS = ("nvidia_require_gpu", "nvidia_blacklist_nouveau", "nvidia_reboot_allowed", "nvidia_toolkit")
# URLs the hosts fetch from: (variable, schemes).
URLS = (("nvidia_debian_mirror", ("http", "https")), ("nvidia_toolkit_repo_url", ("https", "http")),
        ("nvidia_toolkit_repo_key_url", ("https",)))


def _bad(var, expectation, value, source):
    return c.Problem(var, "Bad nvidia input: %s %s (is '%s')." % (var, expectation, c.text(value)), source)


def _scalars(p, context):
    found = []
    if not _BRANCH_RE.match(c.text(p.get("nvidia_driver_branch"))):
        found.append(_bad("nvidia_driver_branch", "must be empty or a driver branch such as 550",
                          p.get("nvidia_driver_branch"), c.SRC_NVIDIA_DRIVER))
    if p.get("nvidia_driver_flavour") not in FLAVOURS:
        found.append(_bad("nvidia_driver_flavour", "proprietary or open", p.get("nvidia_driver_flavour"), c.SRC_NVIDIA_DRIVER))
    if not isinstance(p.get("nvidia_kernel_release", ""), str) or not _KERNEL_RE.match(p.get("nvidia_kernel_release", "")):
        found.append(_bad("nvidia_kernel_release", "empty or a kernel release such as 6.12.57+deb13-amd64",
                          p.get("nvidia_kernel_release"), c.SRC_DEBIAN_KERNEL))
    for var in ("nvidia_kernel_headers_packages", "nvidia_driver_packages_extra", "nvidia_fabricmanager_packages"):
        bad = [c.text(n) for n in p.get(var) or [] if not isinstance(n, str) or not c.DEBIAN_PACKAGE_RE.match(n)]
        if bad:
            found.append(c.Problem(var, "Bad nvidia input: %s must be Debian package names (are %s)." % (var, bad),
                                   c.SRC_DEBIAN_NAMES))
    for var in ("nvidia_reboot_timeout", "nvidia_k3s_ready_timeout"):
        if c.to_int(p.get(var)) <= 0:
            found.append(_bad(var, "must be seconds > 0", p.get(var), c.SRC_ROLE.format(role="nvidia")))
    version = p.get("nvidia_device_plugin_version")
    if not isinstance(version, str) or not _CHART_VERSION_RE.match(version):
        found.append(_bad("nvidia_device_plugin_version", "must be a chart version such as 0.20.1", version,
                          c.SRC_NVIDIA_PLUGIN))
    url = p.get("nvidia_device_plugin_chart_url", "https://")
    if not isinstance(url, str) or not url.startswith("https://") or url.strip() != url:
        found.append(_bad("nvidia_device_plugin_chart_url", "must be an https:// URL of the chart archive", url,
                          c.SRC_NVIDIA_PLUGIN))
    sha = p.get("nvidia_device_plugin_chart_sha256", "")
    if sha not in ("", None) and not (isinstance(sha, str) and c.SHA256_RE.match(sha)):
        found.append(_bad("nvidia_device_plugin_chart_sha256", "must be empty or a sha256 (64 lowercase hex digits)",
                          sha, c.SRC_SHA256))
    if not c.is_dns1123_label(p.get("nvidia_device_plugin_namespace")):
        found.append(_bad("nvidia_device_plugin_namespace", "must be a namespace name (DNS-1123 label)",
                          p.get("nvidia_device_plugin_namespace"), c.SRC_K8S_NAMES))
    if not c.is_mapping(p.get("nvidia_device_plugin_values", {})):
        found.append(c.Problem("nvidia_device_plugin_values", "Bad nvidia input: nvidia_device_plugin_values a mapping "
                               "(the chart's values; is a %s)." % c.type_name(p.get("nvidia_device_plugin_values")),
                               c.SRC_NVIDIA_PLUGIN))
    version = p.get("nvidia_toolkit_version")
    if not isinstance(version, str) or not _DEB_VERSION_RE.match(version):
        found.append(_bad("nvidia_toolkit_version", "must be a Debian package version such as 1.17.8-1", version,
                          SRC_DEB_VERSION))
    image = p.get("nvidia_device_plugin_image")
    if image is not None and not (isinstance(image, str) and "{{" in image):
        try:
            parse_image_ref(image)
        except ImageRefError as exc:
            found.append(c.Problem("nvidia_device_plugin_image", "Bad nvidia input: nvidia_device_plugin_image must be "
                                   "an image reference such as nvcr.io/nvidia/k8s-device-plugin:v0.17.1 (%s)." % exc,
                                   SRC_IMAGE_REF))
    for var, schemes in URLS:
        value = p.get(var)
        problem = net.url_problem(value, schemes=schemes) if var in p and "{{" not in c.text(value) else ""
        if problem:
            found.append(c.Problem(var, "Bad nvidia input: %s '%s' %s." % (var, c.text(value), problem), net.SRC_URL))
    found.extend(c.Problem(var, "Bad nvidia input: %s must be a boolean (true or false), is '%s'."
                           % (var, c.text(p[var])), c.SRC_ANSIBLE_BOOL) for var in c.bool_problems(p, BOOLEANS))
    model_dir = p.get("nvidia_model_dir")
    if not isinstance(model_dir, str) or not re.match(r"^/.+", model_dir):
        found.append(c.Problem("nvidia_model_dir", "nvidia_model_dir must be an absolute path on the host; found '%s'."
                               % c.text(model_dir), c.SRC_ROLE.format(role="nvidia")))
    return found


def _node_taints(p):
    """nvidia_node_taints: null (the rule of docs/gpu.md) or a list of taints as k3s' node-taint takes them."""
    value = p.get("nvidia_node_taints")
    if value is None:
        return []
    if not c.is_list(value):
        return [c.Problem("nvidia_node_taints", "Bad nvidia input: nvidia_node_taints must be null (the GPU taint rule) "
                          "or a list of taints key[=value]:NoSchedule|PreferNoSchedule|NoExecute, [] for none "
                          "(is a %s: '%s')." % (c.type_name(value), c.text(value)), c.SRC_K8S_TAINTS)]
    bad = ["'%s' %s" % (c.text(t), kube.taint_problem(t)) for t in value if kube.taint_problem(t)]
    if bad:
        return [c.Problem("nvidia_node_taints", "Bad nvidia input: nvidia_node_taints entries must be "
                          "key[=value]:NoSchedule|PreferNoSchedule|NoExecute: %s." % "; ".join(bad), c.SRC_K8S_TAINTS)]
    return []


def _mok(p):
    key, cert = c.text(p.get("nvidia_mok_key")), c.text(p.get("nvidia_mok_cert"))
    if bool(key) == bool(cert) and (not key or key.startswith("/")) and (not cert or cert.startswith("/")):
        return []
    return [c.Problem("nvidia_mok_key",
                      "nvidia_mok_key ('%s') and nvidia_mok_cert ('%s') must both be empty or both name files on the "
                      "host (absolute paths): the private key and certificate of an enrolled Machine Owner Key."
                      % (key, cert), c.SRC_MOK)]


def _toolkit(p, context):
    found = []
    source = p.get("nvidia_toolkit_source", "")
    effective = c.text(context.get("toolkit_source"))
    if source not in TOOLKIT_SOURCES:
        found.append(c.Problem("nvidia_toolkit_source", "nvidia_toolkit_source must be empty, repo, debs or bundle (is "
                               "'%s', in effect '%s')." % (c.text(source), effective), c.SRC_NVIDIA_TOOLKIT))
    debs_dir = c.text(p.get("nvidia_toolkit_debs_dir"))
    if effective == "debs" and (not debs_dir or not os.path.isdir(debs_dir)):
        found.append(c.Problem("nvidia_toolkit_debs_dir", "nvidia_toolkit_source debs needs nvidia_toolkit_debs_dir, a "
                               "directory on the control node (is '%s')." % debs_dir, c.SRC_NVIDIA_TOOLKIT))
    if context.get("stack_airgap") and effective == "repo" and c.as_bool(p.get("nvidia_toolkit", True)):
        found.append(c.Problem("nvidia_toolkit_source", "nvidia_toolkit_source is 'repo' (in effect) but with "
                               "stack_airgap the repository is not reachable: use bundle or debs.", c.SRC_NVIDIA_TOOLKIT))
    return found


def _model_files(p):
    found = []
    files = p.get("nvidia_model_files") or []
    for idx, item in enumerate(files if c.is_list(files) else [files]):
        where = "nvidia_model_files[%d]" % idx
        if not c.is_mapping(item):
            found.append(c.Problem(where, "%s is a %s; expected a mapping with dest, bundle or url, and sha256."
                                   % (where, c.type_name(item)), c.SRC_ROLE.format(role="nvidia")))
            continue
        dest = item.get("dest", "")
        where = "%s (dest '%s')" % (where, c.text(dest))
        if not isinstance(dest, str) or not dest or dest.startswith("/") or c.escapes(dest):
            found.append(c.Problem("nvidia_model_files[%d].dest" % idx, "%s: expected dest, a relative path under "
                                   "nvidia_model_dir, without '..'." % where, c.SRC_ROLE.format(role="nvidia")))
        if ("bundle" in item) == ("url" in item):
            found.append(c.Problem("nvidia_model_files[%d]" % idx, "%s: expected exactly one of bundle (a path under the "
                                   "bundle's files/) or url." % where, c.SRC_ROLE.format(role="nvidia")))
        sha = item.get("sha256")
        if ("url" in item or "sha256" in item) and not (isinstance(sha, str) and c.SHA256_RE.match(sha)):
            found.append(c.Problem("nvidia_model_files[%d].sha256" % idx, "%s: expected sha256 (64 lowercase hex digits; "
                                   "required with url), found '%s'." % (where, c.text(sha)), c.SRC_SHA256))
        unknown = c.unknown_keys(item, MODEL_KEYS)
        if unknown:
            found.append(c.Problem("nvidia_model_files[%d]" % idx, "%s: unknown keys %s (known keys: %s)."
                                   % (where, ", ".join(unknown), ", ".join(MODEL_KEYS)), c.SRC_ROLE.format(role="nvidia")))
    return found


def validate(params, context):
    """Return the problems (list of Problem) of the nvidia role's input on one GPU host.

    :param params: dict of the role's variables (``nvidia_*``) as Ansible rendered them.
    :param context: dict with ``toolkit_source`` (str: the container toolkit source in
        effect, ``_nvidia_toolkit_source``) and ``stack_airgap`` (bool).
    :returns: list of Problem, empty when the input is acceptable. Reads the control node's
        file system (nvidia_toolkit_debs_dir); never raises on bad values.
    """
    return _scalars(params, context) + _node_taints(params) + _mok(params) + _toolkit(params, context) + _model_files(params)


_BOOL = ("a boolean (strict)", c.SRC_ANSIBLE_BOOL)
_SECONDS = ("seconds > 0", c.SRC_ROLE.format(role="nvidia"))
_PACKAGES = ("a list of Debian package names", c.SRC_DEBIAN_NAMES)
# Per public variable: the rule its check mirrors and the rule's source (docs/inventory.md,
# "Input checks", is generated from this; tests/unit/test_validate_rules.py checks that every
# variable of roles/nvidia/defaults/main.yml has an entry).
VARIABLE_RULES = {
    "nvidia_require_gpu": _BOOL,
    "nvidia_driver_branch": ("empty or a three-digit driver branch (550)", c.SRC_NVIDIA_DRIVER),
    "nvidia_driver_flavour": ("proprietary or open", c.SRC_NVIDIA_DRIVER),
    "nvidia_driver_packages_extra": _PACKAGES,
    "nvidia_kernel_release": ("empty or a kernel release as uname -r prints it", c.SRC_DEBIAN_KERNEL),
    "nvidia_kernel_headers_packages": _PACKAGES,
    "nvidia_fabricmanager_packages": _PACKAGES,
    "nvidia_debian_mirror": ("http(s)://host[:port]/path, an IPv6 host in brackets", net.SRC_URL),
    "nvidia_blacklist_nouveau": _BOOL,
    "nvidia_reboot_allowed": _BOOL,
    "nvidia_reboot_timeout": _SECONDS,
    "nvidia_mok_key": ("both empty, or both absolute paths on the host (with nvidia_mok_cert)", c.SRC_MOK),
    "nvidia_mok_cert": ("as nvidia_mok_key", c.SRC_MOK),
    "nvidia_toolkit": _BOOL,
    "nvidia_toolkit_source": ("empty, repo, debs or bundle; not repo with stack_airgap", c.SRC_NVIDIA_TOOLKIT),
    "nvidia_toolkit_version": ("a Debian package version [epoch:]upstream[-revision]", SRC_DEB_VERSION),
    "nvidia_toolkit_repo_url": ("http(s)://host[:port]/path, an IPv6 host in brackets", net.SRC_URL),
    "nvidia_toolkit_repo_key_url": ("https://host[:port]/path", net.SRC_URL),
    "nvidia_toolkit_debs_dir": ("a directory on the control node when the source in effect is debs",
                                c.SRC_NVIDIA_TOOLKIT),
    "nvidia_node_taints": ("null (the rule of docs/gpu.md) or a list of key[=value]:Effect taints, [] for none",
                           c.SRC_K8S_TAINTS),
    "nvidia_k3s_ready_timeout": _SECONDS,
    "nvidia_device_plugin_chart": ("a str (argument spec): a chart path on the control node or oci://",
                                   c.SRC_NVIDIA_PLUGIN),
    "nvidia_device_plugin_chart_url": ("an https:// URL without surrounding spaces", c.SRC_NVIDIA_PLUGIN),
    "nvidia_device_plugin_chart_sha256": ("empty or 64 lower-case hex digits", c.SRC_SHA256),
    "nvidia_device_plugin_version": ("a chart version X.Y.Z", c.SRC_NVIDIA_PLUGIN),
    "nvidia_device_plugin_image": ("an image reference [registry/]repository[:tag][@digest]", SRC_IMAGE_REF),
    "nvidia_device_plugin_namespace": ("a DNS-1123 label", c.SRC_K8S_NAMES),
    "nvidia_device_plugin_values": ("a mapping (the chart's values)", c.SRC_NVIDIA_PLUGIN),
    "nvidia_model_files": ("mappings {dest: relative path without '..', bundle or url, sha256: 64 hex digits "
                           "(required with url)}", c.SRC_ROLE.format(role="nvidia")),
    "nvidia_model_dir": ("an absolute path on the host", c.SRC_ROLE.format(role="nvidia")),
}

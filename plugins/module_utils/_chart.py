# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Local charts as helm_release compares them: a chart directory (``.helmignore`` applied)
or a ``.tgz`` chart archive (helm's chart archive format: a gzip-compressed tar with one
top directory) read into its files, Chart.yaml's name and version, a content digest on
which a directory and its ``helm package`` archive agree, and the CRDs of ``crds/``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import io
import json
import os
import re
import tarfile
import zlib

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False


class ChartError(Exception):
    """A chart cannot be read or is not a chart; the message names the path."""


# CRD files helm installs from a chart (its own crds/ and those of bundled subcharts).
CRD_RE = re.compile(r"^(charts/[^/]+/)*crds/[^/].*\.(ya?ml|json)$")
# A template file (helm: everything under templates/, of the chart or of a subchart).
TEMPLATE_RE = re.compile(r"^(charts/[^/]+/)*templates/.+$")
# A call of helm's lookup function (helm/helm pkg/engine/lookup_func.go) in a template action.
LOOKUP_RE = re.compile(r"\{\{[^}]*\blookup\b")


class LocalChart(object):
    """A chart on disk (directory or .tgz) as helm_release compares it.

    :ivar path: what helm is given (str). :ivar name, version, app_version: from Chart.yaml (str).
    :ivar digest: ``sha256:`` + sha256 over every file's path and sha256 (str), Chart.yaml
        by its parsed content (so a directory and its ``helm package`` archive agree).
    :ivar crds: {path in the chart: bytes} of the CRD files (see CRD_RE).
    :ivar crds_digest: ``sha256:...`` of those, or ``none``.
    :ivar files: {path in the chart: bytes} of every file read (``charts/*.tgz`` subcharts as
        archives, unopened), for what is read from the chart beyond the above (its
        ``values.yaml`` defaults: module_utils/_chart_defaults.py).
    :ivar lookup_templates: paths of the template files that call ``lookup`` (set of str,
        e.g. ``templates/secret.yaml``); ``{"*"}`` when a helper (``_*.tpl`` or any file
        not rendering a manifest of its own) calls it, since any template may include it.
    """

    def __init__(self, path, files):
        self.path = path
        self.files = files
        if "Chart.yaml" not in files:
            raise ChartError("chart %s has no Chart.yaml" % path)
        try:
            meta = yaml.safe_load(files["Chart.yaml"]) or {}
        except yaml.YAMLError as exc:
            raise ChartError("chart %s: Chart.yaml is not valid YAML: %s" % (path, exc))
        if not isinstance(meta, dict) or not meta.get("name") or not meta.get("version"):
            raise ChartError("chart %s: Chart.yaml must be a mapping with name and version" % path)
        self.name, self.version = str(meta["name"]), str(meta["version"])
        self.app_version = str(meta.get("appVersion") or "")
        # helm package writes Chart.yaml anew from its parsed form: digest that form
        canonical = dict(files, **{"Chart.yaml": json.dumps(_pruned(meta), sort_keys=True).encode("utf-8")})
        self.digest = _files_digest(canonical)
        self.crds = dict((k, v) for k, v in files.items() if CRD_RE.match(k))
        self.crds_digest = _files_digest(self.crds) if self.crds else "none"
        self.lookup_templates = set()
        for name, content in files.items():
            if TEMPLATE_RE.match(name) and LOOKUP_RE.search(content.decode("utf-8", "replace")):
                helper = os.path.basename(name).startswith("_") or not name.endswith((".yaml", ".yml", ".json"))
                self.lookup_templates.add("*" if helper else name)
        if "*" in self.lookup_templates:
            self.lookup_templates = set(["*"])

    @property
    def ref(self):
        return "%s-%s" % (self.name, self.version)


def _pruned(obj):
    """``obj`` without empty values (None, "", [], {}), as helm's Chart.yaml writer omits them."""
    if isinstance(obj, dict):
        obj = dict((k, _pruned(v)) for k, v in obj.items())
        return dict((k, v) for k, v in obj.items() if v not in (None, "", [], {}))
    if isinstance(obj, list):
        return [_pruned(v) for v in obj]
    return obj


def _files_digest(files):
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(("%s\0%s\n" % (name, hashlib.sha256(files[name]).hexdigest())).encode("utf-8"))
    return "sha256:" + h.hexdigest()


def _helmignore_rules(text):
    rules = []
    for line in text.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.lstrip("!").rstrip("/"), line.endswith("/"), line.startswith("!")))
    return rules


def _ignored(rel, is_dir, rules):
    """Whether ``rel`` is left out by .helmignore ``rules`` (shell patterns on the path or
    its base name; a trailing / matches directories only; ! re-includes)."""
    out = False
    for pattern, dir_only, negate in rules:
        if dir_only and not is_dir:
            continue
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(rel), pattern):
            out = not negate
    return out


def read_chart_dir(path):
    """LocalChart of the chart directory ``path`` (files matched by .helmignore left out)."""
    rules = []
    if os.path.isfile(os.path.join(path, ".helmignore")):
        with open(os.path.join(path, ".helmignore"), "rb") as f:
            rules = _helmignore_rules(f.read())
    files = {}
    for dirpath, dirs, names in os.walk(path):
        reldir = os.path.relpath(dirpath, path)
        reldir = "" if reldir == "." else reldir + "/"
        dirs[:] = sorted(d for d in dirs if not _ignored(reldir + d, True, rules))
        for n in names:
            rel = reldir + n
            if not _ignored(rel, False, rules):
                with open(os.path.join(dirpath, n), "rb") as f:
                    files[rel] = f.read()
    return LocalChart(path, files)


def tgz_files(path, data=None):
    """{path in the chart: bytes} of the chart archive ``path`` (str), or of the archive
    bytes ``data`` when given (a subchart inside ``charts/``; ``path`` then only names it
    in messages); paths without the archive's top directory. Raises ChartError."""
    files = {}
    try:
        with tarfile.open(path if data is None else None, "r:*", None if data is None else io.BytesIO(data)) as tar:
            for m in tar:
                if m.isfile() and "/" in m.name:
                    files[m.name.split("/", 1)[1]] = tar.extractfile(m).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError, IOError) as exc:
        raise ChartError("%s is not a readable chart archive (.tgz): %s" % (path, exc))
    return files


def read_chart_tgz(path):
    """LocalChart of the chart archive ``path`` (paths without the archive's top directory)."""
    return LocalChart(path, tgz_files(path))

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

import gzip
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


# helm's rule added to every .helmignore (helm/helm pkg/ignore/rules.go, AddDefaults): dot files in templates/.
HELMIGNORE_DEFAULT = "templates/.?*"


def _go_pattern(pattern):
    """A compiled regular expression matching as Go's ``filepath.Match(pattern, name)`` (whole name;
    ``*`` and ``?`` never match ``/``; ``[^...]`` negates a class; backslash escapes). Raises
    ChartError for a pattern Go rejects (an unterminated class or a trailing backslash)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 == len(pattern):
                raise ChartError("bad .helmignore pattern %r: trailing backslash" % pattern)
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j, cls = i + 1, ["["]
            if pattern[j:j + 1] == "^":
                cls.append("^")
                j += 1
            while j < len(pattern) and (pattern[j] != "]" or len(cls) == 1 or cls[-1] == "^"):
                if pattern[j] == "\\" and j + 1 < len(pattern):
                    j += 1
                    cls.append(re.escape(pattern[j]))
                else:
                    cls.append("-" if pattern[j] == "-" else re.escape(pattern[j]))
                j += 1
            if j >= len(pattern):
                raise ChartError("bad .helmignore pattern %r: unterminated [" % pattern)
            out.append("".join(cls) + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _helmignore_rules(text):
    """The rules of a .helmignore (bytes) as helm parses them (helm/helm pkg/ignore/rules.go,
    parseRule), helm's default rule last: (regex, dir_only, negate, base) tuples, where ``base``
    says the pattern has no ``/`` and is matched against the base name only, otherwise against
    the path in the chart (a leading ``/`` anchors it there too). ``**`` is refused, as helm does."""
    rules = []
    for line in text.decode("utf-8", "replace").splitlines() + [HELMIGNORE_DEFAULT]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "**" in line:
            raise ChartError(".helmignore rule %r: double-star (**) syntax is not supported by helm" % line)
        negate = line.startswith("!")
        line = line[1:] if negate else line
        dir_only = line.endswith("/")
        line = line[:-1] if dir_only else line
        base = "/" not in line
        rules.append((_go_pattern(line[1:] if line.startswith("/") else line), dir_only, negate, base))
    return rules


def _ignored(rel, is_dir, rules):
    """Whether helm leaves ``rel`` (a path in the chart, ``/``-separated) out when it loads the chart
    directory: helm/helm pkg/ignore/rules.go, Rules.Ignore, rule by rule. A negated rule (``!x``)
    ignores every path it does NOT match, as helm 3 and 4 do."""
    for regex, dir_only, negate, base in rules:
        target = rel.rsplit("/", 1)[-1] if base else rel
        if negate:
            if (dir_only and not is_dir) or not regex.fullmatch(target):
                return True
            continue
        if dir_only and not is_dir:
            continue
        if regex.fullmatch(target):
            return True
    return False


def read_chart_dir(path):
    """LocalChart of the chart directory ``path``, with the files helm loads from it: its
    .helmignore and helm's default rule applied (``_ignored``), symbolic links followed."""
    rules = _helmignore_rules(b"")
    if os.path.isfile(os.path.join(path, ".helmignore")):
        with open(os.path.join(path, ".helmignore"), "rb") as f:
            rules = _helmignore_rules(f.read())
    files = {}
    for dirpath, dirs, names in os.walk(path, followlinks=True):
        reldir = os.path.relpath(dirpath, path)
        reldir = "" if reldir == "." else reldir.replace(os.sep, "/") + "/"
        dirs[:] = sorted(d for d in dirs if not _ignored(reldir + d, True, rules))
        for n in names:
            rel = reldir + n
            if not _ignored(rel, False, rules):
                if not os.path.isfile(os.path.join(dirpath, n)):
                    raise ChartError("chart %s: %s is not a regular file (helm cannot load it)" % (path, rel))
                with open(os.path.join(dirpath, n), "rb") as f:
                    files[rel] = f.read()
    return LocalChart(path, files)


def chart_tgz(chart):
    """The chart archive (bytes, helm's format: a gzip-compressed tar with one top directory
    named after the chart) of ``chart`` (LocalChart), byte for byte the same for the same files:
    entries sorted by path, regular files only, mode 0644, owner and group 0 without names,
    modification time 0, PAX format; a gzip header without a file name and with time 0 and a
    fixed compression level. Only the files' paths and contents make the bytes (and the zlib of
    the Python that builds it)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel in sorted(chart.files):
                data = chart.files[rel]
                info = tarfile.TarInfo("%s/%s" % (chart.name, rel))
                info.size, info.mode, info.mtime, info.type = len(data), 0o644, 0, tarfile.REGTYPE
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


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

# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""What a release is and how it is compared: the last revision read from helm's JSON,
manifests normalised, hashed and split by template, the chart record helm_release
writes into each revision's description, the reasons a release differs from what is
wanted, and the redacted diff.

Formats: ``helm status -o json`` (helm/helm pkg/release/v1 release.go and info.go; times
are Go's RFC 3339), the ``# Source:`` line helm writes atop each rendered document
(helm/helm pkg/action/action.go).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import re
from urllib.parse import quote, unquote

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._helm import MASK, PENDING, HelmError
from ansible_collections.onprem.stack.plugins.module_utils._values import (
    is_secret_path, mask_secrets, mask_url_passwords)

# The chart record in each revision's description (see marker()).
MARKER = "onprem.stack.helm_release:"
_MARKER_RE = re.compile(r"\b(name|version|content|crds|secret_paths)=(\S+)")
MAX_VALUE_REASONS = 25

_TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text):
    """Parse a time as helm prints it in JSON (Go's RFC 3339 with up to nanoseconds,
    e.g. ``2025-01-01T10:00:00.123456789+01:00``); return an aware datetime (UTC), or
    None for "" / None (helm 3 prints "" for a zero time)."""
    if not text:
        return None
    m = _TIME_RE.match(text)
    if not m:
        raise HelmError("cannot read the time %r printed by helm (expected RFC 3339)" % (text,))
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    micro = int((m.group(2) or "0")[:6].ljust(6, "0"))
    zone = m.group(3)
    offset = datetime.timedelta(0)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return (base.replace(microsecond=micro) - offset).replace(tzinfo=_UTC)


class _Utc(datetime.tzinfo):
    def utcoffset(self, dt):
        return datetime.timedelta(0)

    def dst(self, dt):
        return datetime.timedelta(0)

    def tzname(self, dt):
        return "UTC"


_UTC = _Utc()


def utc_now():
    """The current time, aware, in UTC."""
    return datetime.datetime.now(_UTC)


def normalise_manifest(text):
    """A release manifest as compared: helm's text without surrounding white space
    (``helm template`` prints the release manifest trimmed, helm/helm pkg/cmd/template.go)."""
    return (text or "").strip()


def manifest_sha256(text):
    """sha256 hex of the normalised manifest ``text`` (str)."""
    return hashlib.sha256(normalise_manifest(text).encode("utf-8")).hexdigest()


_SOURCE_RE = re.compile(r"^# Source: (.+)$", re.M)


def manifest_sources(text):
    """{source path: text of its documents} of a rendered manifest (str), the path
    without the chart's name (``templates/deployment.yaml``; subcharts
    ``charts/db/templates/x.yaml``), from the ``# Source:`` line helm writes atop each
    document. Documents without one are under ``(unknown source)``."""
    out = {}
    for doc in re.split(r"(?m)^---[ \t]*$", normalise_manifest(text)):
        if not doc.strip():
            continue
        m = _SOURCE_RE.search(doc)
        path = m.group(1).strip().split("/", 1)[-1] if m else "(unknown source)"
        out[path] = (out.get(path, "") + "\n---\n" + doc.strip()).strip("\n-")
    return out


class ReleaseState(object):
    """The last revision of a release, read from ``helm status -o json``.

    :ivar name, namespace: (str) :ivar revision: (int) :ivar status: (str, one of STATUSES)
    :ivar description: (str) :ivar values: user values (dict) :ivar manifest: (str)
    :ivar last_deployed: when the revision was written (aware datetime or None); for a
        pending revision, when its operation started.
    """

    def __init__(self, data):
        info = data.get("info") or {}
        self.name = data.get("name", "")
        self.namespace = data.get("namespace", "")
        self.revision = int(data.get("version") or 0)
        self.status = info.get("status") or "unknown"
        self.description = info.get("description") or ""
        self.values = data.get("config") or {}
        self.manifest = data.get("manifest") or ""
        self.last_deployed = parse_time(info.get("last_deployed"))

    @property
    def pending(self):
        return self.status in PENDING

    def age_seconds(self, now=None):
        """Seconds since the revision was written (int; 0 when helm recorded no time)."""
        if self.last_deployed is None:
            return 0
        return max(0, int(((now or utc_now()) - self.last_deployed).total_seconds()))


def marker(chart, secret_paths=()):
    """The description recorded with each revision this module writes: the chart's name,
    version, content and CRD digests and, when the values came partly from secret values
    files, the paths of those values (``secret_paths=``, a JSON list of key/index lists,
    percent-encoded without spaces), so that helm_release_info and later runs mask them
    (the paths only, never a value)."""
    text = "%s name=%s version=%s content=%s crds=%s" % (MARKER, chart.name, chart.version, chart.digest,
                                                         chart.crds_digest)
    if secret_paths:
        paths = sorted(list(p) for p in set(tuple(p) for p in secret_paths))
        text += " secret_paths=" + quote(json.dumps(paths, separators=(",", ":")), safe='[]",:')
    return text


def recorded_secret_paths(description):
    """The values paths (list of tuples) a revision's description records as coming from
    secret values files (see :func:`marker`); [] when it records none or cannot be read."""
    if not description or MARKER not in description:
        return []
    found = dict(_MARKER_RE.findall(description.split(MARKER, 1)[1]))
    try:
        paths = json.loads(unquote(found.get("secret_paths", "[]")))
    except ValueError:
        return []
    return [tuple(p) for p in paths if isinstance(p, list)] if isinstance(paths, list) else []


def parse_marker(description):
    """{name, version, content, crds} (and secret_paths when recorded) in a revision's
    description, or None."""
    if not description or MARKER not in description:
        return None
    found = dict(_MARKER_RE.findall(description.split(MARKER, 1)[1]))
    return found if {"name", "version", "content", "crds"} <= set(found) else None


def _show(value):
    return json.dumps(value, sort_keys=True)


def _vpath(path):
    return "values" + "".join("[%d]" % p if isinstance(p, int) else "." + p for p in path)


def same_value(a, b):
    """Whether two values read from JSON are the same for helm: numbers by value (helm
    stores every number as a float64, so 2 and 2.0 are one), booleans only as booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def values_reasons(before, after, path=(), secret_paths=()):
    """One reason (str) per leaf that differs between two values trees (dicts), each value
    shown as JSON after :func:`mask_secrets` (secret-like keys, ``secret_paths`` (tuples:
    values from secret values files) and URL passwords masked)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            sub = path + (key,)
            if key not in before and isinstance(after[key], dict) and after[key]:
                out += values_reasons({}, after[key], sub, secret_paths)
            elif key not in after and isinstance(before[key], dict) and before[key]:
                out += values_reasons(before[key], {}, sub, secret_paths)
            elif key not in before:
                out.append("%s: (unset) -> %s" % (_vpath(sub), _masked_show(sub, after[key], secret_paths)))
            elif key not in after:
                out.append("%s: %s -> (unset)" % (_vpath(sub), _masked_show(sub, before[key], secret_paths)))
            else:
                out += values_reasons(before[key], after[key], sub, secret_paths)
        return out
    if same_value(before, after):
        return []
    return ["%s: %s -> %s" % (_vpath(path), _masked_show(path, before, secret_paths),
                              _masked_show(path, after, secret_paths))]


def _masked_show(path, value, secret_paths=()):
    """``value`` at ``path`` as a reason shows it: a masked leaf as a bare ``********``,
    anything else as JSON after mask_secrets."""
    secret = is_secret_path(path, secret_paths)
    if secret and not isinstance(value, (dict, list, bool)) and value is not None:
        return MASK
    return _show(mask_secrets(value, secret, secret_paths, tuple(path)))


def manifest_reasons(before, after, ignore=()):
    """One reason per template whose rendered documents differ; the template paths in
    ``ignore`` (collection of str; ``"*"``: every one) are left out of the comparison."""
    if "*" in ignore:
        return []
    old, new = manifest_sources(before), manifest_sources(after)
    for src in ignore:
        old.pop(src, None)
        new.pop(src, None)
    if ignore:
        before = "\n---\n".join(old[k] for k in sorted(old))
        after = "\n---\n".join(new[k] for k in sorted(new))
    out = []
    for src in sorted(set(old) | set(new)):
        if src not in old:
            out.append("manifest: %s added" % src)
        elif src not in new:
            out.append("manifest: %s removed" % src)
        elif old[src] != new[src]:
            out.append("manifest: %s changed" % src)
    if not out and normalise_manifest(before) != normalise_manifest(after):
        out.append("manifest: sha256 %s -> %s" % (manifest_sha256(before)[:12], manifest_sha256(after)[:12]))
    return out


def compare(chart, values, manifest, state, ignore=(), secret_paths=()):
    """Reasons (list of str) why ``state`` (ReleaseState, last revision) differs from the
    desired chart (LocalChart), values (dict) and manifest (str); [] when it does not.
    ``ignore``: template paths whose documents are not compared (see manifest_reasons);
    ``secret_paths``: values paths (tuples) shown masked (see values_reasons)."""
    if state.status == "failed":
        reasons = ["last revision %d failed (%s): upgrading" % (state.revision, state.description or "no description")]
    else:
        reasons = []
    recorded = parse_marker(state.description)
    if recorded is None:
        reasons.append("revision %d has no chart record of onprem.stack.helm_release (description %r): "
                       "recording chart %s" % (state.revision, state.description, chart.ref))
    else:
        if recorded["name"] != chart.name:
            reasons.append("chart name %s -> %s" % (recorded["name"], chart.name))
        if recorded["version"] != chart.version:
            reasons.append("chart version %s -> %s" % (recorded["version"], chart.version))
        elif recorded["content"] != chart.digest:
            reasons.append("chart content %s -> %s (same version %s)"
                           % (recorded["content"][:19], chart.digest[:19], chart.version))
    val = values_reasons(state.values, values, secret_paths=secret_paths)
    if len(val) > MAX_VALUE_REASONS:
        val = val[:MAX_VALUE_REASONS] + ["values: %d more differences" % (len(val) - MAX_VALUE_REASONS)]
    reasons += val
    reasons += manifest_reasons(state.manifest, manifest, ignore)
    return reasons


def crds_changed(chart, state):
    """Whether the chart's CRDs differ from those recorded with ``state`` (None: unknown)."""
    recorded = parse_marker(state.description) if state else None
    if recorded is None:
        return None
    return recorded["crds"] != chart.crds_digest


def redact_manifest(text):
    """The manifest (str) with every value of the ``data`` and ``stringData`` of Secrets
    replaced by ``<redacted>`` and, in the other documents, the password of every URL
    masked (:func:`mask_url_passwords`: a database URL in a ConfigMap or an env value)."""
    docs = re.split(r"(?m)^---[ \t]*$", normalise_manifest(text))
    out = []
    for doc in docs:
        try:
            obj = yaml.safe_load(doc)
        except yaml.YAMLError:
            obj = None
        if isinstance(obj, dict) and obj.get("kind") == "Secret":
            for field in ("data", "stringData"):
                if isinstance(obj.get(field), dict):
                    obj[field] = dict((k, "<redacted>") for k in obj[field])
            comments = "".join(line + "\n" for line in doc.strip().splitlines() if line.startswith("#"))
            doc = "\n" + comments + yaml.safe_dump(obj, default_flow_style=False, sort_keys=False)
        else:
            doc = mask_url_passwords(doc)
        out.append(doc.rstrip("\n"))
    # Each document lost its trailing newline above: the separators go on lines of their own.
    return "\n---".join(out).strip() + "\n"


def make_diff(name, state, values, manifest, secret_paths=()):
    """helm_release's diff (list of two {before_header, after_header, before, after}):
    the user values (YAML, :func:`mask_secrets` applied, ``secret_paths`` (tuples) masked
    too) and the manifest (:func:`redact_manifest`) of ``state`` (ReleaseState or None)
    and of the desired ``values`` (dict) and ``manifest`` (str)."""
    before_values = state.values if state else {}
    before_manifest = state.manifest if state else ""
    label = "revision %d" % state.revision if state else "not installed"
    return [
        {"before_header": "%s values (%s)" % (name, label), "after_header": "%s values (desired)" % name,
         "before": (yaml.safe_dump(mask_secrets(before_values, secret_paths=secret_paths), default_flow_style=False)
                    if before_values else ""),
         "after": (yaml.safe_dump(mask_secrets(values, secret_paths=secret_paths), default_flow_style=False)
                   if values else "")},
        {"before_header": "%s manifest (%s)" % (name, label), "after_header": "%s manifest (desired)" % name,
         "before": redact_manifest(before_manifest) if before_manifest else "",
         "after": redact_manifest(manifest)},
    ]

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_release
short_description: Install, upgrade or uninstall a Helm release, idempotently without helm-diff
version_added: 0.2.0
description:
  - Installs the chart O(chart) as release O(name) in O(namespace), upgrades it when
    it differs from what is deployed, or uninstalls it (O(state=absent)). Works with
    helm 3.8+ and helm 4; every helm command line is built by the collection's
    C(module_utils/_helm.py).
  - "Idempotent without the helm-diff plugin. The release is upgraded only when one of
    these differs from its last revision: the chart's name, version and content
    digest (sha256 over the chart's files and their paths, so a re-packaged archive of
    the same files is the same chart); the user values, all sources merged
    (O(values_files), then O(values), then O(set_values)); the sha256 of the manifest
    C(helm template) renders with those values (hooks and C(crds/) left out, as in a
    release's manifest). Each difference is one entry of RV(changed_reasons)."
  - The chart's name, version and content digest are recorded in the release's
    description (C(helm history) shows it). A revision without that record (written by
    another tool, a rollback or a failed upgrade) is upgraded once to record it.
  - The user values reach helm through one values file (mode 0600, in the module's
    temporary directory); nothing secret is put on a command line.
  - A release whose last revision C(failed) is upgraded, and RV(changed_reasons) says so.
  - A release left C(pending-install), C(pending-upgrade) or C(pending-rollback) (helm
    was killed, or another operation is running) fails the task, naming the state,
    its age and O(recover_pending). With O(recover_pending=true) and once the pending
    revision is older than O(timeout), a pending upgrade or rollback is rolled back to
    the newest C(deployed) or C(superseded) revision (named by number), a pending
    first install is uninstalled; then the release is upgraded or installed as usual.
  - Helm installs a chart's C(crds/) on the first install only and never upgrades them.
    With O(crds=upgrade), changed CRDs are applied server-side with kubectl before the upgrade.
  - Values under keys that look secret (names containing C(password), C(secret),
    C(token), C(key), C(credential), C(cert), C(jwt), C(auth), C(dsn), C(salt)) are
    masked in every output; other values are shown in RV(changed_reasons) and the diff.
    C(data) and C(stringData) of Secrets are always redacted from the diff. Prefer an
    existing Secret (created by the platform role) over secrets in values.
  - Templates that render differently on every run (C(randAlphaNum), C(now), C(lookup),
    C(.Release.Revision), C(.Release.IsUpgrade)) make every run report a manifest change.
    Set O(kube_version) to the cluster's version when the chart tests C(.Capabilities.KubeVersion).
author:
  - onprem.stack contributors (!UNKNOWN)
extends_documentation_fragment:
  - onprem.stack.helm
  - onprem.stack.kubeconfig
attributes:
  check_mode:
    support: full
    description:
      - Renders the chart (a template error fails the task), reads the release and
        returns whether it would change and why, also for a release that does not exist
        yet. Nothing is written to the cluster; pending recovery is only reported.
  diff_mode:
    support: full
    description:
      - Returns the user values and the manifest before and after, with the C(data) and
        C(stringData) of Secrets and secret-looking values redacted.
options:
  name:
    description: Release name.
    type: str
    required: true
  namespace:
    description: Namespace of the release.
    type: str
    required: true
  chart:
    description:
      - The chart, one of a local chart directory, a C(.tgz) chart archive (the air-gap
        bundle's C(charts/)), or C(oci://host/path/name) in the site registry.
      - Required when O(state=present).
    type: str
  version:
    description:
      - Chart version. Required for an C(oci://) chart.
      - For a directory or C(.tgz), checked against its C(Chart.yaml) (the task fails when
        they differ); default, whatever C(Chart.yaml) says.
    type: str
  state:
    description: Whether the release is installed (V(present)) or uninstalled (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  values:
    description:
      - User values, merged over O(values_files) (maps merged key by key, anything else replaced).
      - Never shown in the invocation (C(no_log)).
    type: dict
    default: {}
  values_files:
    description: Values files (YAML) on the host the module runs on, merged in order before O(values).
    type: list
    elements: path
    default: []
  set_values:
    description:
      - Values set last, in helm's C(--set) syntax, applied by the module itself (never passed
        to helm as C(--set)) so that the result compares exactly with the deployed release.
      - Same format as kubernetes.core.helm's C(set_values).
    type: list
    elements: dict
    default: []
    suboptions:
      value:
        description:
          - "O(set_values[].value_type=raw), V(string) or V(file): one or more C(key=value) pairs,
            comma separated. A key is a dotted path (C(image.tag)), C(name[0]) indexes a
            list, C(\\) escapes C(.), C(,), C(=) and C([); C({a,b}) is a list."
          - "O(set_values[].value_type=json): exactly one C(key=JSON) pair."
          - Never shown in the invocation (C(no_log)).
        type: str
        required: true
      value_type:
        description:
          - V(raw) types the value as helm's C(--set) does (C(true)/C(false), C(null),
            integers without a leading zero; anything else a string); V(string) keeps it a
            string (C(--set-string)); V(json) parses it as JSON (C(--set-json)); V(file) sets
            the content of the file named (on the host the module runs on) as a string
            (C(--set-file)).
        type: str
        choices: [raw, string, json, file]
        default: raw
  create_namespace:
    description: Create O(namespace) when it does not exist (first install only, as helm does).
    type: bool
    default: false
  wait:
    description:
      - Wait until the release's resources are ready (helm 3 C(--wait), helm 4 C(--wait=watcher)),
        and, on uninstall, deleted.
      - Helm 3 waits whenever O(atomic) is set.
    type: bool
    default: true
  timeout:
    description:
      - "Time helm waits for each operation, in seconds (helm's C(--timeout))."
      - Also the age, in seconds, a pending revision must reach before O(recover_pending) touches it.
    type: int
    default: 300
  atomic:
    description:
      - Roll back a failed upgrade, uninstall a failed install (helm 3 C(--atomic), helm 4
        C(--rollback-on-failure)).
    type: bool
    default: true
  recover_pending:
    description:
      - Recover a release left in a C(pending-*) state once its pending revision is older
        than O(timeout) (see the description). Without it such a release fails the task.
    type: bool
    default: false
  crds:
    description:
      - V(install), helm's behaviour, installs C(crds/) on the first install only.
      - V(upgrade) also applies the chart's C(crds/) (and those of unpacked subcharts in
        C(charts/)) server-side with kubectl before an upgrade, when they changed since the
        last revision this module wrote. Only C(.yaml), C(.yml) and C(.json) files are applied.
    type: str
    choices: [install, upgrade]
    default: install
  kube_version:
    description:
      - Kubernetes version the chart is rendered for (C(.Capabilities.KubeVersion)), e.g.
        C(1.31.0). Default, helm's built-in version.
    type: str
  ca_file:
    description: CA bundle (PEM) trusted for the registry of an C(oci://) chart.
    type: path
  username:
    description: Registry user for an C(oci://) chart; requires O(password).
    type: str
  password:
    description:
      - Password of O(username). It reaches helm on standard input (C(helm registry login
        --password-stdin)) into a registry configuration file in the module's temporary
        directory, never on a command line.
    type: str
  kubectl_binary:
    description:
      - Path of kubectl, used only by O(crds=upgrade) when CRDs changed. Default, C(kubectl) on the E(PATH).
    type: path
seealso:
  - module: onprem.stack.helm_release_info
  - module: onprem.stack.chart_images
"""

EXAMPLES = r"""
- name: Install or upgrade the demo from the bundle
  onprem.stack.helm_release:
    name: demo
    namespace: ai
    create_namespace: true
    chart: /srv/bundle/charts/onprem-demo-0.1.0.tgz
    values:
      ingress:
        host: demo.ai.example.internal
    set_values:
      - value: image.tag=1.0.1
        value_type: string
  register: demo

- name: A chart from the site registry, recovering an interrupted upgrade
  onprem.stack.helm_release:
    name: open-webui
    namespace: ai
    chart: oci://registry.site.internal:5000/charts/open-webui
    version: 5.0.0
    ca_file: /etc/onprem-stack/ca.crt
    values_files:
      - /etc/onprem-stack/open-webui.yml
    recover_pending: true
    crds: upgrade

- name: Remove it
  onprem.stack.helm_release:
    name: demo
    namespace: ai
    state: absent
"""

RETURN = r"""
name:
  description: Release name.
  returned: always
  type: str
namespace:
  description: Release namespace.
  returned: always
  type: str
revision:
  description: Revision of the release after the task (in check mode, the current one); 0 when there is none.
  returned: always
  type: int
  sample: 3
status:
  description: Status of that revision (C(deployed), C(failed), ...); C(uninstalled) after O(state=absent); empty when there is none.
  returned: always
  type: str
chart:
  description: Chart as C(name-version), e.g. C(onprem-demo-0.1.0) (O(state=absent), the one that was deployed, when known).
  returned: always
  type: str
app_version:
  description: The chart's C(appVersion).
  returned: always
  type: str
changed_reasons:
  description: Why the release changed or would change, one entry per difference.
  returned: always
  type: list
  elements: str
  sample:
    - 'values.image.tag: "1.0" -> "1.1"'
    - "manifest: templates/deployment.yaml changed"
    - chart version 0.1.0 -> 0.2.0
commands:
  description: Every helm (and kubectl) command run, as argv lists, secrets masked.
  returned: always
  type: list
  elements: list
diff:
  description: Values and manifest before and after (diff mode), secrets redacted.
  returned: when diff mode is on and there is a change
  type: list
  elements: dict
"""

import copy
import fnmatch
import hashlib
import json
import os
import re
import tarfile
import tempfile
import zlib

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._argspec import (
    helm_argument_spec, kubeconfig_argument_spec)
from ansible_collections.onprem.stack.plugins.module_utils._helm import (
    MASK, Cluster, Helm, HelmError, Kubectl, ReleaseParams, ReleaseState, TemplateParams, manifest_sha256,
    manifest_sources, normalise_manifest, utc_now)

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
MARKER = "onprem.stack.helm_release:"
_MARKER_RE = re.compile(r"\b(name|version|content|crds)=(\S+)")
SECRET_KEY_RE = re.compile(r"pass|secret|token|key|credential|cert|jwt|auth|dsn|salt|cookie|private", re.I)
CRD_RE = re.compile(r"^(charts/[^/]+/)*crds/[^/].*\.(ya?ml|json)$")
MAX_VALUE_REASONS = 25


class ModuleFailure(Exception):
    """The task fails with this message (and extra result keys in ``extra``)."""

    def __init__(self, msg, **extra):
        super(ModuleFailure, self).__init__(msg)
        self.extra = extra


# --- charts ------------------------------------------------------------------------------

class LocalChart(object):
    """A chart on disk (directory or .tgz) as helm_release compares it.

    :ivar path: what helm is given (str). :ivar name, version, app_version: from Chart.yaml (str).
    :ivar digest: ``sha256:`` + sha256 over every file's path and sha256 (str), Chart.yaml
        by its parsed content (so a directory and its ``helm package`` archive agree).
    :ivar crds: {path in the chart: bytes} of the CRD files (see CRD_RE).
    :ivar crds_digest: ``sha256:...`` of those, or ``none``.
    """

    def __init__(self, path, files):
        self.path = path
        if "Chart.yaml" not in files:
            raise ModuleFailure("chart %s has no Chart.yaml" % path)
        try:
            meta = yaml.safe_load(files["Chart.yaml"]) or {}
        except yaml.YAMLError as exc:
            raise ModuleFailure("chart %s: Chart.yaml is not valid YAML: %s" % (path, exc))
        if not isinstance(meta, dict) or not meta.get("name") or not meta.get("version"):
            raise ModuleFailure("chart %s: Chart.yaml must be a mapping with name and version" % path)
        self.name, self.version = str(meta["name"]), str(meta["version"])
        self.app_version = str(meta.get("appVersion") or "")
        # helm package writes Chart.yaml anew from its parsed form: digest that form
        canonical = dict(files, **{"Chart.yaml": json.dumps(_pruned(meta), sort_keys=True).encode("utf-8")})
        self.digest = _files_digest(canonical)
        self.crds = dict((k, v) for k, v in files.items() if CRD_RE.match(k))
        self.crds_digest = _files_digest(self.crds) if self.crds else "none"

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


def read_chart_tgz(path):
    """LocalChart of the chart archive ``path`` (paths without the archive's top directory)."""
    files = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for m in tar:
                if m.isfile() and "/" in m.name:
                    files[m.name.split("/", 1)[1]] = tar.extractfile(m).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError, IOError) as exc:
        raise ModuleFailure("%s is not a readable chart archive (.tgz): %s" % (path, exc))
    return LocalChart(path, files)


# --- values ------------------------------------------------------------------------------

class _NoDatesLoader(yaml.SafeLoader if HAS_YAML else object):
    """YAML 1.1 like helm's reader, but timestamps stay strings (helm reads values as JSON types)."""


if HAS_YAML:
    _NoDatesLoader.yaml_implicit_resolvers = dict(
        (k, [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"])
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items())


def merge_values(base, override):
    """Deep merge (a new dict): maps merged key by key, anything else in ``override`` wins."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _split_unescaped(text, sep):
    """Split ``text`` on ``sep`` outside backslash escapes and ``{...}``; escapes kept."""
    parts, cur, depth, i = [], "", 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        if c == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _unescape(text):
    return re.sub(r"\\(.)", r"\1", text)


def parse_key(key):
    """A --set key (``a.b[0].c``, ``\\`` escapes) as a list of str keys and int indices."""
    path = []
    for part in _split_unescaped(key, "."):
        m = re.match(r"^(.*?)((?:\[\d+\])*)$", part)
        name, indices = m.group(1), m.group(2)
        if name.endswith("\\") or not _unescape(name) and not indices:
            raise ValueError("empty key segment in %r" % key)
        if name:
            path.append(_unescape(name))
        path += [int(i) for i in re.findall(r"\[(\d+)\]", indices)]
    if not path or isinstance(path[0], int):
        raise ValueError("a key must start with a name: %r" % key)
    return path


def typed(text, value_type):
    """A --set value: ``string`` as is; ``raw`` as helm's --set types it."""
    if value_type == "string":
        return text
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if text == "0" or (re.match(r"^-?[1-9]\d*$", text) and -2 ** 63 <= int(text) < 2 ** 63):
        return int(text)
    return text


def parse_set_value(entry):
    """[(path, value)] of one ``set_values`` entry ({value, value_type}). Raises ValueError."""
    text, vtype = entry["value"], entry["value_type"]
    if vtype == "json":
        key, sep, raw = text.partition("=")
        if not sep:
            raise ValueError("expected key=JSON")
        return [(parse_key(key), json.loads(raw))]
    out = []
    for pair in _split_unescaped(text, ","):
        key, sep, raw = pair.partition("=")
        while key.endswith("\\") and sep:  # an escaped = belongs to the key
            more, sep, raw = raw.partition("=")
            key = key + "=" + more
        if not sep:
            raise ValueError("expected key=value, found %r" % pair)
        if vtype == "file":
            try:
                with open(_unescape(raw), "rb") as f:
                    value = f.read().decode("utf-8")
            except (OSError, IOError, UnicodeDecodeError) as exc:
                raise ValueError("cannot read file %s: %s" % (raw, exc))
        elif raw.startswith("{") and raw.endswith("}"):
            value = [typed(_unescape(v), vtype) for v in _split_unescaped(raw[1:-1], ",")] if raw[1:-1] else []
        else:
            value = typed(_unescape(raw), vtype)
        out.append((parse_key(key), value))
    return out


def set_path(tree, path, value):
    """Set ``value`` at ``path`` in the values ``tree`` (dict), creating maps and lists
    (lists padded with null, as helm does)."""
    node = tree
    for i, step in enumerate(path):
        last = i == len(path) - 1
        nxt = None if last else ([] if isinstance(path[i + 1], int) else {})
        if isinstance(step, int):
            while len(node) <= step:
                node.append(None)
            if last:
                node[step] = value
            elif not isinstance(node[step], type(nxt)):
                node[step] = nxt
        else:
            if last:
                node[step] = value
            elif not isinstance(node.get(step), type(nxt)):
                node[step] = nxt
        if not last:
            node = node[step]
    return tree


def desired_values(params):
    """The user values: values_files merged in order, then values, then set_values;
    normalised through JSON as helm stores them. Raises ModuleFailure naming the source."""
    merged = {}
    for path in params["values_files"]:
        try:
            with open(path, "rb") as f:
                data = yaml.load(f, Loader=_NoDatesLoader)  # noqa: S506  (a SafeLoader subclass)
        except (OSError, IOError) as exc:
            raise ModuleFailure("values file %s cannot be read: %s" % (path, exc))
        except yaml.YAMLError as exc:
            raise ModuleFailure("values file %s is not valid YAML: %s" % (path, exc))
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ModuleFailure("values file %s must hold a YAML mapping, found %s" % (path, type(data).__name__))
        merged = merge_values(merged, data)
    merged = merge_values(merged, params["values"])
    for n, entry in enumerate(params["set_values"]):
        try:
            for path, value in parse_set_value(entry):
                set_path(merged, path, value)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ModuleFailure("set_values[%d] (value_type %s) cannot be applied: %s" % (n, entry["value_type"], exc))
    try:
        return json.loads(json.dumps(merged))
    except (TypeError, ValueError) as exc:
        raise ModuleFailure("the merged values cannot be written as JSON for helm: %s" % exc)


def leaf_strings(obj):
    """Every string or number leaf of a values tree, as str (what Ansible's no_log masks)."""
    if isinstance(obj, dict):
        for value in obj.values():
            yield from leaf_strings(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from leaf_strings(value)
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, (int, float)) or (isinstance(obj, str) and obj):
        yield str(obj)


def secret_leaves(obj, secret=False):
    """The string leaves of ``obj`` under a key matching SECRET_KEY_RE."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from secret_leaves(value, secret or bool(SECRET_KEY_RE.search(str(key))))
    elif isinstance(obj, list):
        for value in obj:
            yield from secret_leaves(value, secret)
    elif secret and isinstance(obj, str) and obj:
        yield obj


# --- comparing ---------------------------------------------------------------------------

def marker(chart):
    """The description recorded with each revision this module writes."""
    return "%s name=%s version=%s content=%s crds=%s" % (MARKER, chart.name, chart.version, chart.digest,
                                                         chart.crds_digest)


def parse_marker(description):
    """{name, version, content, crds} recorded in a revision's description, or None."""
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


def values_reasons(before, after, path=()):
    """One reason per leaf that differs between two values trees."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            sub = path + (key,)
            if key not in before and isinstance(after[key], dict) and after[key]:
                out += values_reasons({}, after[key], sub)
            elif key not in after and isinstance(before[key], dict) and before[key]:
                out += values_reasons(before[key], {}, sub)
            elif key not in before:
                out.append("%s: (unset) -> %s" % (_vpath(sub), _masked_show(sub, after[key])))
            elif key not in after:
                out.append("%s: %s -> (unset)" % (_vpath(sub), _masked_show(sub, before[key])))
            else:
                out += values_reasons(before[key], after[key], sub)
        return out
    if same_value(before, after):
        return []
    return ["%s: %s -> %s" % (_vpath(path), _masked_show(path, before), _masked_show(path, after))]


def _masked_show(path, value):
    if any(SECRET_KEY_RE.search(str(p)) for p in path if not isinstance(p, int)):
        return MASK
    return _show(value)


def manifest_reasons(before, after):
    """One reason per template whose rendered documents differ."""
    old, new = manifest_sources(before), manifest_sources(after)
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


def compare(chart, values, manifest, state):
    """Reasons (list of str) why ``state`` (ReleaseState, last revision) differs from the
    desired chart (LocalChart), values (dict) and manifest (str); [] when it does not."""
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
    val = values_reasons(state.values, values)
    if len(val) > MAX_VALUE_REASONS:
        val = val[:MAX_VALUE_REASONS] + ["values: %d more differences" % (len(val) - MAX_VALUE_REASONS)]
    reasons += val
    reasons += manifest_reasons(state.manifest, manifest)
    return reasons


def crds_changed(chart, state):
    """Whether the chart's CRDs differ from those recorded with ``state`` (None: unknown)."""
    recorded = parse_marker(state.description) if state else None
    if recorded is None:
        return None
    return recorded["crds"] != chart.crds_digest


# --- redaction ---------------------------------------------------------------------------

def redact_manifest(text):
    """The manifest with every value of the ``data`` and ``stringData`` of Secrets replaced by
    ``<redacted>``; other documents unchanged."""
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
        out.append(doc.rstrip("\n"))
    return "---".join(out).strip() + "\n"


def _masked_values(values, path=()):
    if isinstance(values, dict):
        return dict((k, MASK if SECRET_KEY_RE.search(str(k)) and not isinstance(v, (dict, list))
                     else _masked_values(v, path + (k,))) for k, v in values.items())
    if isinstance(values, list):
        return [_masked_values(v, path) for v in values]
    return values


def make_diff(name, state, values, manifest):
    before_values = state.values if state else {}
    before_manifest = state.manifest if state else ""
    label = "revision %d" % state.revision if state else "not installed"
    return [
        {"before_header": "%s values (%s)" % (name, label), "after_header": "%s values (desired)" % name,
         "before": yaml.safe_dump(_masked_values(before_values), default_flow_style=False) if before_values else "",
         "after": yaml.safe_dump(_masked_values(values), default_flow_style=False) if values else ""},
        {"before_header": "%s manifest (%s)" % (name, label), "after_header": "%s manifest (desired)" % name,
         "before": redact_manifest(before_manifest) if before_manifest else "",
         "after": redact_manifest(manifest)},
    ]


# --- the run -----------------------------------------------------------------------------

def invocation(params):
    """The module's parameters with values, set_values[].value and password hidden."""
    shown = dict(params)
    shown["values"] = NO_LOG_PLACEHOLDER if params.get("values") else {}
    shown["set_values"] = [dict(e, value=NO_LOG_PLACEHOLDER) for e in params.get("set_values") or []]
    if params.get("password"):
        shown["password"] = NO_LOG_PLACEHOLDER
    return {"module_args": shown}


class Run(object):
    """One run of the module: its parameters, the helm wrapper and the result being built."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.helm = Helm(module, self.p["helm_binary"])
        self.cluster = Cluster(self.p["namespace"], self.p["kubeconfig"], self.p["context"])
        self.result = dict(changed=False, name=self.p["name"], namespace=self.p["namespace"], revision=0,
                           status="", chart="", app_version="", changed_reasons=[], commands=self.helm.commands)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, invocation=invocation(self.p), **dict(self.result, **extra))

    def exit(self):
        self.module.exit_json(invocation=invocation(self.p), **self.result)

    def status(self):
        data = self.helm.status(self.cluster, self.p["name"])
        return ReleaseState(data) if data is not None else None

    def _set_from_state(self, state):
        if state:
            self.result.update(revision=state.revision, status=state.status)

    # state: absent
    def absent(self):
        state = self.status()
        if state is None or state.status == "uninstalled":
            self._set_from_state(state)
            return
        self._set_from_state(state)
        hist = self.helm.history(self.cluster, self.p["name"], 1)
        if hist:
            self.result.update(chart=hist[-1].get("chart", ""), app_version=hist[-1].get("app_version", ""))
        self.result["changed"] = True
        self.result["changed_reasons"].append("release exists (revision %d, %s): uninstall"
                                              % (state.revision, state.status))
        if not self.module.check_mode:
            self.helm.uninstall(self.cluster, self.p["name"], self.p["wait"], self.p["timeout"])
            self.result["status"] = "uninstalled"

    # state: present
    def resolve_chart(self):
        chart = self.p["chart"]
        if chart.startswith("oci://"):
            if not self.p["version"]:
                raise ModuleFailure("chart %s: version is required for an oci:// chart" % chart)
            return read_chart_tgz(self.pull_oci(chart))
        if os.path.isdir(chart):
            local = read_chart_dir(chart)
        elif os.path.isfile(chart):
            local = read_chart_tgz(chart)
        else:
            raise ModuleFailure("chart %s is neither a chart directory, a .tgz chart archive nor an oci:// "
                                "reference (no such file or directory)" % chart)
        if self.p["version"] and self.p["version"] != local.version:
            raise ModuleFailure("version %s was asked, but chart %s is %s %s (its Chart.yaml)"
                                % (self.p["version"], chart, local.name, local.version))
        return local

    def pull_oci(self, chart):
        dest = tempfile.mkdtemp(prefix="chart-", dir=self.module.tmpdir)
        registry_config = None
        if self.p["username"]:
            registry_config = os.path.join(dest, "registry-config.json")
            host = chart[len("oci://"):].split("/", 1)[0]
            self.helm.registry_login(host, self.p["username"], self.p["password"], registry_config,
                                     self.p["ca_file"])
        pulled = os.path.join(dest, "pulled")
        os.mkdir(pulled)
        return self.helm.pull(chart, pulled, self.p["version"], ca_file=self.p["ca_file"],
                              registry_config=registry_config)

    def mask_values(self, values):
        """Values are shown in reasons and diffs, except under secret-looking keys: those
        (and only those) stay masked in every output (module.no_log_values)."""
        given = set(leaf_strings(self.p["values"])) | set(e["value"] for e in self.p["set_values"])
        self.module.no_log_values.difference_update(given)
        self.module.no_log_values.update(secret_leaves(values))

    def recover(self, state):
        """Handle a pending last revision: fail, or recover it (see the documentation)."""
        age, timeout = state.age_seconds(utc_now()), self.p["timeout"]
        where = "release %s in namespace %s is %s: revision %d started %ds ago" % (
            self.p["name"], self.p["namespace"], state.status, state.revision, age)
        if not self.p["recover_pending"]:
            raise ModuleFailure("%s and has not finished (helm was interrupted, or another operation is still "
                                "running). Set recover_pending: true to recover it once it is older than timeout "
                                "(%ds)" % (where, timeout), revision=state.revision, status=state.status,
                                pending_age_seconds=age)
        if age < timeout:
            raise ModuleFailure("%s, less than timeout (%ds): the operation may still be running, so "
                                "recover_pending leaves it alone; run again later" % (where, timeout),
                                revision=state.revision, status=state.status, pending_age_seconds=age)
        target = None
        if not (state.status == "pending-install" and state.revision == 1):
            good = [h for h in self.helm.history(self.cluster, self.p["name"], 256)
                    if int(h.get("revision", 0)) < state.revision and h.get("status") in ("deployed", "superseded")]
            target = max(good, key=lambda h: int(h["revision"])) if good else None
        if target is None and state.status != "pending-install":
            raise ModuleFailure("%s; no deployed or superseded revision is left to roll back to" % where,
                                revision=state.revision, status=state.status)
        if target is None:
            what = "%s revision %d (%ds old) uninstalled, to install again" % (state.status, state.revision, age)
        else:
            what = "%s revision %d (%ds old) rolled back to revision %d (%s)" % (
                state.status, state.revision, age, int(target["revision"]), target["status"])
        self.result["changed_reasons"].append(("would recover: " if self.module.check_mode else "recovered: ") + what)
        self.result["changed"] = True
        if self.module.check_mode:
            return state if target is not None else None
        if target is None:
            self.helm.uninstall(self.cluster, self.p["name"], self.p["wait"], self.p["timeout"])
        else:
            self.helm.rollback(self.cluster, self.p["name"], int(target["revision"]), self.p["wait"],
                               self.p["timeout"])
        return self.status()

    def present(self):
        chart = self.resolve_chart()
        self.result.update(chart=chart.ref, app_version=chart.app_version)
        values = desired_values(self.p)
        self.mask_values(values)
        try:
            manifest = self.helm.template(TemplateParams(
                self.p["name"], chart.path, self.p["namespace"], values, kube_version=self.p["kube_version"],
                include_crds=False, no_hooks=True))
        except HelmError as exc:
            raise ModuleFailure("rendering chart %s (release %s) failed: %s" % (self.p["chart"], self.p["name"], exc),
                                cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
        state = self.status()
        if state is not None and state.pending:
            state = self.recover(state)
            if self.module.check_mode:
                self._set_from_state(state)
                if self.module._diff:
                    self.result["diff"] = make_diff(self.p["name"], state, values, manifest)
                self.result["changed_reasons"].append("then upgrade or install chart %s" % chart.ref)
                return
        if state is not None and state.status in ("uninstalling", "unknown"):
            raise ModuleFailure("release %s in namespace %s is %s (revision %d): wait for the uninstall to finish "
                                "or run helm uninstall" % (self.p["name"], self.p["namespace"], state.status,
                                                           state.revision), revision=state.revision,
                                status=state.status)
        installed = state is not None and state.status != "uninstalled"
        if installed:
            reasons = compare(chart, values, manifest, state)
        else:
            reasons = ["release does not exist: install chart %s" % chart.ref]
        self._set_from_state(state if installed else None)
        if not reasons:
            return
        self.result["changed"] = True
        self.result["changed_reasons"] += reasons
        if self.module._diff:
            self.result["diff"] = make_diff(self.p["name"], state if installed else None, values, manifest)
        crds = installed and self.p["crds"] == "upgrade" and chart.crds and crds_changed(chart, state) is not False
        if crds:
            self.result["changed_reasons"].append("crds: %s applied server-side before the upgrade"
                                                  % ", ".join(sorted(chart.crds)))
        elif installed and chart.crds and crds_changed(chart, state):
            self.module.warn("the CRDs in chart %s changed, but helm never upgrades crds/; set crds: upgrade "
                             "to apply them" % chart.ref)
        if self.module.check_mode:
            return
        if crds:
            self.apply_crds(chart)
        rp = ReleaseParams(self.p["name"], chart.path, values, marker(chart), self.p["wait"], self.p["timeout"],
                           self.p["atomic"], self.p["create_namespace"], replace=state is not None and not installed)
        try:
            rel = (self.helm.upgrade if installed else self.helm.install)(self.cluster, rp)
        except HelmError as exc:
            try:
                after = self.status()
            except HelmError:
                after = None
            self._set_from_state(after)
            note = ""
            if self.p["atomic"]:
                note = (" helm rolled it back (atomic); now revision %d, %s" % (after.revision, after.status)
                        if after else " helm uninstalled it (atomic)")
            raise ModuleFailure("%s of release %s (chart %s) failed: %s.%s" % (
                "upgrade" if installed else "install", self.p["name"], chart.ref, exc, note),
                cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
        self._set_from_state(ReleaseState(rel))

    def apply_crds(self, chart):
        tmp = tempfile.mkdtemp(prefix="crds-", dir=self.module.tmpdir)
        files = []
        for n, name in enumerate(sorted(chart.crds)):
            path = os.path.join(tmp, "%03d-%s" % (n, os.path.basename(name)))
            with open(path, "wb") as f:
                f.write(chart.crds[name])
            files.append(path)
        Kubectl(self.module, self.p["kubectl_binary"], self.helm.commands).apply_server_side(
            files, self.p["kubeconfig"], self.p["context"])


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        chart=dict(type="str"),
        version=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        values=dict(type="dict", default={}, no_log=True),
        values_files=dict(type="list", elements="path", default=[]),
        set_values=dict(type="list", elements="dict", default=[], options=dict(
            value=dict(type="str", required=True, no_log=True),
            value_type=dict(type="str", choices=["raw", "string", "json", "file"], default="raw"),
        )),
        create_namespace=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=300),
        atomic=dict(type="bool", default=True),
        recover_pending=dict(type="bool", default=False),
        crds=dict(type="str", choices=["install", "upgrade"], default="install"),
        kube_version=dict(type="str"),
        ca_file=dict(type="path"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        kubectl_binary=dict(type="path"),
    )
    spec.update(helm_argument_spec())
    spec.update(kubeconfig_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ["chart"])],
                           required_together=[("username", "password")])
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), invocation=invocation(module.params))
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, not %d" % module.params["timeout"],
                         invocation=invocation(module.params))
    run = Run(module)
    try:
        if module.params["state"] == "absent":
            run.absent()
        else:
            run.present()
    except ModuleFailure as exc:
        run.fail(str(exc), **exc.extra)
    except HelmError as exc:
        run.fail(str(exc), cmd=exc.cmd, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
    except (OSError, IOError) as exc:
        run.fail("release %s: %s" % (module.params["name"], exc))
    run.exit()


if __name__ == "__main__":
    main()

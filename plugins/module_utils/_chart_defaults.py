# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Chart default secrets that survive into a release: helm_release refuses to install or
upgrade a release whose rendered manifest still holds the chart's own default value of a
secret-like key (``auth.password: changeme``), unless the release waives that key path.

- :func:`chart_default_values`: the chart's default values, its ``values.yaml`` and those
  of its subcharts (what ``helm show values`` prints for the chart itself: the raw
  ``values.yaml``, helm/helm pkg/action/show.go), each subchart's under its name or alias
  (helm/helm pkg/chartutil/dependencies.go: a subchart's values live under that key of
  the parent's values).
- :func:`secret_defaults`: the leaves of a values tree that count as secrets (see
  :func:`is_secret_key`, :func:`counts`).
- :func:`manifest_strings`: where a rendered manifest carries values to a workload: the
  ``data`` (base64-decoded) and ``stringData`` of Secrets, the ``data`` and
  ``binaryData`` of ConfigMaps, and the ``env[].value`` of every container,
  init container and ephemeral container (Kubernetes API core/v1 Secret, ConfigMap,
  Container.env).
- :func:`surviving_defaults`: which defaults are still there, by key path.

Nothing here returns or prints a secret value: results name key paths and places.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re
from urllib.parse import unquote

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._chart import ChartError, tgz_files
from ansible_collections.onprem.stack.plugins.module_utils._values import (
    merge_values, url_passwords, value_at, yaml_loader)

# A default shorter than this (after trimming white space) is not checked: such strings
# ("", "no", "dev", "pw") turn up in manifests by chance and guard nothing.
MIN_LENGTH = 4
# Words (of a key split at case changes, digits and punctuation) that make a key secret,
# as a whole word or as the end of one written without separators ("adminpassword").
SECRET_WORDS = ("password", "passwd", "secret", "token", "credential", "credentials", "dsn")
SECRET_WHOLE_WORDS = ("pass", "pwd", "passphrase", "key", "apikey", "secretkey", "privatekey", "accesskey",
                      "secrets", "tokens")
# A key whose last word is one of these names or describes an object, not its secret
# value: secretName, keyName, secretKeyRef, passwordFile, tokenPath, secretKeys (a map of
# key names), keySize.
NAMING_WORDS = ("name", "names", "ref", "refs", "reference", "file", "files", "filename", "path", "paths", "dir",
                "mount", "mountpath", "keys", "length", "size", "bits", "type", "kind", "format", "algorithm",
                "enabled", "create", "annotations", "labels", "mode", "policy", "provider", "template", "env")
# "<word> key" names a key inside a Secret when <word> is one of these (passwordKey,
# userKey, urlKey: bitnami's existingSecret*Key); "secret key", "api key" hold the value.
KEY_OF_WORDS = ("password", "passwd", "pass", "token", "user", "username", "url", "uri", "dsn", "host", "port",
                "database", "db", "cert", "certificate", "ca", "tls")
_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORKLOAD_CONTAINERS = ("containers", "initContainers", "ephemeralContainers")


def key_words(key):
    """The words of a values key (str), lower case: ``adminPassword`` -> admin, password;
    ``SECRET_KEY`` -> secret, key; ``tls.crt`` -> tls, crt."""
    return [w.lower() for w in _WORD_RE.findall(str(key))]


def is_secret_key(key):
    """Whether a values key (str) holds a secret by its name: a word of it is in
    SECRET_WHOLE_WORDS or ends with one of SECRET_WORDS (``password``, ``jwtSecret``,
    ``SECRET_KEY``, ``apiKey``, ``client_secret``, ``credentials``, ``dsn``), unless it names
    an object rather than holding the value: ``key`` alone (Kubernetes' ``secretKeyRef.key``,
    a toleration's ``key``), a word ``existing`` (``existingSecret``), a
    last word of NAMING_WORDS (``secretName``, ``keyName``, ``secretKeyRef``,
    ``passwordFile``), or a last word ``key`` after one of KEY_OF_WORDS (``passwordKey``,
    ``userPasswordKey``: the key of a value inside a Secret)."""
    words = key_words(key)
    if not words or words == ["key"] or "existing" in words or words[-1] in NAMING_WORDS:
        return False
    if words[-1] == "key" and len(words) > 1 and words[-2] in KEY_OF_WORDS:
        return False
    return any(w in SECRET_WHOLE_WORDS or w.endswith(SECRET_WORDS) for w in words)


def counts(value):
    """The string a default leaf is checked as (str), or None when it is not checked: booleans,
    None, floats, containers, and strings or integers shorter than MIN_LENGTH."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if len(text.strip()) >= MIN_LENGTH else None


def format_path(path):
    """A values path (tuple of str keys and int indices) as helm's ``--set`` writes it and
    as ``allow_chart_default_secrets`` takes it: ``auth.password``, ``env[0].value``; a
    ``.`` , ``[`` or ``\\`` in a key is escaped with ``\\`` (helm/helm pkg/strvals)."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += "[%d]" % step
        else:
            out += ("." if out else "") + re.sub(r"([.\[\\,=])", r"\\\1", step)
    return out


def secret_defaults(values, path=()):
    """The default secrets of a values tree: a list of (path, text), ``path`` a tuple of
    str keys and int list indices, ``text`` the string searched for (see :func:`counts`):

    - the value of a leaf whose own key is secret (:func:`is_secret_key`; for an item of a
      list, the list's key), and the password of a URL in it;
    - the password of every URL with one (``scheme://user:password@host``, RFC 3986
      section 3.2.1) in any other string leaf (``DATABASE_URL``).
    """
    out = []
    if isinstance(values, dict):
        for key, value in values.items():
            out += _leaf_secrets(value, path + (str(key),), is_secret_key(key))
    return out


def _leaf_secrets(value, path, secret):
    if isinstance(value, dict):
        return secret_defaults(value, path)
    if isinstance(value, list):
        out = []
        for n, item in enumerate(value):
            out += _leaf_secrets(item, path + (n,), secret)
        return out
    text = counts(value)
    if text is None:
        return []
    found = [(path, text)] if secret else []
    if isinstance(value, str):
        found += [(path, pw) for pw in url_passwords(value) if counts(pw) and pw != text]
    return found


def _subchart_keys(files):
    """{subchart name: [keys its values live under]} from Chart.yaml's dependencies (alias, else name)."""
    try:
        meta = yaml.safe_load(files.get("Chart.yaml", b"")) or {}
    except yaml.YAMLError:
        meta = {}
    keys = {}
    for dep in meta.get("dependencies") or [] if isinstance(meta, dict) else []:
        if isinstance(dep, dict) and dep.get("name"):
            keys.setdefault(str(dep["name"]), []).append(str(dep.get("alias") or dep["name"]))
    return keys


def chart_default_values(files, where, prefix=()):
    """The default values of a chart and its subcharts: a list of (prefix, values), ``prefix``
    the tuple of keys the values live under in the release's values (``()`` for the chart,
    ``("postgresql",)`` for a subchart named or aliased so), ``values`` a dict.

    :param files: {path in the chart: bytes} (LocalChart.files); subcharts are unpacked
        directories ``charts/<dir>/`` or archives ``charts/*.tgz``.
    :param where: the chart as named in messages (str).
    Raises ChartError when a ``values.yaml`` is not a YAML mapping (helm refuses such a
    chart too)."""
    out = []
    if "values.yaml" in files:
        try:
            values = yaml.load(files["values.yaml"], Loader=yaml_loader())  # noqa: S506  (a SafeLoader subclass)
        except yaml.YAMLError as exc:
            raise ChartError("chart %s: values.yaml is not valid YAML: %s" % (where, exc))
        if values is not None and not isinstance(values, dict):
            raise ChartError("chart %s: values.yaml must hold a mapping, found %s" % (where, type(values).__name__))
        out.append((prefix, values or {}))
    aliases = _subchart_keys(files)
    subcharts = {}
    for name, data in files.items():
        parts = name.split("/")
        if len(parts) == 2 and parts[0] == "charts" and name.endswith(".tgz"):
            subcharts[name] = tgz_files("%s: %s" % (where, name), data)
        elif len(parts) > 2 and parts[0] == "charts":
            subcharts.setdefault("charts/" + parts[1], {})["/".join(parts[2:])] = data
    for sub in sorted(subcharts):
        sub_files = subcharts[sub]
        try:
            meta = yaml.safe_load(sub_files.get("Chart.yaml", b"")) or {}
        except yaml.YAMLError:
            meta = {}
        name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
        if not name:
            continue
        for key in aliases.get(name, [name]):
            out += chart_default_values(sub_files, "%s: %s" % (where, sub), prefix + (key,))
    return out


def _at(values, prefix):
    found, node = value_at(values, prefix)
    return node if found and isinstance(node, dict) else {}


def _plain_strings(values, secret=False):
    """Every string leaf of ``values`` whose own key is not secret (set of str)."""
    out = set()
    if isinstance(values, dict):
        for key, value in values.items():
            out |= _plain_strings(value, is_secret_key(key))
    elif isinstance(values, list):
        for value in values:
            out |= _plain_strings(value, secret)
    elif isinstance(values, str) and not secret:
        out.add(values)
    return out


def _b64(text):
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        return None


def _env_values(obj, kind, name):
    out = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in _WORKLOAD_CONTAINERS and isinstance(value, list):
                for c in value:
                    if not isinstance(c, dict):
                        continue
                    for e in c.get("env") or []:
                        if isinstance(e, dict) and isinstance(e.get("value"), str):
                            out.append(("%s %s, container %s, env %s" % (kind, name, c.get("name", "?"), e.get("name", "?")),
                                        e["value"]))
            else:
                out += _env_values(value, kind, name)
    elif isinstance(obj, list):
        for value in obj:
            out += _env_values(value, kind, name)
    return out


def manifest_strings(manifest):
    """The strings a rendered manifest (str, YAML documents) hands to workloads: a list of
    (where, text), ``where`` naming the object and field (``Secret demo-auth,
    data.password``; ``Deployment web, container app, env DATABASE_URL``). Secret
    ``data`` and ConfigMap ``binaryData`` are base64-decoded (values that are not UTF-8
    text are left out); documents that are not YAML mappings are skipped."""
    out = []
    for doc in re.split(r"(?m)^---[ \t]*$", manifest or ""):
        try:
            obj = yaml.safe_load(doc)
        except yaml.YAMLError:
            continue
        if not isinstance(obj, dict):
            continue
        kind = str(obj.get("kind", "?"))
        name = str((obj.get("metadata") or {}).get("name", "?"))
        fields = {"Secret": (("data", True), ("stringData", False)),
                  "ConfigMap": (("data", False), ("binaryData", True))}.get(kind, ())
        for field, encoded in fields:
            data = obj.get(field)
            for key, value in sorted(data.items()) if isinstance(data, dict) else []:
                text = _b64(value) if encoded else (value if isinstance(value, str) else None)
                if text is not None:
                    out.append(("%s %s, %s.%s" % (kind, name, field, key), text))
        out += _env_values(obj.get("spec"), kind, name)
    return out


def _appears(default, text, plain):
    """Whether the default secret ``default`` (str) is in the manifest string ``text``:
    as the password of a URL in it (percent-decoded too), or as the whole string, or
    inside it between characters that are not letters or digits; a whole string equal
    to a value that a non-secret key also holds (``plain``, set of str: a user name
    ``admin`` beside a default password ``admin``) does not count."""
    if default in url_passwords(text) or default in [unquote(p) for p in url_passwords(text)]:
        return True
    if text == default:
        return default not in plain
    return re.search(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(default), text) is not None


def waived(path, waivers):
    """Whether ``path`` (tuple) is waived: one of ``waivers`` (list of paths, tuples) is it
    or a key above it."""
    return any(tuple(path[:len(w)]) == tuple(w) for w in waivers)


def surviving_defaults(chart_files, where, user_values, manifest, waivers=()):
    """The chart's default secrets still in the rendered manifest: a list of
    {path (str, :func:`format_path`), found_in (list of str, :func:`manifest_strings`
    places)}, sorted by path; [] when none is.

    A default at path P counts when its text appears (:func:`_appears`) in a string of
    the manifest and P is not waived. When the user's values set P to something else,
    a string that is exactly the default and also the value of a non-secret key of the
    merged values (a user name equal to the default password) does not count, since the
    default is no longer what P holds; while P keeps its default, every appearance counts.

    :param chart_files: LocalChart.files. :param where: the chart in messages (str).
    :param user_values: the release's user values (dict, all sources merged).
    :param manifest: the rendered manifest (str). :param waivers: tuples (paths).
    Raises ChartError (see :func:`chart_default_values`)."""
    strings = manifest_strings(manifest)
    found = {}
    for prefix, defaults in chart_default_values(chart_files, where):
        user = _at(user_values, prefix)
        effective = merge_values(defaults, user)
        plain = _plain_strings(effective)
        for path, text in secret_defaults(defaults):
            full = prefix + path
            if waived(full, waivers):
                continue
            kept = value_at(effective, path) == value_at(defaults, path)
            places = [w for w, s in strings if _appears(text, s, set() if kept else plain)]
            if places:
                found.setdefault(format_path(full), set()).update(places)
    return [{"path": p, "found_in": sorted(found[p])} for p in sorted(found)]

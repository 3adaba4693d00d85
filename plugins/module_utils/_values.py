# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""User values as helm_release merges them: values files in order, then ``values``, then
``set_values`` entries parsed as helm's ``--set``/``--set-string``/``--set-json``/
``--set-file`` would parse them (helm/helm pkg/strvals), normalised through JSON as helm
stores them; and which leaves are secrets: :func:`mask_secrets` is the one masking every
module applies to values it returns (reasons, diffs, helm_release_info's values).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible_collections.onprem.stack.plugins.module_utils._helm import MASK

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

# Keys whose values are shown masked in reasons and diffs.
SECRET_KEY_RE = re.compile(r"pass|secret|token|key|credential|cert|jwt|auth|dsn|salt|cookie|private", re.I)
# A URL's userinfo password, RFC 3986 section 3.2.1: ``scheme://user:password@host``. The
# user has no ":"; the password runs to the last "@" of the authority (which ends at the
# first "/", "?", "#"), so an unencoded "@" in it is masked too.
_URL_PASSWORD_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)([^/?#\s]+)@")


class ValuesError(Exception):
    """The values cannot be built; the message names the file or set_values entry."""


class _NoDatesLoader(yaml.SafeLoader if HAS_YAML else object):
    """YAML 1.1 like helm's reader, but timestamps stay strings (helm reads values as JSON types)."""


if HAS_YAML:
    _NoDatesLoader.yaml_implicit_resolvers = dict(
        (k, [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"])
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items())


def yaml_loader():
    """The YAML loader (a yaml.SafeLoader subclass) values files are read with: YAML 1.1
    as helm reads it, timestamps left as strings (helm reads values as JSON types)."""
    return _NoDatesLoader


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


def read_values_file(path):
    """The values (dict) of the YAML values file ``path`` (str); {} for an empty file.
    Raises ValuesError naming the file when it cannot be read, is not YAML or not a mapping."""
    try:
        with open(path, "rb") as f:
            data = yaml.load(f, Loader=_NoDatesLoader)  # noqa: S506  (a SafeLoader subclass)
    except (OSError, IOError) as exc:
        raise ValuesError("values file %s cannot be read: %s" % (path, exc))
    except yaml.YAMLError as exc:
        raise ValuesError("values file %s is not valid YAML: %s" % (path, exc))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValuesError("values file %s must hold a YAML mapping, found %s" % (path, type(data).__name__))
    return data


def secret_file_values(params):
    """The values of ``params["secret_values_files"]`` (list of paths; absent: none) merged
    in order (dict, normalised through JSON). Raises ValuesError naming the file."""
    merged = {}
    for path in params.get("secret_values_files") or []:
        merged = merge_values(merged, read_values_file(path))
    try:
        return json.loads(json.dumps(merged))
    except (TypeError, ValueError) as exc:
        raise ValuesError("the secret values files cannot be written as JSON for helm: %s" % exc)


def desired_values(params):
    """The user values: values_files merged in order, then values, then
    secret_values_files (when the params have it), then set_values; normalised through
    JSON as helm stores them. Raises ValuesError naming the source."""
    merged = {}
    for path in params["values_files"]:
        merged = merge_values(merged, read_values_file(path))
    merged = merge_values(merged, params["values"])
    merged = merge_values(merged, secret_file_values(params))
    for n, entry in enumerate(params["set_values"]):
        try:
            for path, value in parse_set_value(entry):
                set_path(merged, path, value)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValuesError("set_values[%d] (value_type %s) cannot be applied: %s" % (n, entry["value_type"], exc))
    try:
        return json.loads(json.dumps(merged))
    except (TypeError, ValueError) as exc:
        raise ValuesError("the merged values cannot be written as JSON for helm: %s" % exc)


def value_at(values, path):
    """(found, value) at ``path`` (sequence of str keys and int list indices) in a values
    tree; (False, None) when the path does not exist."""
    node = values
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False, None
        elif not isinstance(node, dict) or step not in node:
            return False, None
        node = node[step]
    return True, node


def leaf_paths(obj, path=()):
    """The paths (list of tuples of str keys and int indices) of every leaf of a values
    tree that :func:`value_strings` yields (strings and numbers; not booleans or None)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in leaf_paths(v, path + (k,))]
    if isinstance(obj, list):
        return [p for n, v in enumerate(obj) for p in leaf_paths(v, path + (n,))]
    return [path] if list(value_strings(obj)) else []


def mask_strings(obj, strings):
    """A copy of ``obj`` (str, or dict/list of them and other JSON types) with every
    occurrence of each of ``strings`` (iterable of str; longest first, empty ones
    ignored) inside a string replaced by ``********``: the values of secret values files
    wherever they turn up (a rendered ConfigMap, a reason)."""
    ordered = sorted((s for s in set(strings) if s), key=len, reverse=True)
    if isinstance(obj, dict):
        return dict((k, mask_strings(v, ordered)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return [mask_strings(v, ordered) for v in obj]
    if isinstance(obj, str):
        for s in ordered:
            obj = obj.replace(s, MASK)
    return obj


def value_strings(obj):
    """Yield every leaf of a values tree (dict/list of str, int, float, bool, None) as
    Ansible's no_log masking sees it: non-empty strings and numbers as str; booleans and
    None are not yielded (Ansible never masks them)."""
    if isinstance(obj, dict):
        for value in obj.values():
            yield from value_strings(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from value_strings(value)
    elif isinstance(obj, bool) or obj is None:
        return
    elif isinstance(obj, (int, float)) or (isinstance(obj, str) and obj):
        yield str(obj)


def secret_leaves(obj, secret=False):
    """The strings of ``obj`` (a values tree) that :func:`mask_secrets` hides: the
    non-empty string leaves under a key matching SECRET_KEY_RE, and the password of every
    URL in any other string leaf (for ``module.no_log_values``, so they stay hidden in
    every output, error messages included)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from secret_leaves(value, secret or bool(SECRET_KEY_RE.search(str(key))))
    elif isinstance(obj, list):
        for value in obj:
            yield from secret_leaves(value, secret)
    elif secret and isinstance(obj, str) and obj:
        yield obj
    elif isinstance(obj, str):
        yield from url_passwords(obj)


def mask_url_passwords(text):
    """``text`` (str) with the password of every URL carrying one
    (``scheme://user:pass@host``, also inside a longer string) replaced by ``********``
    (``scheme://user:********@host``); URLs without a password are unchanged. The URL
    syntax is RFC 3986 section 3.2 (authority, userinfo)."""
    return _URL_PASSWORD_RE.sub(lambda m: m.group(1) + MASK + "@", text)


def url_passwords(text):
    """The passwords (list of str) of the URLs in ``text`` (str) that carry one (see
    :func:`mask_url_passwords`)."""
    return [m.group(2) for m in _URL_PASSWORD_RE.finditer(text)]


def is_secret_path(path, secret_paths=()):
    """Whether a values path (sequence of str keys and int list indices) passes through a
    key matching SECRET_KEY_RE, or is at or below one of ``secret_paths`` (tuples: the
    leaves of secret values files)."""
    path = tuple(path)
    return (any(SECRET_KEY_RE.search(p) for p in path if not isinstance(p, int))
            or any(path[:len(s)] == tuple(s) for s in secret_paths))


def mask_secrets(obj, secret=False, secret_paths=(), path=()):
    """A copy of a values tree (dict/list of str, int, float, bool, None, as read from
    JSON) as every module shows it: each string or number under a key matching
    SECRET_KEY_RE (at any depth above it), at or below one of ``secret_paths`` (tuples of
    keys and indices, relative to the tree; ``path`` is where ``obj`` sits), or
    everywhere when ``secret`` is true, becomes ``********``; booleans and None stay (they
    say nothing secret, and Ansible never masks them); every other string has its URL
    passwords masked (:func:`mask_url_passwords`). ``obj`` itself is not changed."""
    secret = secret or tuple(path) in [tuple(s) for s in secret_paths]
    if isinstance(obj, dict):
        return dict((k, mask_secrets(v, secret or bool(SECRET_KEY_RE.search(str(k))), secret_paths, path + (k,)))
                    for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return [mask_secrets(v, secret, secret_paths, path + (n,)) for n, v in enumerate(obj)]
    if isinstance(obj, bool) or obj is None:
        return obj
    if secret:
        return MASK
    if isinstance(obj, str):
        return mask_url_passwords(obj)
    return obj

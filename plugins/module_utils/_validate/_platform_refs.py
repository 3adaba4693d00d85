# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The platform role's credential references (``{from: {...}}`` in ``platform_secrets`` data and
in ``platform_releases[].values``): credential files, database and Redis URLs and passwords, the
site CA, files. Part of the platform validator (``platform.py``); docs/platform.md has the forms.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._value_refs import find_references


DATABASE_URL_KEYS = ("database", "user", "sslmode", "sslrootcert", "scheme", "params")


REDIS_URL_KEYS = ("user", "db", "params")


SSL_MODES = ("require", "verify-ca", "verify-full")


_CREDENTIAL_RE = re.compile(r"^[A-Za-z0-9_@][^/\s]*/[A-Za-z0-9_@][^/\s]*/[A-Za-z0-9_@][^/\s]*$")


_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*$")


SRC_REFS = "this role's Secret references (roles/platform/defaults/main.yml, docs/platform.md)"


def release_value_references(idx, where, release, context):
    """Problems of the credential references ({from: {...}}) in a release's values."""
    values = release.get("values")
    if not c.is_mapping(values):
        return []
    refs, in_lists = find_references(values)
    found = []
    for path in in_lists:
        text = "".join("[%d]" % p if isinstance(p, int) else "." + c.text(p) for p in path)
        found.append(c.Problem("platform_releases[%d].values" % idx, "%s: values%s is a reference inside a list, which "
                               "a values file cannot set without replacing the whole list: reference a Secret instead "
                               "(env[].valueFrom.secretKeyRef, platform_secrets) or move it under a mapping key"
                               % (where, text), SRC_REFS))
    for ref in refs:
        text = ".".join(c.text(p) for p in ref["path"])
        found.extend(_reference("%s values.%s" % (where, text), "platform_releases[%d].values.%s" % (idx, text),
                                ref["from"], context))
    return found


def _reference(where, var, source, context):
    """Problems of one ``from`` reference of a Secret data item (``source``: a mapping)."""
    kinds = list(context.get("reference_kinds") or [])
    named = [k for k in source if k in kinds] if c.is_mapping(source) else []
    if len(named) != 1:
        return [c.Problem(var, "%s: from must name exactly one reference of %s, found %s"
                          % (where, ", ".join(kinds), ", ".join(c.text(k) for k in source) if c.is_mapping(source)
                             else c.type_name(source)), SRC_REFS)]
    kind = named[0]
    ref = source[kind]
    found = []

    def add(message, rule_source=SRC_REFS):
        found.append(c.Problem(var, "%s: %s" % (where, message), rule_source))
    extra = c.unknown_keys(source, [kind] + (["length", "chars"] if kind == "credential" else []))
    if extra:
        add("unknown keys %s beside %s" % (", ".join(extra), kind))
    if kind == "credential":
        if not isinstance(ref, str) or not _CREDENTIAL_RE.match(ref) or ".." in ref:
            add("credential '%s' must be <scope>/<service>/<name> (e.g. site/platform/jwt-secret), the file under "
                "stack_credentials_dir" % c.text(ref), "the credential lookup (plugins/lookup/credential.py)")
        if "length" in source and not 8 <= (c.uint(source["length"]) or 0) <= 1024:
            add("length '%s' must be 8 to 1024" % c.text(source["length"]), "the credential lookup (plugins/lookup/credential.py)")
    elif kind in ("database_url", "database_password"):
        _database_reference(kind, ref, add, context)
    elif kind in ("redis_url", "redis_password"):
        allowed = REDIS_URL_KEYS if kind == "redis_url" else ("user",)
        if not c.is_mapping(ref) or "user" not in ref:
            add("%s must be a mapping with user (keys: %s)" % (kind, ", ".join(allowed)))
        else:
            unknown = c.unknown_keys(ref, allowed)
            if unknown:
                add("%s: unknown keys %s (allowed: %s)" % (kind, ", ".join(unknown), ", ".join(allowed)))
            users = [u.get("name") for u in context.get("redis_users") or [] if c.is_mapping(u)]
            if not context.get("redis_host"):
                add("%s needs a Redis host: group redis is empty (for an external Redis give the URL inline with value)"
                    % kind)
            elif ref["user"] not in users:
                add("%s user '%s' is not in redis_acl_users of %s (%s)"
                    % (kind, c.text(ref["user"]), context.get("redis_host"), ", ".join(c.text(u) for u in users)))
            if kind == "redis_url" and "db" in ref and c.uint(ref["db"]) is None:
                add("redis_url db '%s' must be a database number (0-15)" % c.text(ref["db"]), c.SRC_REDIS_CONF)
            if kind == "redis_url" and "params" in ref and not c.is_mapping(ref["params"]):
                add("redis_url params must be a mapping of query parameters (e.g. ssl_cert_reqs: required), found %s"
                    % c.type_name(ref["params"]))
    elif kind == "site_ca":
        if ref is not True:
            add("site_ca must be true (the site CA certificate), found '%s'" % c.text(ref))
    elif kind == "file":
        path = c.control_path(ref, c.text(context.get("base_dir")))
        if not isinstance(ref, str) or not os.path.isfile(path):
            add("file '%s' does not exist on the control node (looked for %s)" % (c.text(ref), path))
    return found


def _database_reference(kind, ref, add, context):
    allowed = DATABASE_URL_KEYS if kind == "database_url" else ("user",)
    if not c.is_mapping(ref) or "user" not in ref or (kind == "database_url" and "database" not in ref):
        needed = "database and user" if kind == "database_url" else "user"
        add("%s must be a mapping with %s (keys: %s)" % (kind, needed, ", ".join(allowed)))
        return
    unknown = c.unknown_keys(ref, allowed)
    if unknown:
        add("%s: unknown keys %s (allowed: %s)" % (kind, ", ".join(unknown), ", ".join(allowed)))
    pg_host = c.text(context.get("pg_host"))
    if not pg_host:
        add("%s needs a PostgreSQL host: group postgres is empty (for an external database give the URL inline with "
            "value)" % kind)
    else:
        users = [u.get("name") for u in context.get("pg_users") or [] if c.is_mapping(u)]
        databases = [d.get("name") for d in context.get("pg_databases") or [] if c.is_mapping(d)]
        if ref["user"] not in users:
            add("%s user '%s' is not in postgresql_users of %s (%s)"
                % (kind, c.text(ref["user"]), pg_host, ", ".join(c.text(u) for u in users)))
        if kind == "database_url" and ref["database"] not in databases:
            add("database_url database '%s' is not in postgresql_databases of %s (%s)"
                % (c.text(ref["database"]), pg_host, ", ".join(c.text(d) for d in databases)))
    if kind == "database_url":
        if ref.get("sslmode", "require") not in SSL_MODES:
            add("database_url sslmode '%s' must be require, verify-ca or verify-full (PostgreSQL takes remote clients "
                "over hostssl only)" % c.text(ref.get("sslmode")), c.SRC_PG_SSL)
        if "scheme" in ref and not _SCHEME_RE.match(c.text(ref["scheme"])):
            add("database_url scheme '%s' is not a URL scheme (e.g. postgresql)" % c.text(ref["scheme"]),
                "URI scheme syntax (RFC 3986 section 3.1)")
        if "params" in ref and not c.is_mapping(ref["params"]):
            add("database_url params must be a mapping of query parameters", c.SRC_PG_SSL)


def secret_items(idx, secret, context):
    if not c.is_mapping(secret) or not c.is_mapping(secret.get("data")):
        return []
    found = []
    kinds = list(context.get("reference_kinds") or [])
    for key, item in secret["data"].items():
        where = "platform_secrets[%d] ('%s') data '%s'" % (idx, c.text(secret.get("name", "?")), c.text(key))
        var = "platform_secrets[%d].data.%s" % (idx, c.text(key))

        def add(message, source=SRC_REFS, where=where, var=var):
            found.append(c.Problem(var, "%s: %s" % (where, message), source))
        if not c.SECRET_KEY_RE.match(c.text(key)) or c.text(key) in (".", ".."):
            add("the key is not a Secret data key (letters, digits, '-', '_' and '.')", c.SRC_K8S_SECRETS)
        if not c.is_mapping(item):
            add("is a %s, expected {value: ...} (inline, vault it) or {from: ...} (a reference: %s)"
                % (c.type_name(item), ", ".join(kinds)))
        elif "value" in item and "from" in item:
            add("is given both inline (value) and by reference (from %s); give exactly one of them"
                % (", ".join(c.text(k) for k in item["from"]) if c.is_mapping(item["from"]) else c.type_name(item["from"])))
        elif "value" not in item and "from" not in item:
            add("has neither value nor from (found keys %s); give exactly one of them" % ", ".join(c.text(k) for k in item))
        else:
            unknown = c.unknown_keys(item, ("value", "from"))
            if unknown:
                add("unknown keys %s (an item has value or from)" % ", ".join(unknown))
            if "value" in item and (c.is_mapping(item["value"]) or c.is_list(item["value"])):
                add("value is a %s, expected a string" % c.type_name(item["value"]))
            if "from" in item:
                found.extend(_reference(where, var, item["from"], context))
    return found

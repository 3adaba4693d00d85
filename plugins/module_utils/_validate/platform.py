# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.platform role's inventory input (run on the first k3s_server).

Each entry of platform_releases, platform_secrets, platform_tls and the releases' tls is
checked whole: every problem of an entry is reported, each prefixed with the entry
(``platform_releases[0] ('align'): ...``). Values of Secrets and releases are never
printed; only names, keys, references and control-node paths are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _kube as kube
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net
from ansible_collections.onprem.stack.plugins.module_utils._validate import _platform_refs as refs
from ansible_collections.onprem.stack.plugins.module_utils._values import parse_key

RELEASE_KEYS = ("name", "namespace", "chart", "version", "values", "values_files", "set_values", "wait", "timeout",
                "atomic", "recover_pending", "crds", "create_namespace", "databases", "tls", "ca_file", "username",
                "password", "allow_chart_default_secrets")
SECRET_KEYS = ("name", "namespace", "type", "labels", "data")
TLS_KEYS = ("secret", "namespace", "hosts", "cert", "key")
SET_VALUE_TYPES = ("raw", "string", "json", "file")
LIST_VARS = ("platform_releases", "platform_secrets", "platform_tls", "platform_namespaces")
BOOLEANS = ("platform_site_ca_objects", "platform_device_plugin", "platform_backup_before_upgrade",
            "platform_helm_install", "platform_apply")
_HELM_URL_RE = re.compile(r"^https?://.+\.(tar\.gz|tgz)$")


def _named(prefix, entry, key="name"):
    if c.is_mapping(entry) and key in entry:
        return "%s ('%s')" % (prefix, c.text(entry[key]))
    return prefix


def _scalars(p, context):
    found = []
    for var in ("platform_kubeconfig", "platform_helm_binary", "platform_work_dir"):
        value = p.get(var)
        if not c.is_absolute_path(value) or (var == "platform_work_dir" and " " in value):
            found.append(c.Problem(var, "%s must be an absolute path on the first k3s_server host%s (is '%s')."
                                   % (var, ", without spaces" if var == "platform_work_dir" else "", c.text(value)),
                                   c.SRC_ROLE.format(role="platform")))
    for var in ("platform_database_host", "platform_redis_host"):
        value = p.get(var, "")
        problem = net.host_problem(value) if value not in ("", None) else ""
        if problem:
            found.append(c.Problem(var, "%s '%s' %s: expected the host name or address pods reach (an IPv6 address "
                                   "without brackets; the role brackets it in URLs)." % (var, c.text(value), problem),
                                   net.SRC_URL))
    found.extend(c.Problem(var, "%s must be a boolean (true or false), is '%s'." % (var, c.text(p[var])),
                           c.SRC_ANSIBLE_BOOL) for var in c.bool_problems(p, BOOLEANS))
    timeout = p.get("platform_backup_timeout")
    if (c.uint(timeout) or 0) < 1:
        found.append(c.Problem("platform_backup_timeout", "platform_backup_timeout must be seconds > 0 (is '%s')."
                               % c.text(timeout), c.SRC_ROLE.format(role="platform")))
    if (c.as_bool(p.get("platform_helm_install"), True) and not context.get("stack_airgap")
            and not _HELM_URL_RE.match(c.text(p.get("platform_helm_url")))):
        found.append(c.Problem("platform_helm_url", "platform_helm_url must be an http(s) URL of a helm .tar.gz (is "
                               "'%s')." % c.text(p.get("platform_helm_url")), "helm installation (helm.sh/docs/intro/install)"))
    return found


def _chart(where, chart, version, base_dir):
    """Problems of a release's chart reference and version (helm install's CHART argument)."""
    found = []

    def add(message, source=c.SRC_HELM_CHARTS):
        found.append(c.Problem(where + ".chart", "%s: %s" % (where, message), source))
    if chart.startswith("oci://"):
        if not c.OCI_CHART_RE.match(chart):
            add("chart '%s' is not an OCI reference oci://host[:port]/path/name (lower-case path, no tag: the version "
                "goes into version)" % chart)
        elif not version:
            add("chart '%s' is an OCI reference without a version: set version (the chart version, e.g. 1.4.0) so "
                "that every run installs the same chart" % chart)
    elif not chart:
        add("chart is missing: expected a chart directory or .tgz on the control node, or oci://host/path with a "
            "version")
    elif re.match(r"^[a-z]+://", chart):
        add("chart '%s' is a URL; expected a chart directory or .tgz on the control node, or oci://host/path with a "
            "version" % chart)
    else:
        path = c.control_path(chart, base_dir)
        if os.path.isdir(path):
            chart_yaml = path + "/Chart.yaml"
            if not os.path.isfile(chart_yaml):
                add("chart directory %s has no Chart.yaml: expected a chart directory" % path)
            elif version and not HAS_YAML:
                add("cannot read %s: PyYAML (python3-yaml) is missing on the control node" % chart_yaml)
            elif version:
                with open(chart_yaml, encoding="utf-8") as handle:
                    local = c.text((yaml.safe_load(handle) or {}).get("version", ""))
                if local != version:
                    add("version '%s' differs from the version of the chart in %s ('%s')" % (version, path, local))
        elif os.path.isfile(path):
            if not re.match(r".*\.(tgz|tar\.gz)$", path):
                add("chart %s is a file but not a chart archive (.tgz)" % path)
        else:
            add("chart '%s' does not exist on the control node (looked for %s; relative paths are taken from the "
                "inventory directory): expected a chart directory, a .tgz, or oci://host/path with a version"
                % (chart, path))
    return found


def _release(idx, release, p, context):
    where = _named("platform_releases[%d]" % idx, release)
    if not c.is_mapping(release):
        return [c.Problem("platform_releases[%d]" % idx, "%s: is a %s, expected a mapping with name, namespace and "
                          "chart" % (where, c.type_name(release)), c.SRC_ROLE.format(role="platform"))]
    found = []

    def add(var, message, source=c.SRC_ROLE.format(role="platform")):
        found.append(c.Problem("platform_releases[%d]%s" % (idx, var), "%s: %s" % (where, message), source))
    unknown = c.unknown_keys(release, RELEASE_KEYS)
    if unknown:
        add("", "unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(RELEASE_KEYS)))
    name = c.text(release.get("name", ""))
    if not c.is_dns1123_label(name, 53):
        add(".name", "name '%s' is not a release name: helm needs a DNS-1123 label (lower-case letters, digits and "
            "'-', starting and ending with a letter or digit) of at most 53 characters" % name, c.SRC_HELM_NAMES)
    namespace = c.text(release.get("namespace", ""))
    if not c.is_dns1123_label(namespace):
        add(".namespace", "namespace '%s' is not a DNS-1123 label of at most 63 characters" % namespace, c.SRC_K8S_NAMES)
    version = c.text(release.get("version", ""))
    if version and not c.CHART_VERSION_RE.match(version):
        add(".version", "version '%s' is not a chart version (semantic version such as 1.4.0)" % version, c.SRC_SEMVER)
    base_dir = c.text(context.get("base_dir"))
    found.extend(_chart(where, c.text(release.get("chart", "")), version, base_dir))
    if "values" in release and not c.is_mapping(release["values"]):
        add(".values", "values is a %s, expected a mapping (nested keys as in the chart's values.yaml); use "
            "values_files for files and set_values for --set strings" % c.type_name(release["values"]), c.SRC_HELM_CHARTS)
    found.extend(refs.release_value_references(idx, where, release, context))
    waivers = release.get("allow_chart_default_secrets", [])
    for widx, text in enumerate(waivers if c.is_list(waivers) else [waivers]):
        try:
            parse_key(c.text(text))
            ok = isinstance(text, str) and c.is_list(waivers)
        except ValueError:
            ok = False
        if not ok:
            add(".allow_chart_default_secrets", "allow_chart_default_secrets[%d] '%s' must be a list of key paths of the "
                "chart's values, dotted as helm --set writes them (e.g. auth.password)" % (widx, c.text(text)),
                "helm install --set key syntax (helm.sh/docs/intro/using_helm)")
    files = release.get("values_files", [])
    if not c.is_list(files):
        add(".values_files", "values_files is a %s, expected a list of files" % c.type_name(files))
    else:
        for fidx, path in enumerate(files):
            full = c.control_path(path, base_dir)
            if not os.path.isfile(full):
                add(".values_files[%d]" % fidx, "values_files[%d] '%s' does not exist on the control node (looked for "
                    "%s)" % (fidx, c.text(path), full))
    set_values = release.get("set_values", [])
    for sidx, item in enumerate(set_values if c.is_list(set_values) else [set_values]):
        if not c.is_mapping(item) or "value" not in item or item.get("value_type", "raw") not in SET_VALUE_TYPES:
            add(".set_values[%d]" % sidx, "set_values[%d] must be {value: 'path=value', value_type: raw|string|json|file}"
                % sidx, "helm install --set, --set-string, --set-json, --set-file (helm.sh/docs/helm/helm_install)")
    if "timeout" in release and (c.uint(release["timeout"]) or 0) < 1:
        add(".timeout", "timeout '%s' must be seconds > 0" % c.text(release["timeout"]))
    found.extend(_release_databases(idx, where, release, p, context))
    return found


def _release_databases(idx, where, release, p, context):
    databases = release.get("databases") or []
    if not databases:
        return []
    var, found = "platform_releases[%d].databases" % idx, []
    pg_host = c.text(context.get("pg_host"))
    managed = [d.get("name") for d in context.get("pg_databases") or [] if c.is_mapping(d)]
    if not pg_host:
        return [c.Problem(var, "%s: databases %s are named but group postgres is empty (nothing to back up)"
                          % (where, ", ".join(c.text(d) for d in databases)), c.SRC_ROLE.format(role="platform"))]
    missing = [c.text(d) for d in databases if d not in managed]
    if missing:
        found.append(c.Problem(var, "%s: databases %s are not in postgresql_databases of %s (%s)"
                               % (where, ", ".join(missing), pg_host, ", ".join(c.text(m) for m in managed)),
                               c.SRC_ROLE.format(role="postgresql")))
    if c.as_bool(p.get("platform_backup_before_upgrade"), True) and not c.as_bool(context.get("pg_backup_enabled"), True):
        found.append(c.Problem(var, "%s: databases are to be dumped before upgrades but postgresql_backup_enabled is "
                               "false on %s (no backup unit); enable it or set platform_backup_before_upgrade: false"
                               % (where, pg_host), c.SRC_ROLE.format(role="postgresql")))
    return found


def _secret(idx, secret):
    where = _named("platform_secrets[%d]" % idx, secret)
    var = "platform_secrets[%d]" % idx
    if not c.is_mapping(secret):
        return [c.Problem(var, "%s: is a %s, expected a mapping with name, namespace and data"
                          % (where, c.type_name(secret)), c.SRC_K8S_SECRETS)]
    found = []
    unknown = c.unknown_keys(secret, SECRET_KEYS)
    if unknown:
        found.append(c.Problem(var, "%s: unknown keys %s (allowed: %s)" % (where, ", ".join(unknown),
                                                                           ", ".join(SECRET_KEYS)), c.SRC_K8S_SECRETS))
    name = c.text(secret.get("name", ""))
    if not c.is_dns1123_subdomain(name):
        found.append(c.Problem(var + ".name", "%s: name '%s' is not a Secret name (DNS-1123 subdomain: lower-case "
                               "letters, digits, '-' and '.')" % (where, name), c.SRC_K8S_NAMES))
    namespace = c.text(secret.get("namespace", ""))
    if not c.is_dns1123_label(namespace):
        found.append(c.Problem(var + ".namespace", "%s: namespace '%s' is not a DNS-1123 label of at most 63 characters"
                               % (where, namespace), c.SRC_K8S_NAMES))
    if "type" in secret and (not isinstance(secret["type"], str) or secret["type"] == "kubernetes.io/tls"):
        found.append(c.Problem(var + ".type", "%s: type '%s': expected a Secret type such as Opaque (TLS Secrets go "
                               "into platform_tls)" % (where, c.text(secret["type"])), c.SRC_K8S_SECRETS))
    labels = secret.get("labels", {})
    if not c.is_mapping(labels):
        found.append(c.Problem(var + ".labels", "%s: labels is a %s, expected a mapping" % (where, c.type_name(labels)),
                               c.SRC_K8S_LABELS))
    elif kube.metadata_problems(labels):
        found.append(c.Problem(var + ".labels", "%s: labels: %s" % (where, "; ".join(kube.metadata_problems(labels))),
                               c.SRC_K8S_LABELS))
    data = secret.get("data")
    if not c.is_mapping(data) or not data:
        found.append(c.Problem(var + ".data", "%s: data must be a non-empty mapping of key to item ({value} or {from}), "
                               "found %s" % (where, c.type_name(data) if "data" in secret else "nothing"),
                               c.SRC_K8S_SECRETS))
    return found


def tls_entries(params):
    """Every ingress TLS Secret: platform_tls and each release's ``tls``.

    :param params: the role's variables (dict).
    :returns: list of (origin, entry) tuples: ``origin`` the variable path (str, e.g.
        ``platform_releases[0].tls[1]``), ``entry`` the mapping (dict, with the release's
        namespace for release entries) or the bad non-mapping value as given.
    """
    entries = []
    tls = params.get("platform_tls") or []
    for idx, entry in enumerate(tls if c.is_list(tls) else []):
        entries.append(("platform_tls[%d]" % idx, entry))
    releases = params.get("platform_releases") or []
    for ridx, release in enumerate(releases if c.is_list(releases) else []):
        if c.is_mapping(release) and c.is_list(release.get("tls")):
            for tidx, entry in enumerate(release["tls"]):
                if c.is_mapping(entry):
                    entry = dict(entry, namespace=release.get("namespace", ""))
                entries.append(("platform_releases[%d].tls[%d]" % (ridx, tidx), entry))
    return entries


def _tls(origin, entry, base_dir):
    where = _named(origin, entry, "secret")
    if not c.is_mapping(entry):
        return [c.Problem(origin, "%s: is a %s, expected a mapping with secret and hosts" % (where, c.type_name(entry)),
                          c.SRC_ROLE.format(role="platform"))]
    found = []

    def add(message, source="Kubernetes Ingress TLS (kubernetes.io/docs/concepts/services-networking/ingress/#tls)"):
        found.append(c.Problem(origin, "%s: %s" % (where, message), source))
    unknown = c.unknown_keys(entry, TLS_KEYS)
    if unknown:
        add("unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(TLS_KEYS)))
    name = c.text(entry.get("secret", ""))
    if not c.is_dns1123_subdomain(name):
        add("secret '%s' is not a Secret name (DNS-1123 subdomain)" % name, c.SRC_K8S_NAMES)
    namespace = c.text(entry.get("namespace", ""))
    if not c.is_dns1123_label(namespace):
        add("namespace '%s' is not a DNS-1123 label of at most 63 characters" % namespace, c.SRC_K8S_NAMES)
    hosts = entry.get("hosts", [])
    if not c.is_list(hosts) or not hosts:
        add("hosts must be a non-empty list of DNS names, found %s" % c.type_name(hosts))
    else:
        bad = [c.text(h) for h in hosts if not c.is_dns_name(c.text(h))]
        if bad:
            add("hosts %s are not DNS names (a leading *. is allowed)" % ", ".join(bad))
    cert, key = c.text(entry.get("cert") or ""), c.text(entry.get("key") or "")
    cert_path, key_path = c.control_path(cert, base_dir), c.control_path(key, base_dir)
    if bool(cert) != bool(key):
        add("cert ('%s') and key ('%s') must be given together (or both left out: the site CA issues the certificate)"
            % (cert, key))
    elif cert and (not os.path.isfile(cert_path) or not os.path.isfile(key_path)):
        add("cert %s and key %s must be existing PEM files on the control node" % (cert_path, key_path))
    return found


def _namespaces(namespaces):
    found = []
    for idx, item in enumerate(namespaces):
        name = c.text(item.get("name", "")) if c.is_mapping(item) else c.text(item)
        if (not c.is_mapping(item) or not c.is_dns1123_label(name) or not c.is_mapping(item.get("labels", {}))
                or not c.is_mapping(item.get("annotations", {}))):
            found.append(c.Problem("platform_namespaces[%d]" % idx, "platform_namespaces[%d]: expected {name: <DNS-1123 "
                                   "label>, labels: {...}, annotations: {...}}, found name '%s'." % (idx, name),
                                   c.SRC_K8S_NAMES))
            continue
        for field in ("labels", "annotations"):
            bad = kube.metadata_problems(item.get(field) or {}, values=field == "labels")
            if bad:
                found.append(c.Problem("platform_namespaces[%d].%s" % (idx, field), "platform_namespaces[%d] ('%s') %s: "
                                       "%s." % (idx, name, field, "; ".join(bad)), c.SRC_K8S_LABELS))
    return found


def _site_ca(p, secrets, tls):
    """Problems of platform_site_ca_name: a ConfigMap and Secret name that no other Secret of the role takes."""
    name = p.get("platform_site_ca_name", "site-ca")
    if not c.is_dns1123_subdomain(name):
        return [c.Problem("platform_site_ca_name", "platform_site_ca_name '%s' is not a ConfigMap and Secret name "
                          "(DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters)."
                          % c.text(name), c.SRC_K8S_NAMES)]
    if not c.as_bool(p.get("platform_site_ca_objects"), True):
        return []
    taken = ["%s (%s/%s)" % (origin, c.text(entry.get("namespace", "")), name)
             for origin, entry, key in ([("platform_secrets[%d]" % i, s, "name") for i, s in enumerate(secrets)]
                                        + [(o, e, "secret") for o, e in tls])
             if c.is_mapping(entry) and entry.get(key) == name]
    if taken:
        return [c.Problem("platform_site_ca_name", "platform_site_ca_name '%s' is also the name of %s: the role writes "
                          "the site CA Secret of that name in every namespace it manages; rename one of them or set "
                          "platform_site_ca_objects: false." % (name, ", ".join(taken)), c.SRC_K8S_NAMES)]
    return []


def validate(params, context):
    """Return the problems (list of Problem) of the platform role's input.

    :param params: dict of the role's variables (``platform_*``) as Ansible rendered them.
    :param context: dict with ``base_dir`` (str: the inventory directory, for relative
        control-node paths), ``stack_airgap`` (bool), ``reference_kinds`` (list of str:
        ``_platform_reference_kinds``), ``pg_host``/``redis_host`` (str: the first host of
        group postgres/redis, '' when none), ``pg_users``, ``pg_databases`` (lists of dict:
        postgresql_users/postgresql_databases of pg_host), ``pg_backup_enabled`` (bool) and
        ``redis_users`` (list of dict: redis_acl_users of redis_host).
    :returns: list of Problem, empty when the input is acceptable. Reads the control node's
        file system (charts, values files, certificates); never raises on bad values.
    """
    p = params
    problems = _scalars(p, context)
    not_lists = [v for v in LIST_VARS if not c.is_list(p.get(v, []))]
    if not_lists:
        problems.append(c.Problem(not_lists[0], "%s must be a list (of mappings; see roles/platform/defaults/main.yml), "
                                  "found %s." % (", ".join(not_lists), ", ".join(c.type_name(p.get(v)) for v in not_lists)),
                                  c.SRC_ROLE.format(role="platform")))
    releases = p.get("platform_releases") if c.is_list(p.get("platform_releases")) else []
    secrets = p.get("platform_secrets") if c.is_list(p.get("platform_secrets")) else []
    for idx, release in enumerate(releases):
        problems.extend(_release(idx, release, p, context))
    twice = c.duplicates(["%s/%s" % (c.text(r.get("namespace", "")), c.text(r.get("name", "")))
                          for r in releases if c.is_mapping(r)])
    if twice:
        problems.append(c.Problem("platform_releases", "platform_releases: release %s appears more than once "
                                  "(namespace/name); a release name must be unique within its namespace."
                                  % ", ".join(twice), c.SRC_HELM_NAMES))
    for idx, secret in enumerate(secrets):
        problems.extend(_secret(idx, secret))
        problems.extend(refs.secret_items(idx, secret, context))
    tls = tls_entries(p)
    for origin, entry in tls:
        problems.extend(_tls(origin, entry, c.text(context.get("base_dir"))))
    namespaces = p.get("platform_namespaces") if c.is_list(p.get("platform_namespaces")) else []
    problems.extend(_namespaces(namespaces))
    twice = c.duplicates(["%s/%s" % (c.text(s.get("namespace", "")), c.text(s.get("name", "")))
                          for s in secrets if c.is_mapping(s)]
                         + ["%s/%s" % (c.text(e.get("namespace", "")), c.text(e.get("secret", "")))
                            for _origin, e in tls if c.is_mapping(e)])
    problems.extend(_site_ca(p, secrets, tls))
    if twice:
        problems.append(c.Problem("platform_secrets", "Secret %s (namespace/name) is defined more than once in "
                                  "platform_secrets, platform_tls and the releases' tls; each Secret must be defined "
                                  "once." % ", ".join(twice), c.SRC_K8S_NAMES))
    return problems


_BOOL = ("a boolean (argument spec, type bool)", c.SRC_ANSIBLE_BOOL)
_PATH = ("an absolute path on the first k3s_server host", c.SRC_ROLE.format(role="platform"))
_HOST = ("a DNS name or IP address written bare (the role brackets IPv6 in URLs)", net.SRC_URL)
# Per public variable: the rule its check mirrors and the rule's source (docs/inventory.md,
# "Input checks", is generated from this; tests/unit/test_validate_rules.py checks that every
# variable of roles/platform/defaults/main.yml has an entry).
VARIABLE_RULES = {
    "platform_releases": ("mappings: name a DNS-1123 label of at most 53 characters, unique per namespace; "
                          "namespace a DNS-1123 label; chart a local directory/.tgz or oci://host/path with a semantic "
                          "version; values a mapping; values_files existing files; set_values value_type "
                          "raw|string|json|file; databases in postgresql_databases of the postgres host",
                          c.SRC_HELM_NAMES + "; " + c.SRC_HELM_CHARTS + "; " + c.SRC_SEMVER),
    "platform_namespaces": ("mappings {name: DNS-1123 label, labels: qualified-name keys and label values, "
                            "annotations: qualified-name keys}", c.SRC_K8S_NAMES + "; " + c.SRC_K8S_LABELS),
    "platform_secrets": ("mappings: name a DNS-1123 subdomain, namespace a DNS-1123 label, labels as "
                         "platform_namespaces, data keys Secret keys, each item value or from: a reference to a user, "
                         "database or ACL user defined on the postgres/redis host, a credential, the site CA or a file",
                         c.SRC_K8S_SECRETS + "; " + refs.SRC_REFS),
    "platform_tls": ("mappings {secret: DNS-1123 subdomain, namespace, hosts: DNS names, cert and key together, "
                     "existing files}; each Secret defined once",
                     "Kubernetes Ingress TLS (kubernetes.io/docs/concepts/services-networking/ingress/#tls)"),
    "platform_site_ca_objects": _BOOL,
    "platform_site_ca_name": ("a DNS-1123 subdomain (the name of a ConfigMap and a Secret), not the name of a Secret of "
                              "platform_secrets or platform_tls while platform_site_ca_objects is true",
                              c.SRC_K8S_NAMES),
    "platform_device_plugin": _BOOL,
    "platform_backup_before_upgrade": _BOOL,
    "platform_backup_timeout": ("seconds > 0", c.SRC_ROLE.format(role="platform")),
    "platform_database_host": _HOST,
    "platform_redis_host": _HOST,
    "platform_kubeconfig": _PATH,
    "platform_helm_binary": _PATH,
    "platform_helm_install": _BOOL,
    "platform_helm_url": ("an http(s) URL of a helm .tar.gz (connected installs)",
                          "helm installation (helm.sh/docs/intro/install)"),
    "platform_work_dir": ("an absolute path without spaces on the first k3s_server host",
                          c.SRC_ROLE.format(role="platform")),
    "platform_apply": _BOOL,
}

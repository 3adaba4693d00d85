# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Parsers and the problem type shared by the role validators (``_validate/<role>.py``).

Every predicate here is pure, never raises, and returns False for a value of the wrong
type, so that a validator can report a bad value instead of failing on it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from collections.abc import Mapping
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    Mapping = dict  # pylint: disable=invalid-name

from ansible.module_utils.parsing.convert_bool import boolean

# Upstream sources cited by the rules (the documentation or code of the consuming program).
SRC_K8S_NAMES = "Kubernetes object names (kubernetes.io/docs/concepts/overview/working-with-objects/names)"
SRC_K8S_LABELS = "Kubernetes labels (kubernetes.io/docs/concepts/overview/working-with-objects/labels)"
SRC_K8S_TAINTS = "Kubernetes taints (k8s.io/kubernetes pkg/util/taints ParseTaint)"
SRC_K8S_SECRETS = "Kubernetes Secrets (kubernetes.io/docs/concepts/configuration/secret)"
SRC_HELM_NAMES = "helm release names (helm.sh/docs/chart_best_practices/conventions; helm pkg/chartutil ValidateReleaseName)"
SRC_HELM_CHARTS = "helm charts (helm.sh/docs/topics/charts, helm.sh/docs/topics/registries)"
SRC_SEMVER = "Semantic Versioning 2.0.0 (semver.org), as helm's Chart.yaml version"
SRC_K3S_SERVER = "k3s server CLI (docs.k3s.io/cli/server)"
SRC_K3S_AGENT = "k3s agent CLI (docs.k3s.io/cli/agent)"
SRC_K3S_HA = "k3s high availability with embedded etcd (docs.k3s.io/datastore/ha-embedded)"
SRC_K3S_RELEASES = "k3s releases (github.com/k3s-io/k3s/releases)"
SRC_K3S_REGISTRIES = "k3s private registry configuration (docs.k3s.io/installation/private-registry)"
SRC_PG_CONFIG = "PostgreSQL server configuration, units (postgresql.org/docs/current/config-setting.html)"
SRC_PG_HBA = "PostgreSQL pg_hba.conf (postgresql.org/docs/current/auth-pg-hba-conf.html)"
SRC_PG_IDENT = "PostgreSQL identifiers (postgresql.org/docs/current/sql-syntax-lexical.html)"
SRC_PG_CONNECT = "PostgreSQL connection settings (postgresql.org/docs/current/runtime-config-connection.html)"
SRC_PG_SSL = "PostgreSQL libpq sslmode (postgresql.org/docs/current/libpq-ssl.html)"
SRC_REDIS_CONF = "Redis configuration, redis.conf (redis.io/docs/latest/operate/oss_and_stack/management/config-file)"
SRC_REDIS_ACL = "Redis ACL rules (redis.io/docs/latest/operate/oss_and_stack/management/security/acl)"
SRC_REDIS_SECURITY = "Redis security, TLS (redis.io/docs/latest/operate/oss_and_stack/management/security)"
SRC_REGISTRY = "Distribution registry configuration (distribution.github.io/distribution/about/configuration)"
SRC_HTPASSWD = "Apache htpasswd user names (httpd.apache.org/docs/current/programs/htpasswd.html)"
SRC_TCP = "TCP port numbers 1-65535 (RFC 793)"
SRC_CIDR = "CIDR notation (RFC 4632, RFC 4291), parsed by Python's ipaddress"
SRC_DEBIAN_NAMES = "Debian package names (Debian Policy 5.6.1)"
SRC_DEBIAN_KERNEL = "Debian kernel release and headers packages (linux-headers-<release>)"
SRC_NVIDIA_DRIVER = "NVIDIA driver branches on Debian/Ubuntu (docs.nvidia.com/datacenter/tesla/driver-installation-guide)"
SRC_NVIDIA_TOOLKIT = "NVIDIA Container Toolkit packages (docs.nvidia.com/datacenter/cloud-native/container-toolkit)"
SRC_NVIDIA_PLUGIN = "NVIDIA k8s-device-plugin chart (github.com/NVIDIA/k8s-device-plugin)"
SRC_MOK = "Secure Boot Machine Owner Key for DKMS modules (wiki.debian.org/SecureBoot)"
SRC_SHA256 = "SHA-256 hex digest, as sha256sum prints it (FIPS 180-4)"
SRC_SPLIT = "GNU coreutils split -b SIZE (gnu.org/software/coreutils/manual/html_node/split-invocation.html)"
SRC_HELM_RELEASES = "helm releases (github.com/helm/helm/releases)"
SRC_ROLE = "this role's own contract (roles/{role}/defaults/main.yml)"

# DNS-1123 label and subdomain (k8s.io/apimachinery pkg/util/validation IsDNS1123Label/Subdomain).
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_RE = re.compile(r"^%s$" % _DNS1123_LABEL)
DNS1123_SUBDOMAIN_RE = re.compile(r"^%s(\.%s)*$" % (_DNS1123_LABEL, _DNS1123_LABEL))
# A host name as Ingress TLS hosts take it (letters of either case, a leading "*." allowed).
_DNS_LABEL_ANY_CASE = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?"
DNS_NAME_RE = re.compile(r"^(\*\.)?%s(\.%s)*$" % (_DNS_LABEL_ANY_CASE, _DNS_LABEL_ANY_CASE))
# Secret data keys (k8s.io/apimachinery IsConfigMapKey).
SECRET_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
# A chart version: helm accepts semantic versions, also with a leading v or fewer parts.
CHART_VERSION_RE = re.compile(r"^v?[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]+)?$")
# helm's OCI chart reference without a tag (the version is given apart).
OCI_CHART_RE = re.compile(r"^oci://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)+$")
K3S_VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?\+k3s[0-9]+$")
HELM_VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DEBIAN_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_UINT_RE = re.compile(r"^[0-9]+$")


class Problem:
    """One refused input value.

    :ivar var: the variable (str), with the path into it when the value is nested
        (``platform_releases[0].name``).
    :ivar message: the sentence shown to the user (str): names the variable, the value
        found (never a secret's value) and what was expected.
    :ivar source: the rule's origin (str): the documentation or code of the program that
        consumes the value.
    """

    __slots__ = ("var", "message", "source")

    def __init__(self, var, message, source):
        self.var = var
        self.message = message
        self.source = source

    def __str__(self):
        return "%s [rule: %s]" % (self.message, self.source)

    def __repr__(self):
        return "Problem(%r, %r)" % (self.var, self.message)


def type_name(value):
    """The type of ``value`` as a YAML user reads it (str): str, int, float, bool, dict, list or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def text(value):
    """``value`` as text (str) the way Jinja's ``string`` filter writes it; None gives ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def is_mapping(value):
    """True when ``value`` is a mapping (dict)."""
    return isinstance(value, Mapping)


def is_list(value):
    """True when ``value`` is a list (or tuple), not a string or mapping."""
    return isinstance(value, (list, tuple))


def as_bool(value, default=False):
    """``value`` read as Ansible's ``bool`` filter reads it (bool); ``default`` when it is not a boolean."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        return default


def uint(value):
    """The non-negative integer written as ``value`` (int, or str of digits); None otherwise.

    Booleans are not integers here (YAML ``yes`` is not a port).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and _UINT_RE.match(value):
        return int(value)
    return None


def to_int(value, default=0):
    """``value`` as Jinja's ``int`` filter reads it (int); ``default`` when it is not a number."""
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return default


def is_port(value):
    """True when ``value`` (int or str of digits) is a TCP port 1-65535 (RFC 793)."""
    number = uint(value)
    return number is not None and 1 <= number <= 65535


def is_dns1123_label(value, max_len=63):
    """True when ``value`` (str) is a DNS-1123 label of at most ``max_len`` characters.

    Rule: k8s.io/apimachinery pkg/util/validation IsDNS1123Label (lower-case letters,
    digits and '-', starting and ending with a letter or digit, at most 63 characters).
    """
    return isinstance(value, str) and len(value) <= max_len and bool(DNS1123_LABEL_RE.match(value))


def is_dns1123_subdomain(value):
    """True when ``value`` (str) is a DNS-1123 subdomain of at most 253 characters (IsDNS1123Subdomain)."""
    return isinstance(value, str) and len(value) <= 253 and bool(DNS1123_SUBDOMAIN_RE.match(value))


def is_dns_name(value):
    """True when ``value`` (str) is a DNS host name (RFC 1123), optionally with a leading ``*.``."""
    return isinstance(value, str) and bool(DNS_NAME_RE.match(value))


def is_absolute_path(value):
    """True when ``value`` is a str starting with '/' (a POSIX absolute path)."""
    return isinstance(value, str) and value.startswith("/")


def escapes(path):
    """True when the relative ``path`` (str) has a '..' component (it would leave its directory)."""
    return ".." in path.split("/")


def control_path(path, base_dir):
    """The control-node path (str) of ``path``: ``~`` expanded, relative paths under ``base_dir``."""
    expanded = os.path.expanduser(text(path))
    return expanded if os.path.isabs(expanded) else "%s/%s" % (base_dir, text(path))


def duplicates(items):
    """The items (list) that occur more than once in ``items``, each once, in first-repeat order."""
    seen, twice = [], []
    for item in items:
        if item in seen and item not in twice:
            twice.append(item)
        seen.append(item)
    return twice


def unknown_keys(mapping, allowed):
    """The keys (list of str) of ``mapping`` that are not in ``allowed``, in the mapping's order."""
    return [text(k) for k in mapping if k not in allowed]


SRC_ANSIBLE_BOOL = ("Ansible booleans (ansible.module_utils.parsing.convert_bool: true/false, yes/no, on/off, 1/0); "
                    "the bool filter reads any other value as false")


def bool_problems(params, names):
    """The variables (list of str) of ``names`` whose value in ``params`` (dict) is not a
    boolean as Ansible reads it strictly (true/false, yes/no, on/off, 1/0; convert_bool
    with strict=True); a missing variable is not named."""
    bad = []
    for name in names:
        if name in params:
            try:
                boolean(params[name], strict=True)
            except TypeError:
                bad.append(name)
    return bad


def is_size(value, units):
    """True when ``value`` (str or int) is digits followed by one of ``units`` (tuple of str; '' allows none)."""
    if isinstance(value, bool):
        return False
    raw = text(value)
    match = re.match(r"^[0-9]+(.*)$", raw)
    return bool(match) and match.group(1) in units

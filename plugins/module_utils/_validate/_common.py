# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Parsers and the problem type shared by the role validators (``_validate/<role>.py``).

Every predicate here is pure, never raises, and returns False for a value of the wrong
type, so that a validator can report a bad value instead of failing on it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
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


def is_cidr(value):
    """True when ``value`` (str) is ``address/prefix`` with a valid IPv4/IPv6 address and prefix (RFC 4632)."""
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def is_ip_address(value):
    """True when ``value`` (str) is one IPv4 or IPv6 address, without a prefix."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


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


def cidr_overlaps(networks):
    """Name the pairs of networks that overlap, as the k3s server needs its networks apart.

    :param networks: dict of name (str) to a network, an address (a /32 or /128) or a
        comma-separated list of them (str, k3s' dual-stack notation), host bits allowed.
    :returns: list of str, one per overlapping pair (``cluster-cidr 10.42.0.0/16 overlaps
        service-cidr 10.42.128.0/17``) and one per value that is not a network
        (``cluster-cidr is '10.42.0.0/33', which is not a CIDR network or IP address``).
        Same rule as the filter onprem.stack.cidr_overlaps (Python's ipaddress, RFC 4632).
    """
    parsed, found = [], []
    for name, value in networks.items():
        for part in text(value).split(","):
            part = part.strip()
            try:
                parsed.append((text(name), part, ipaddress.ip_network(part, strict=False)))
            except ValueError:
                found.append("%s is %r, which is not a CIDR network or IP address" % (name, part))
    for i, (name_a, text_a, net_a) in enumerate(parsed):
        for name_b, text_b, net_b in parsed[i + 1:]:
            if name_a != name_b and net_a.version == net_b.version and net_a.overlaps(net_b):
                found.append("%s %s overlaps %s %s" % (name_a, text_a, name_b, text_b))
    return found


# Qualified names and label values (k8s.io/apimachinery pkg/util/validation IsQualifiedName,
# IsValidLabelValue): a name part of at most 63 letters, digits, '-', '_', '.', starting and
# ending with a letter or digit, after an optional DNS-1123 subdomain prefix and '/'.
_QUALIFIED_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
QUALIFIED_NAME_RE = re.compile(r"^(%s/)?%s$" % (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                                                _QUALIFIED_PART))
LABEL_VALUE_RE = re.compile(r"^(%s)?$" % _QUALIFIED_PART)
# Labels the kubelet sets on itself in the kubernetes.io and k8s.io namespaces
# (k8s.io/kubelet pkg/apis well_known_labels.go: KubeletLabelNamespaces, KubeletLabels).
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
KUBELET_LABELS = ("beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os",
                  "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
                  "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os", "node.kubernetes.io/instance-type",
                  "topology.kubernetes.io/region", "topology.kubernetes.io/zone")
SRC_KUBELET_LABELS = ("kubelet --node-labels (k8s.io/kubernetes cmd/kubelet/app/options ValidateKubeletFlags, "
                      "k8s.io/kubelet pkg/apis IsKubeletLabel; k8s.io/apimachinery IsQualifiedName, IsValidLabelValue)")
SRC_K3S_ARGS = ("k3s component arguments: kubelet-arg, kube-apiserver-arg, ... (docs.k3s.io/cli/agent, "
                "docs.k3s.io/cli/server; k3s-io/k3s pkg/util/args.go GetArgs)")
SRC_URL = "URLs, IPv6 literals in brackets (RFC 3986 section 3.2.2), parsed as Go's net/url does"
SRC_ANSIBLE_BOOL = ("Ansible booleans (ansible.module_utils.parsing.convert_bool: true/false, yes/no, on/off, 1/0); "
                    "the bool filter reads any other value as false")


def is_qualified_name(value):
    """True when ``value`` (str) is a qualified name: ``[prefix/]name``, prefix a DNS-1123
    subdomain of at most 253 characters, name at most 63 characters of letters, digits, '-',
    '_', '.', starting and ending with a letter or digit (k8s.io/apimachinery IsQualifiedName)."""
    if not isinstance(value, str) or not QUALIFIED_NAME_RE.match(value):
        return False
    return "/" not in value or len(value.split("/", 1)[0]) <= 253


def is_label_value(value):
    """True when ``value`` (str) is a label value: empty, or at most 63 letters, digits, '-', '_',
    '.', starting and ending with a letter or digit (k8s.io/apimachinery IsValidLabelValue)."""
    return isinstance(value, str) and bool(LABEL_VALUE_RE.match(value))


def is_kubelet_label(key):
    """True when the kubelet may set label ``key`` (str) on its own node: a key outside the
    kubernetes.io and k8s.io namespaces, one under kubelet.kubernetes.io or node.kubernetes.io,
    or one of KUBELET_LABELS (k8s.io/kubelet pkg/apis IsKubeletLabel, the rule behind
    ValidateKubeletFlags; the kubelet refuses to start otherwise)."""
    namespace = key.split("/", 1)[0] if isinstance(key, str) and "/" in key else ""
    if not any(namespace == d or namespace.endswith("." + d) for d in ("kubernetes.io", "k8s.io")):
        return True
    return key in KUBELET_LABELS or any(namespace == d or namespace.endswith("." + d) for d in KUBELET_LABEL_NAMESPACES)


def label_problem(value):
    """What is wrong (str) with a ``key=value`` node label as the kubelet's ``--node-labels``
    takes it, or '' when the kubelet accepts it (ValidateKubeletFlags: qualified-name key,
    label value, and no kubernetes.io/k8s.io key but the kubelet's own)."""
    if not isinstance(value, str):
        return "is a %s, expected a str key=value" % type_name(value)
    key, sep, label = value.partition("=")
    if not sep:
        return "has no '=' (expected key=value)"
    if not is_qualified_name(key):
        return ("has key '%s', which is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, "
                "digits, '-', '_', '.', starting and ending with a letter or digit)" % key)
    if not is_label_value(label):
        return ("has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.', starting and "
                "ending with a letter or digit, or empty)" % label)
    if not is_kubelet_label(key):
        return ("has key '%s' in the kubernetes.io/k8s.io namespace, which the kubelet refuses in --node-labels "
                "(allowed there: %s/..., %s/..., %s)"
                % (key, KUBELET_LABEL_NAMESPACES[0], KUBELET_LABEL_NAMESPACES[1], ", ".join(KUBELET_LABELS)))
    return ""


def metadata_problems(mapping, values=True):
    """The faults (list of str, one per bad entry) of an object's ``metadata.labels``
    (``values`` True: qualified-name keys, label values) or ``metadata.annotations``
    (``values`` False: qualified-name keys, string values of any form), as the API server's
    ValidateLabels / ValidateAnnotations (k8s.io/apimachinery) check them."""
    found = []
    for key, value in mapping.items():
        if not is_qualified_name(key):
            found.append("key '%s' is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, digits, "
                         "'-', '_', '.', starting and ending with a letter or digit)" % text(key))
        elif values and not is_label_value(text(value) if isinstance(value, (str, int)) and not isinstance(value, bool)
                                           else None):
            found.append("'%s' has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.', "
                         "starting and ending with a letter or digit)" % (text(key), text(value)))
        elif not values and not isinstance(value, str):
            found.append("'%s' has a %s value; annotation values are strings" % (text(key), type_name(value)))
    return found


def parse_k8s_label(value):
    """Split a ``key=value`` node label as the kubelet's ``--node-labels`` takes it.

    :param value: str.
    :returns: (key, value) tuple of str, or None when label_problem finds a fault
        (kubernetes.io/docs/concepts/overview/working-with-objects/labels, ValidateKubeletFlags).
    """
    if label_problem(value):
        return None
    key, _sep, label = value.partition("=")
    return (key, label)


TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def taint_problem(value):
    """What is wrong (str) with a ``key[=value]:Effect`` taint as k3s' ``node-taint`` (the kubelet's
    ``--register-with-taints``) takes it, or '' when it is accepted (k8s.io/kubernetes
    pkg/util/taints ParseTaint: qualified-name key, label value, effect NoSchedule,
    PreferNoSchedule or NoExecute)."""
    if not isinstance(value, str):
        return "is a %s, expected a str key[=value]:Effect" % type_name(value)
    spec, sep, effect = value.rpartition(":")
    if not sep or not spec:
        return "has no effect (expected key[=value]:Effect, e.g. nvidia.com/gpu=true:NoSchedule)"
    key, _sep, taint = spec.partition("=")
    if not is_qualified_name(key):
        return ("has key '%s', which is not a qualified name ([DNS-subdomain/]name, the name at most 63 letters, "
                "digits, '-', '_', '.', starting and ending with a letter or digit)" % key)
    if not is_label_value(taint):
        return "has value '%s', which is not a label value (at most 63 letters, digits, '-', '_', '.')" % taint
    if effect not in TAINT_EFFECTS:
        return "has effect '%s', expected one of %s" % (effect, ", ".join(TAINT_EFFECTS))
    return ""


def parse_k8s_taint(value):
    """Split a ``key[=value]:Effect`` taint as k3s' ``node-taint`` and the kubelet take it.

    :param value: str.
    :returns: (key, value, effect) tuple of str, or None when taint_problem finds a fault
        (k8s.io/kubernetes pkg/util/taints ParseTaint).
    """
    if taint_problem(value):
        return None
    spec, _sep, effect = value.rpartition(":")
    key, _sep, taint = spec.partition("=")
    return (key, taint, effect)


# One argument of a Kubernetes component as k3s passes it on (pkg/util/args.go GetArgs): an
# optional leading "--", the flag name, an optional "+" (append to k3s' value) or "-" (prepend),
# then "=value" (without it the value is "true").
_COMPONENT_ARG_RE = re.compile(r"^(--)?(?P<name>[a-z0-9]([a-z0-9.-]*[a-z0-9])?)[+-]?(=(?P<value>.*))?$", re.S)


def component_arg_problem(value):
    """What is wrong (str) with one component argument (``kubelet-arg``, ``kube-apiserver-arg``
    ...), or '' when k3s passes it on as ``--name=value``: ``[--]name[+|-][=value]``, the
    name lower-case letters, digits, '-' and '.' (the components' pflag names), no newline
    (k3s-io/k3s pkg/util/args.go GetArgs; docs.k3s.io/cli/agent)."""
    if not isinstance(value, str):
        return "is a %s, expected a str [--]name=value" % type_name(value)
    if "\n" in value:
        return "has a line break"
    match = _COMPONENT_ARG_RE.match(value)
    if not match:
        return ("is not [--]name[=value] (a flag name of lower-case letters, digits and '-', then '=' and the value; "
                "one flag per list item, no spaces before '=')")
    return ""


def host_problem(value, brackets=False):
    """What is wrong (str) with a host as a client dials it, or '' when it is a DNS name
    (RFC 1123) or an IP address.

    :param value: the host (str).
    :param brackets: True where the host sits in a URL or ``host:port`` (an IPv6 literal
        must then be ``[fd00::1]``, RFC 3986 section 3.2.2); False where the host stands
        alone (an IPv6 literal is written bare).
    """
    if not isinstance(value, str) or not value:
        return "is empty" if value in ("", None) else "is a %s, expected a host" % type_name(value)
    if value.startswith("[") and value.endswith("]"):
        if not brackets:
            return "is a bracketed address; write the address without brackets (e.g. fd00::1)"
        return "" if ":" in value[1:-1] and is_ip_address(value[1:-1]) else "is not an IPv6 address in brackets"
    if ":" in value:
        if not is_ip_address(value):
            return "is not a host name or IP address"
        return "is an IPv6 address without brackets; write [%s]" % value if brackets else ""
    if is_ip_address(value) or _HOST_NAME_RE.match(value):
        return ""
    return "is not a host name or IP address"


_HOST_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$")
_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<hostport>[^/?#@\s]*)(?P<path>[^\s]*)$")


def url_problem(value, schemes=("https",), path=True):
    """What is wrong (str) with a URL, or '' when a client (Go's net/url, Python's urllib)
    reaches it: ``scheme://host[:port][/path]``.

    :param value: the URL (str).
    :param schemes: the schemes accepted (tuple of str, lower case).
    :param path: False when only ``/`` (or nothing) may follow the authority (k3s' server URL).
    :returns: '' or a reason: a wrong scheme, a host that is not a DNS name, an IPv4 address
        or an IPv6 address in brackets (a bare ``fd00::1`` is named as such, RFC 3986
        section 3.2.2), a port outside 1-65535, user information, a path where none belongs.
    """
    if not isinstance(value, str):
        return "is a %s, expected a str URL" % type_name(value)
    match = _URL_RE.match(value)
    if not match:
        if "@" in value:
            return "has user information (user@); credentials go into their own variables"
        return "is not scheme://host[:port][/path] (no scheme, or spaces)"
    if match.group("scheme").lower() not in schemes:
        return "has scheme %s, expected %s" % (match.group("scheme"), " or ".join("%s://" % s for s in schemes))
    hostport = match.group("hostport")
    bracket = re.match(r"^(\[[^\]]*\])(:(?P<port>[^:]*))?$", hostport)
    if bracket:
        host, port = bracket.group(1), bracket.group("port")
    elif hostport.count(":") > 1:
        return "has host '%s', an IPv6 address without brackets; write https://[%s]:port" % (hostport, hostport)
    else:
        host, _sep, port = hostport.partition(":")
        port = port if _sep else None
    problem = host_problem(host, brackets=True)
    if problem:
        return "has host '%s', which %s" % (host, problem)
    if port is not None and not is_port(port):
        return "has port '%s', expected 1-65535" % port
    if not path and match.group("path") not in ("", "/"):
        return "has a path ('%s'); expected nothing after host:port" % match.group("path")
    return ""


def is_host_port(value):
    """True when ``value`` (str) is ``host[:port]``: a host name or IPv4 address, or any of those
    (or a bracketed IPv6 address) with a port of 1-5 digits; as k3s' registries.yaml mirrors name
    a registry (docs.k3s.io/installation/private-registry)."""
    return isinstance(value, str) and bool(
        re.match(r"^[A-Za-z0-9.\[\]:-]+:[0-9]{1,5}$|^[A-Za-z0-9.-]+$", value))


def https_server_url_problem(value):
    """What is wrong (str) with a k3s server URL, or '' when k3s' ``--server`` takes it:
    ``https://host[:port][/]``, host a DNS name, an IPv4 address or a bracketed IPv6 address
    (``https://[fd00::1]:6443``), port 1-65535 (docs.k3s.io/cli/agent; RFC 3986 section 3.2.2)."""
    return url_problem(value, schemes=("https",), path=False)


def is_https_server_url(value):
    """True when ``value`` (str) is ``https://host[:port][/]``: the URL k3s' ``--server`` takes
    (https_server_url_problem finds nothing)."""
    return not https_server_url_problem(value)


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

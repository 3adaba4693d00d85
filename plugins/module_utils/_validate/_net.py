# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Network forms shared by the role validators: IP addresses and CIDR networks (Python's
ipaddress), host names, host:port, and URLs with IPv6 literals in brackets, read as Go's
net/url reads them. Pure predicates that never raise (see ``_common``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c


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
        for part in c.text(value).split(","):
            part = part.strip()
            try:
                parsed.append((c.text(name), part, ipaddress.ip_network(part, strict=False)))
            except ValueError:
                found.append("%s is %r, which is not a CIDR network or IP address" % (name, part))
    for i, (name_a, text_a, net_a) in enumerate(parsed):
        for name_b, text_b, net_b in parsed[i + 1:]:
            if name_a != name_b and net_a.version == net_b.version and net_a.overlaps(net_b):
                found.append("%s %s overlaps %s %s" % (name_a, text_a, name_b, text_b))
    return found


SRC_URL = "URLs, IPv6 literals in brackets (RFC 3986 section 3.2.2), parsed as Go's net/url does"


def host_problem(value, brackets=False):
    """What is wrong (str) with a host as a client dials it, or '' when it is a DNS name
    (RFC 1123) or an IP address.

    :param value: the host (str).
    :param brackets: True where the host sits in a URL or ``host:port`` (an IPv6 literal
        must then be ``[fd00::1]``, RFC 3986 section 3.2.2); False where the host stands
        alone (an IPv6 literal is written bare).
    """
    if not isinstance(value, str) or not value:
        return "is empty" if value in ("", None) else "is a %s, expected a host" % c.type_name(value)
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
        return "is a %s, expected a str URL" % c.type_name(value)
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
    if port is not None and not c.is_port(port):
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

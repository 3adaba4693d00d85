# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""The k3s role's HTTP proxy (``k3s_proxy``): the environment file of the k3s units
(docs.k3s.io/advanced, "Configuring an HTTP proxy"), whose URLs and NO_PROXY entries Go's
golang.org/x/net/http/httpproxy reads. Part of the k3s validator (``k3s.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net


# HTTP proxy of the k3s units (the environment file k3s reads: docs.k3s.io/advanced,
# "Configuring an HTTP proxy"). k3s, containerd and the kubelet are Go programs: the URLs
# are read by golang.org/x/net/http/httpproxy (FromEnvironment, parseProxy) and used by
# net/http's Transport, which dials http, https, socks5 and socks5h proxies.
SRC_PROXY = ("k3s HTTP proxy (docs.k3s.io/advanced, Configuring an HTTP proxy); Go's proxy URLs and NO_PROXY "
             "(pkg.go.dev/golang.org/x/net/http/httpproxy)")


PROXY_KEYS = ("http_proxy", "https_proxy", "no_proxy")


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


_PROXY_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:(?P<userinfo>[^@/?#\s]*)@)?"
                           r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*)(?::(?P<port>[0-9]*))?(?P<path>[^\s]*)$")


_NO_PROXY_HOST_RE = re.compile(r"^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def redact_url(value):
    """``value`` (str) with the password of its user information replaced by ``***``
    (``http://bob:***@proxy:3128``), so that a problem never prints a proxy credential."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:@/]*):[^@/]*@", r"\1:***@", c.text(value))


def proxy_url_problem(value):
    """What is wrong (str) with a proxy URL, or '' when Go's HTTP client uses it as given.

    :param value: the URL (str): ``scheme://[user[:password]@]host[:port][/]`` with scheme
        http, https, socks5 or socks5h (golang.org/x/net/http/httpproxy parseProxy; a value
        without a scheme is taken as http:// by Go but refused here so the scheme is explicit).
    """
    if not isinstance(value, str):
        return "is a %s, expected a str URL" % c.type_name(value)
    authority = value.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    if authority.count(":") > 1 and not authority.startswith("["):
        return ("has host '%s', an IPv6 address without brackets; write scheme://[address]:port (RFC 3986 section "
                "3.2.2)" % authority)
    match = _PROXY_URL_RE.match(value)
    if not match:
        return "is not scheme://[user:password@]host[:port] (no scheme, or spaces)"
    if match.group("scheme").lower() not in PROXY_SCHEMES:
        return "has scheme %s; Go's HTTP client takes http, https, socks5 or socks5h" % match.group("scheme")
    host = match.group("host")
    if not host or not (net.is_ip_address(host.strip("[]")) or _NO_PROXY_HOST_RE.match(host)):
        return "has no valid host"
    if match.group("port") is not None and not c.is_port(match.group("port")):
        return "has port '%s', expected 1-65535" % match.group("port")
    if match.group("path") not in ("", "/"):
        return "has a path; a proxy URL has no path"
    return ""


def _is_no_proxy_entry(value):
    """True when ``value`` (str) is a NO_PROXY entry httpproxy matches: ``*``, an IP address, a
    CIDR, a host or ``.domain``, each optionally with ``:port`` (IPv6 with a port bracketed)."""
    if not isinstance(value, str) or not value:
        return False
    if value == "*" or net.is_ip_address(value) or net.is_cidr(value):
        return True
    bracketed = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::([0-9]+))?$", value)
    if bracketed:
        return net.is_ip_address(bracketed.group(1)) and (bracketed.group(2) is None or c.is_port(bracketed.group(2)))
    with_port = re.match(r"^([^:]+):([0-9]+)$", value)
    host = with_port.group(1) if with_port else value
    if with_port and not c.is_port(with_port.group(2)):
        return False
    return net.is_ip_address(host) or bool(_NO_PROXY_HOST_RE.match(host))


def rule_proxy(params, context):
    """k3s_proxy is {http_proxy, https_proxy: proxy URLs, no_proxy: list of NO_PROXY entries}; URLs as Go takes them."""
    proxy = params.get("k3s_proxy")
    if proxy is None or proxy == {}:
        return []
    if not c.is_mapping(proxy):
        return [c.Problem("k3s_proxy", "k3s_proxy must be a mapping with http_proxy, https_proxy and no_proxy (is a %s)."
                          % c.type_name(proxy), SRC_PROXY)]
    found = []
    unknown = c.unknown_keys(proxy, PROXY_KEYS)
    if unknown:
        found.append(c.Problem("k3s_proxy", "k3s_proxy: unknown keys %s (allowed: %s)." % (", ".join(unknown),
                               ", ".join(PROXY_KEYS)), SRC_PROXY))
    for key in ("http_proxy", "https_proxy"):
        value = proxy.get(key)
        if value in (None, ""):
            continue
        problem = proxy_url_problem(value)
        if problem:
            found.append(c.Problem("k3s_proxy", "k3s_proxy.%s '%s' %s." % (key, redact_url(value), problem), SRC_PROXY))
    entries = proxy.get("no_proxy")
    if entries in (None, ""):
        return found
    if not c.is_list(entries):
        found.append(c.Problem("k3s_proxy", "k3s_proxy.no_proxy must be a list of hosts, .domains, addresses or CIDRs "
                               "(is a %s: '%s')." % (c.type_name(entries), c.text(entries)), SRC_PROXY))
        return found
    bad = [c.text(e) for e in entries if not _is_no_proxy_entry(e)]
    if bad:
        found.append(c.Problem("k3s_proxy", "k3s_proxy.no_proxy: %s must each be a host, .domain, IP address, CIDR or "
                               "*, optionally with :port (one entry per list item, no commas or spaces)."
                               % ", ".join(bad), SRC_PROXY))
    return found

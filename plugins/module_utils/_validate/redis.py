# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.redis role's inventory input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net

SUPPORTED = {"Debian": ("12", "13"), "Ubuntu": ("22.04", "24.04")}
LOOPBACK = ("127.0.0.1", "::1")
# redis.conf memory units (case-insensitive): 1k, 1kb, 1m, 1mb, 1g, 1gb; a plain number is bytes.
MAXMEMORY_RE = re.compile(r"^[0-9]+(b|k|kb|m|mb|g|gb)?$")
ACL_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]+$")
# Redis ACL selectors (ACL SETUSER): key patterns, channel patterns, command rules.
ACL_RULES = {
    "keys": (re.compile(r"^(~|%R~|%W~|%RW~|allkeys$|resetkeys$)"), ["~*"],
             "~pattern rules (~pattern, %R~pattern, %W~pattern, %RW~pattern, allkeys, resetkeys)"),
    "channels": (re.compile(r"^(&|allchannels$|resetchannels$)"), ["&*"],
                 "&pattern rules (&pattern, allchannels, resetchannels)"),
    "commands": (re.compile(r"^(\+|-|allcommands$|nocommands$)"), ["+@all"],
                 "+/- rules (+command, -command, +@category, -@category, allcommands, nocommands)"),
}


def validate(params, context):
    """Return the problems (list of Problem) of the redis role's input on one host.

    :param params: dict of the role's variables (``redis_*``) as Ansible rendered them;
        ACL users' passwords are read by no rule and never printed.
    :param context: dict with ``facts`` (dict: distribution, distribution_major_version,
        distribution_version).
    :returns: list of Problem, empty when the input is acceptable. Never raises on bad values.
    """
    p = params
    problems = []
    add = problems.append
    facts = context.get("facts") or {}
    dist = facts.get("distribution")
    release = facts.get("distribution_major_version") if dist == "Debian" else facts.get("distribution_version")
    if release not in SUPPORTED.get(dist, ()):
        add(c.Problem("ansible_facts", "onprem.stack.redis supports Debian 12/13 and Ubuntu 22.04/24.04; this host runs "
                      "%s %s." % (dist, facts.get("distribution_version")), c.SRC_ROLE.format(role="redis")))

    maxmemory = c.text(p.get("redis_maxmemory"))
    if maxmemory and not MAXMEMORY_RE.match(maxmemory.lower()):
        add(c.Problem("redis_maxmemory",
                      "redis_maxmemory must be a byte count or a size such as 512mb or 2gb (0 for no limit, empty for "
                      "half the host's memory); found '%s'." % maxmemory, c.SRC_REDIS_CONF))

    for entry in p.get("redis_save") or []:
        if not re.match(r"^[0-9]+ [0-9]+$", c.text(entry)):
            add(c.Problem("redis_save", "redis_save: '%s' is not '<seconds> <changes>' such as '300 100'." % c.text(entry),
                          c.SRC_REDIS_CONF))

    users = [u if c.is_mapping(u) else {} for u in p.get("redis_acl_users") or []]
    for idx, user in enumerate(users):
        name = c.text(user.get("name"))
        where = "redis_acl_users[%d] ('%s')" % (idx, name)
        if not ACL_NAME_RE.match(name) or name == "default":
            add(c.Problem("redis_acl_users[%d].name" % idx,
                          "%s: the name must be [A-Za-z0-9_.@-]+ and not 'default' (see redis_default_user_enabled)."
                          % where, c.SRC_REDIS_ACL))
        for field, (pattern, default, expected) in ACL_RULES.items():
            rules = user.get(field, default)
            bad = [c.text(r) for r in (rules if c.is_list(rules) else [rules]) if not pattern.match(c.text(r))]
            if bad:
                add(c.Problem("redis_acl_users[%d].%s" % (idx, field),
                              "%s: %s %s must be %s (Redis ACL syntax)." % (where, field, ", ".join(bad), expected),
                              c.SRC_REDIS_ACL))
    for name in c.duplicates([u.get("name") for u in users]):
        add(c.Problem("redis_acl_users", "redis_acl_users: '%s' appears more than once." % c.text(name), c.SRC_REDIS_ACL))

    cert, key = c.text(p.get("redis_tls_cert")), c.text(p.get("redis_tls_key"))
    if bool(cert) != bool(key) or (cert and not os.path.isfile(cert)) or (key and not os.path.isfile(key)):
        add(c.Problem("redis_tls_cert",
                      "redis_tls_cert ('%s') and redis_tls_key ('%s') must both be empty (site CA signs a certificate) "
                      "or both name existing PEM files on the control node." % (cert, key), c.SRC_REDIS_SECURITY))

    port = p.get("redis_port")
    if not c.is_port(port):
        add(c.Problem("redis_port", "redis_port must be a TCP port 1-65535; found '%s'." % c.text(port), c.SRC_REDIS_CONF))

    binds = [c.text(b) for b in p.get("redis_bind") or []]
    for bind in binds:
        address = bind[1:] if bind.startswith("-") else bind
        if address != "*" and not net.is_ip_address(address):
            add(c.Problem("redis_bind", "redis_bind: '%s' is not an IPv4/IPv6 address (optionally prefixed with - or *)."
                          % bind, c.SRC_REDIS_CONF))
    beyond = [b for b in binds if (b[1:] if b.startswith("-") else b) not in LOOPBACK]
    if beyond and not c.as_bool(p.get("redis_tls_enabled")) and not c.as_bool(p.get("redis_allow_plaintext_network")):
        add(c.Problem("redis_bind",
                      "redis_bind %s listens beyond loopback without TLS: passwords and data would cross the network in "
                      "clear text. Set redis_tls_enabled: true, or redis_allow_plaintext_network: true to accept that."
                      % json.dumps(binds), c.SRC_REDIS_SECURITY))
    return problems

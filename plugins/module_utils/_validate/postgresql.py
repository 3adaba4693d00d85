# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.postgresql role's inventory input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller
    HAS_YAML = False

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net

UNSAFE_NETWORK_METHODS = ("trust", "password", "md5")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
MEMORY_VARS = ("postgresql_shared_buffers", "postgresql_effective_cache_size", "postgresql_work_mem",
               "postgresql_maintenance_work_mem")
# PostgreSQL's memory units (config-setting.html: kB, MB, GB, TB; case-sensitive).
MEMORY_UNITS = ("kB", "MB", "GB", "TB")
_IDENT = r"^[a-z_][a-z0-9_]{0,62}$"


def airgap_os(vars_dir):
    """The OS whose distribution ships PostgreSQL 15+ with pgvector, from the role's vars files.

    :param vars_dir: the role's ``vars`` directory (str); reads its ``<Distribution>-<major>.yml``.
    :returns: list of str such as ``Debian 13 (PostgreSQL 17)``, sorted by file name.
    :raises ImportError: without PyYAML (not on a control node: ansible-core requires it).
    """
    if not HAS_YAML:
        raise ImportError("PyYAML (python3-yaml) is needed to read %s" % vars_dir)
    found = []
    for path in sorted(glob.glob(os.path.join(vars_dir, "*-*.yml"))):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if data.get("__postgresql_distro_has_pgvector") and c.to_int(data.get("__postgresql_distro_version")) >= 15:
            name = os.path.splitext(os.path.basename(path))[0].replace("-", " ")
            found.append("%s (PostgreSQL %s)" % (name, data["__postgresql_distro_version"]))
    return found


def validate(params, context):
    """Return the problems (list of Problem) of the postgresql role's input on one host.

    :param params: dict of the role's variables (``postgresql_*``) as Ansible rendered them.
    :param context: dict with ``facts`` (dict: distribution, distribution_major_version),
        ``stack_airgap`` (bool), ``version`` (int: the major version in effect,
        ``_postgresql_version``), ``source`` (str: the package source in effect, distro or
        pgdg), ``distro_version`` (int: the distribution's PostgreSQL, 0 when unknown),
        ``distro_has_pgvector`` (bool) and ``vars_dir`` (str: the role's vars directory).
    :returns: list of Problem, empty when the input is acceptable. Never raises on bad values.
    """
    p = params
    problems = []
    add = problems.append
    facts = context.get("facts") or {}
    version = c.to_int(context.get("version"))
    raw_version = c.text(p.get("postgresql_version"))
    if version < 15 or (raw_version and c.uint(raw_version) is None):
        add(c.Problem("postgresql_version",
                      "postgresql_version must be an integer major version 15 or newer (pgvector and scram-sha-256 "
                      "defaults need it); found '%s'." % raw_version,
                      "PostgreSQL versioning policy (postgresql.org/support/versioning); pgvector (github.com/pgvector/pgvector)"))

    distro_version = c.to_int(context.get("distro_version"))
    has_pgvector = c.as_bool(context.get("distro_has_pgvector"))
    if p.get("postgresql_package_source") == "distro" and not (has_pgvector and version == distro_version):
        add(c.Problem("postgresql_package_source",
                      "postgresql_package_source is 'distro' but %s %s ships PostgreSQL %s %s; wanted version %s with "
                      "pgvector. Use 'auto' or 'pgdg'." % (
                          facts.get("distribution"), facts.get("distribution_major_version"), distro_version,
                          "" if has_pgvector else "without pgvector", version),
                      "the distribution's archive (packages.debian.org, packages.ubuntu.com)"))

    hba_rules = p.get("postgresql_hba_rules") or []
    for idx, rule in enumerate(hba_rules if c.is_list(hba_rules) else []):
        rule = rule if c.is_mapping(rule) else {}
        if rule.get("contype") == "local":
            continue
        address = c.text(rule.get("address"))
        if not address or rule.get("method") in UNSAFE_NETWORK_METHODS:
            add(c.Problem("postgresql_hba_rules[%d]" % idx,
                          "postgresql_hba_rules[%d] (%s %s %s %s %s): network rules need an address and may not use "
                          "%s; use scram-sha-256 (or cert) over hostssl." % (
                              idx, c.text(rule.get("contype")), c.text(rule.get("databases", "all")),
                              c.text(rule.get("users", "all")), address or "<no address>", c.text(rule.get("method")),
                              ", ".join(UNSAFE_NETWORK_METHODS)),
                          c.SRC_PG_HBA))
        if address not in ("all", "samehost", "samenet") and not net.is_cidr(address):
            add(c.Problem("postgresql_hba_rules[%d].address" % idx,
                          "postgresql_hba_rules[%d]: address '%s' is not a CIDR network with valid octets and prefix "
                          "length (such as 10.0.0.0/8 or fd00::/8), nor all/samehost/samenet." % (idx, address),
                          c.SRC_PG_HBA))

    cidrs = p.get("postgresql_client_cidrs") or []
    for cidr in cidrs:
        if not net.is_cidr(cidr):
            add(c.Problem("postgresql_client_cidrs",
                          "postgresql_client_cidrs: '%s' is not a CIDR network with valid octets and prefix length, "
                          "such as 10.0.0.0/8." % c.text(cidr), c.SRC_CIDR))

    cert, key = c.text(p.get("postgresql_tls_cert")), c.text(p.get("postgresql_tls_key"))
    if bool(cert) != bool(key) or (cert and not os.path.isfile(cert)) or (key and not os.path.isfile(key)):
        add(c.Problem("postgresql_tls_cert",
                      "postgresql_tls_cert ('%s') and postgresql_tls_key ('%s') must both be empty (site CA signs a "
                      "certificate) or both name existing PEM files on the control node." % (cert, key),
                      "PostgreSQL ssl_cert_file and ssl_key_file (postgresql.org/docs/current/ssl-tcp.html)"))

    users = [u for u in p.get("postgresql_users") or [] if c.is_mapping(u)]
    databases = [d for d in p.get("postgresql_databases") or [] if c.is_mapping(d)]
    user_names = [u.get("name") for u in users]
    for database in databases:
        if database.get("owner") not in user_names:
            add(c.Problem("postgresql_databases",
                          "postgresql_databases: database '%s' has owner '%s', which is not in postgresql_users (%s)."
                          % (c.text(database.get("name")), c.text(database.get("owner")),
                             ", ".join(c.text(n) for n in user_names)),
                          c.SRC_ROLE.format(role="postgresql")))

    for var in MEMORY_VARS:
        value = p.get(var)
        if c.text(value) and not c.is_size(value, MEMORY_UNITS):
            add(c.Problem(var, "%s: '%s' is not a PostgreSQL memory size such as 512MB or 2GB." % (var, c.text(value)),
                          c.SRC_PG_CONFIG))

    retention = p.get("postgresql_backup_retention")
    if c.to_int(retention) < 1:
        add(c.Problem("postgresql_backup_retention",
                      "postgresql_backup_retention must be 1 or more; found %s." % c.text(retention),
                      c.SRC_ROLE.format(role="postgresql")))

    port = p.get("postgresql_port")
    if not c.is_port(port):
        add(c.Problem("postgresql_port", "postgresql_port must be a TCP port 1-65535; found '%s'." % c.text(port),
                      c.SRC_PG_CONNECT))
    max_connections = p.get("postgresql_max_connections")
    if (c.uint(max_connections) or 0) < 1:
        add(c.Problem("postgresql_max_connections",
                      "postgresql_max_connections must be a positive integer; found '%s'." % c.text(max_connections),
                      c.SRC_PG_CONNECT))

    for var, names in (("postgresql_users", user_names), ("postgresql_databases", [d.get("name") for d in databases])):
        for name in names:
            if not isinstance(name, str) or not re.match(_IDENT, name):
                add(c.Problem(var,
                              "%s: '%s' is not an identifier (lower-case letters, digits, _; 1-63 characters, not "
                              "starting with a digit)." % (var, c.text(name)), c.SRC_PG_IDENT))
        for name in c.duplicates(names):
            add(c.Problem(var, "%s: '%s' appears more than once." % (var, c.text(name)), c.SRC_PG_IDENT))

    listen = p.get("postgresql_listen_addresses") or []
    hostssl = [r for r in hba_rules if c.is_mapping(r) and r.get("contype") == "hostssl"]
    if [a for a in listen if a not in LOOPBACK] and not cidrs and not hostssl:
        add(c.Problem("postgresql_listen_addresses",
                      "postgresql_listen_addresses %s reach beyond loopback but no hostssl rule admits a client "
                      "(postgresql_client_cidrs is empty and postgresql_hba_rules has no hostssl rule); add the "
                      "clients' networks to postgresql_client_cidrs (hostssl, scram-sha-256)."
                      % json.dumps([c.text(a) for a in listen]), c.SRC_PG_HBA))

    if context.get("stack_airgap") and context.get("source") == "pgdg":
        add(c.Problem("stack_airgap",
                      "stack_airgap is true but PostgreSQL %s on %s %s comes from PGDG (postgresql_package_source: "
                      "%s), which an air-gapped host cannot reach and the bundle does not carry. Air-gapped hosts can "
                      "run PostgreSQL with pgvector from their distribution on: %s (postgresql_version empty or that "
                      "version)." % (version, facts.get("distribution"), facts.get("distribution_major_version"),
                                     c.text(p.get("postgresql_package_source")),
                                     ", ".join(airgap_os(context.get("vars_dir") or ""))),
                      "PGDG apt repository (wiki.postgresql.org/wiki/Apt); the bundle's repositories (docs/airgap.md)"))
    return problems

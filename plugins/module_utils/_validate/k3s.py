# -*- coding: utf-8 -*-
# Copyright: onprem.stack contributors
# Apache License 2.0 (see LICENSE)
"""Validator of the onprem.stack.k3s role's inventory input.

Rules are small functions, each ``rule(params, context) -> list[Problem]``, listed in
RULES in the order they report; a new check (what k3s or the kubelet accepts) is one more
function and one more entry. List-valued node settings are checked by LIST_RULES: a
variable, a parser from ``_common`` and the expected form.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _kube as kube
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net
from ansible_collections.onprem.stack.plugins.module_utils._validate import _k3s_proxy as proxy

ARCHES = ("amd64", "arm64", "arm")
SOURCES = ("", "bundle", "artifacts", "release")
# k3s defaults of the pod and service networks (docs.k3s.io/cli/server, "Networking").
DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
_TOKEN_RE = re.compile(r"^[!-~]+$")
SRC_URL_RELEASES = c.SRC_K3S_RELEASES + "; " + net.SRC_URL


def _san_problem(value):
    """What is wrong (str) with a tls-san entry ('' when none): a DNS name (a leading ``*.``
    allowed) or an IP address, written bare, as the API server certificate's SANs take them."""
    if isinstance(value, str) and (net.is_ip_address(value) or c.is_dns_name(value)):
        return ""
    return "is not a DNS name or IP address (no scheme, port or brackets)"


def _mirror_problem(value):
    """What is wrong (str) with a mirrored registry name ('' when none): host[:port] as
    registries.yaml's mirrors keys take it."""
    return "" if net.is_host_port(value) else "is not host[:port]"


# (variable, problem of one entry ('' when none), expected form, source); each bad entry is named.
LIST_RULES = (
    ("k3s_node_labels", kube.label_problem, "key=value", kube.SRC_KUBELET_LABELS),
    ("k3s_gpu_node_labels", kube.label_problem, "key=value", kube.SRC_KUBELET_LABELS),
    ("k3s_node_taints", kube.taint_problem, "key[=value]:NoSchedule|PreferNoSchedule|NoExecute", c.SRC_K8S_TAINTS),
    ("k3s_gpu_node_taints", kube.taint_problem, "key[=value]:NoSchedule|PreferNoSchedule|NoExecute", c.SRC_K8S_TAINTS),
    ("k3s_kubelet_args", kube.component_arg_problem, "[--]name=value (a kubelet flag)", kube.SRC_K3S_ARGS),
    ("k3s_tls_san", _san_problem, "host names or addresses", c.SRC_K3S_SERVER),
    ("k3s_registry_mirrored", _mirror_problem, "registry host[:port] names", c.SRC_K3S_REGISTRIES),
)
# Booleans the role reads with the bool filter (which takes any other value as false).
BOOLEANS = ("k3s_airgap_images", "k3s_start", "k3s_disable_default_registry_endpoint", "k3s_allow_even_servers")


def _servers(context):
    return list(context.get("servers") or [])


def rule_group(params, context):
    """The host is in exactly one of k3s_server and k3s_agent (the role installs one unit)."""
    groups = [g for g in ("k3s_server", "k3s_agent") if g in (context.get("groups") or [])]
    if len(groups) == 1:
        return []
    return [c.Problem("group_names", "%s is in groups %s; a k3s host belongs to exactly one of k3s_server and "
                      "k3s_agent." % (context.get("host"), groups), c.SRC_K3S_SERVER)]


def rule_release(params, context):
    """k3s_version, k3s_arch, k3s_source and k3s_ready_timeout name a release the role can install."""
    p = params
    found = []
    if not _is_k3s_version(p.get("k3s_version")):
        found.append(c.Problem("k3s_version", "k3s_version must be a k3s release tag such as v1.37.2+k3s1 (is '%s')."
                               % c.text(p.get("k3s_version")), c.SRC_K3S_RELEASES))
    if p.get("k3s_arch") not in ARCHES:
        found.append(c.Problem("k3s_arch", "k3s_arch must be one of %s (is '%s')." % (", ".join(ARCHES),
                               c.text(p.get("k3s_arch"))), c.SRC_K3S_RELEASES))
    if p.get("k3s_source", "") not in SOURCES:
        found.append(c.Problem("k3s_source", "k3s_source must be empty, bundle, artifacts or release (is '%s')."
                               % c.text(p.get("k3s_source")), c.SRC_ROLE.format(role="k3s")))
    elif context.get("source") == "artifacts" and not c.text(p.get("k3s_artifacts_dir")):
        found.append(c.Problem("k3s_artifacts_dir", "k3s_source is artifacts but k3s_artifacts_dir is empty (the "
                               "directory of the release files on the control node).", c.SRC_ROLE.format(role="k3s")))
    if c.to_int(p.get("k3s_ready_timeout")) <= 0:
        found.append(c.Problem("k3s_ready_timeout", "k3s_ready_timeout must be seconds > 0 (is '%s')."
                               % c.text(p.get("k3s_ready_timeout")), c.SRC_ROLE.format(role="k3s")))
    return found


def _is_k3s_version(value):
    """True when ``value`` (str) is a k3s release tag such as v1.37.2+k3s1."""
    return isinstance(value, str) and bool(c.K3S_VERSION_RE.match(value))


def rule_server_count(params, context):
    """An odd number of servers (embedded etcd quorum), unless k3s_allow_even_servers."""
    servers = _servers(context)
    if not servers or len(servers) % 2 == 1 or c.as_bool(params.get("k3s_allow_even_servers")):
        return []
    return [c.Problem("groups.k3s_server",
                      "Group k3s_server has %d hosts (%s); embedded etcd needs an odd number of servers (1, 3, 5) for "
                      "a quorum, an even count tolerates no more failures than one server fewer. Add or remove a "
                      "server, or set k3s_allow_even_servers: true." % (len(servers), ", ".join(servers)),
                      c.SRC_K3S_HA)]


def rule_tokens(params, context):
    """Given tokens are at least 16 printable characters without spaces; only their lengths are printed."""
    token, agent = params.get("k3s_token", ""), params.get("k3s_agent_token", "")

    def bad(value):
        return not isinstance(value, str) or (value and (len(value) < 16 or not _TOKEN_RE.match(value)))
    if not bad(token) and not bad(agent):
        return []
    return [c.Problem("k3s_token",
                      "k3s_token and k3s_agent_token must be empty (generated once on the control node) or at least "
                      "16 printable characters without spaces; the given k3s_token has %d characters, "
                      "k3s_agent_token %d." % (len(c.text(token)), len(c.text(agent))),
                      "k3s token format (docs.k3s.io/cli/token)")]


def rule_server_url(params, context):
    """Every host but the first server joins one: a server exists and the URL is one k3s' --server takes."""
    if context.get("is_first"):
        return []
    url = c.text(context.get("url"))
    if not context.get("first_server"):
        return [c.Problem("k3s_server_url",
                          "%s would join a k3s cluster but has no server to join: group k3s_server has %d hosts and the "
                          "server URL is '%s'. A node must never start without one (it would form a cluster of its "
                          "own)." % (context.get("host"), len(_servers(context)), url), c.SRC_K3S_AGENT)]
    problem = net.https_server_url_problem(url)
    if not problem:
        return []
    return [c.Problem("k3s_server_url",
                      "%s would join the k3s cluster at '%s', which k3s' --server does not take: the URL %s (k3s_server_url, "
                      "default https://<first k3s_server>:<k3s_api_port>; an IPv6 address in brackets: "
                      "https://[fd00::1]:6443)." % (context.get("host"), url, problem), c.SRC_K3S_AGENT + "; " + net.SRC_URL)]


def rule_api_port(params, context):
    """k3s_api_port is a TCP port (k3s https-listen-port)."""
    if c.is_port(params.get("k3s_api_port", 6443)):
        return []
    return [c.Problem("k3s_api_port", "k3s_api_port must be a TCP port 1-65535 (is '%s'); it is k3s' https-listen-port."
                      % c.text(params.get("k3s_api_port")), c.SRC_K3S_SERVER)]


def rule_addresses(params, context):
    """k3s_node_ip is one address per IP family (k3s node-ip), k3s_api_endpoint a host written bare,
    k3s_release_url an http(s) URL."""
    found = []
    node_ip = params.get("k3s_node_ip", "")
    if node_ip not in ("", None):
        parts = [p.strip() for p in c.text(node_ip).split(",")]
        families = [":" in p for p in parts]
        if not isinstance(node_ip, str) or not all(net.is_ip_address(p) for p in parts) or len(set(families)) != len(parts):
            found.append(c.Problem("k3s_node_ip", "k3s_node_ip of %s must be an IP address, or an IPv4 and an IPv6 "
                                   "address separated by a comma (dual-stack), without prefix or brackets (is '%s')."
                                   % (context.get("host"), c.text(node_ip)), c.SRC_K3S_AGENT))
    endpoint = params.get("k3s_api_endpoint", "")
    if endpoint not in ("", None):
        problem = net.host_problem(endpoint)
        if problem:
            found.append(c.Problem("k3s_api_endpoint", "k3s_api_endpoint '%s' %s: expected the API's host name or "
                                   "address alone (the port is k3s_api_port; an IPv6 address without brackets)."
                                   % (c.text(endpoint), problem), c.SRC_K3S_SERVER + "; " + net.SRC_URL))
    release_url = params.get("k3s_release_url")
    if release_url is not None and (not isinstance(release_url, str) or "{{" not in release_url):
        problem = net.url_problem(release_url, schemes=("https", "http"))
        if problem:
            found.append(c.Problem("k3s_release_url", "k3s_release_url '%s' %s." % (c.text(release_url), problem),
                                   SRC_URL_RELEASES))
    return found


def rule_booleans(params, context):
    """The role's booleans are booleans as Ansible reads them strictly (BOOLEANS)."""
    return [c.Problem(var, "%s must be a boolean (true or false), is '%s'." % (var, c.text(params[var])),
                      c.SRC_ANSIBLE_BOOL) for var in c.bool_problems(params, BOOLEANS)]


def rule_cluster_config(params, context):
    """k3s_cluster_config holds only cluster-wide settings, and its networks and the node's address do not overlap."""
    config = params.get("k3s_cluster_config")
    if not c.is_mapping(config):
        return [c.Problem("k3s_cluster_config", "k3s_cluster_config must be a mapping of k3s server settings (is a %s)."
                          % c.type_name(config), c.SRC_K3S_SERVER)]
    found = []
    allowed = list(context.get("cluster_keys") or [])
    unknown = c.unknown_keys(config, allowed)
    if unknown:
        found.append(c.Problem("k3s_cluster_config",
                               "k3s_cluster_config: keys %s are not cluster-wide k3s server settings (allowed: %s)."
                               % (", ".join(unknown), ", ".join(allowed)), c.SRC_K3S_SERVER))
    nets = {"cluster-cidr": config.get("cluster-cidr", DEFAULT_CLUSTER_CIDR),
            "service-cidr": config.get("service-cidr", DEFAULT_SERVICE_CIDR)}
    if c.text(params.get("k3s_node_ip")):
        nets["k3s_node_ip of %s" % context.get("host")] = params["k3s_node_ip"]
    overlaps = net.cidr_overlaps(nets)
    if overlaps:
        found.append(c.Problem("k3s_cluster_config",
                               "k3s_cluster_config: CIDR conflict: %s (cluster-cidr, service-cidr and the node "
                               "addresses must not overlap)." % "; ".join(overlaps), c.SRC_K3S_SERVER))
    return found


def rule_cluster_config_equal(params, context):
    """Every server has the first server's k3s_cluster_config (k3s' critical configuration values)."""
    first = context.get("first_server")
    configs = context.get("server_configs") or {}
    if not first:
        return []
    reference = configs.get(first, params.get("k3s_cluster_config"))
    differing = [name for name in _servers(context) if configs.get(name, params.get("k3s_cluster_config")) != reference]
    if not differing:
        return []
    return [c.Problem("k3s_cluster_config",
                      "k3s_cluster_config differs between servers: %s have a value other than %s's (%s). k3s requires "
                      "these settings equal on all servers: set k3s_cluster_config once, in group_vars."
                      % (", ".join(differing), first, reference),
                      "k3s server, critical configuration values (docs.k3s.io/cli/server)")]


def rule_extra_config(params, context):
    """k3s_extra_config keys are flags of this node's k3s command, not ones the role writes itself."""
    config = params.get("k3s_extra_config")
    role = "server" if "k3s_server" in (context.get("groups") or []) else "agent"
    source = c.SRC_K3S_SERVER if role == "server" else c.SRC_K3S_AGENT
    where = "k3s_extra_config of %s" % context.get("host")
    if not c.is_mapping(config):
        return [c.Problem("k3s_extra_config", "%s must be a mapping of k3s flags (is a %s)." % (where, c.type_name(config)),
                          source)]
    flags = context.get("server_flags" if role == "server" else "agent_flags") or []
    managed = list(context.get("managed_keys") or []) + list(context.get("cluster_keys") or [])
    found = []
    unknown = c.unknown_keys(config, flags)
    if unknown:
        found.append(c.Problem("k3s_extra_config", "%s: unknown k3s %s flags: %s (write flag names without --, as "
                               "docs.k3s.io/cli/%s lists them)." % (where, role, ", ".join(unknown), role), source))
    own = [c.text(k) for k in config if k in managed]
    if own:
        found.append(c.Problem("k3s_extra_config", "%s: keys set by the role itself: %s (use the k3s_* variables)."
                               % (where, ", ".join(own)), c.SRC_ROLE.format(role="k3s")))
    for key in [k for k in config if c.text(k).endswith("-arg") and k not in managed]:
        values = config[key] if c.is_list(config[key]) else [config[key]]
        bad = ["'%s' %s" % (c.text(v), kube.component_arg_problem(v)) for v in values if kube.component_arg_problem(v)]
        if bad:
            found.append(c.Problem("k3s_extra_config", "%s: %s: %s (each item [--]name=value, one flag per item)."
                                   % (where, c.text(key), "; ".join(bad)), kube.SRC_K3S_ARGS))
    return found


def rule_node_lists(params, context):
    """Node labels, taints, kubelet arguments and tls-san entries have the form k3s passes on (LIST_RULES)."""
    found = []
    for var, problem, expected, source in LIST_RULES:
        values = params.get(var) or []
        if not c.is_list(values):
            message = "%s of %s must be a list of %s (is a %s)." % (var, context.get("host"), expected, c.type_name(values))
            found.append(c.Problem(var, message, source))
            continue
        bad = [(c.text(v), problem(v)) for v in values if problem(v)]
        if bad:
            found.append(c.Problem(var, "%s of %s: %s must be %s: %s." % (
                var, context.get("host"), ", ".join(v for v, _r in bad), expected,
                "; ".join("'%s' %s" % (v, reason) for v, reason in bad)), source))
    if not params.get("k3s_gpu_node_taints"):
        found.append(c.Problem("k3s_gpu_node_taints", "k3s_gpu_node_taints must not be empty: GPU nodes are tainted so "
                               "that only pods that tolerate it (and ask for a GPU) run there.", c.SRC_K8S_TAINTS))
    return found


def rule_registry(params, context):
    """The site registry address (k3s_registry_address or the registry host) is host[:port]."""
    registry = c.text(context.get("registry"))
    if not registry or net.is_host_port(registry):
        return []
    return [c.Problem("k3s_registry_address", "k3s_registry_address must be host[:port] (is '%s')." % registry,
                      c.SRC_K3S_REGISTRIES)]


def rule_registry_user(params, context):
    """With a registry host and no k3s_registry_password, k3s_registry_user is one of its registry_users
    (the password is the one the registry role generated for that user)."""
    users = context.get("registry_users")
    if users is None or not c.text(context.get("registry")) or c.text(params.get("k3s_registry_password")):
        return []
    names = [c.text(u.get("name")) for u in users if c.is_mapping(u)] if c.is_list(users) else []
    user = c.text(params.get("k3s_registry_user"))
    if user in names:
        return []
    return [c.Problem("k3s_registry_user", "k3s_registry_user '%s' is not in registry_users of %s (%s): the registry would "
                      "refuse its pulls (HTTP 401). Name one of them, or give k3s_registry_password."
                      % (user, context.get("registry_host"), ", ".join(names)), c.SRC_ROLE.format(role="registry"))]


RULES = (rule_group, rule_release, rule_server_count, rule_tokens, rule_server_url, rule_api_port, rule_addresses,
         rule_booleans, rule_cluster_config, rule_cluster_config_equal, rule_extra_config, rule_node_lists, rule_registry,
         rule_registry_user, proxy.rule_proxy)


def validate(params, context):
    """Return the problems (list of Problem) of the k3s role's input on one k3s host.

    :param params: dict of the role's variables (``k3s_*``) as Ansible rendered them; the
        tokens' values are never printed (only their lengths).
    :param context: dict with ``host`` (str), ``groups`` (list of str: group_names),
        ``servers`` (list of str: group k3s_server), ``first_server`` (str, '' when none),
        ``is_first`` (bool), ``source`` (str: k3s source in effect), ``url`` (str: the
        server URL in effect), ``registry`` (str: the registry address in effect, '' when
        none), ``registry_host`` (str: the first host of group registry, '' when none),
        ``registry_users`` (list of dict: its registry_users; None without a registry group),
        ``server_configs`` (dict: server name to its k3s_cluster_config),
        ``cluster_keys``, ``managed_keys``, ``server_flags``, ``agent_flags`` (lists of str,
        from roles/k3s/vars/main.yml).
    :returns: list of Problem, empty when the input is acceptable. Never raises on bad values.
    """
    problems = []
    for rule in RULES:
        problems.extend(rule(params, context))
    return problems


# Per public variable: the rule its check mirrors and the rule's source (docs/inventory.md,
# "Input checks", is generated from this; tests/unit/test_validate_rules.py checks that every
# variable of roles/k3s/defaults/main.yml has an entry).
VARIABLE_RULES = {
    "k3s_version": ("a k3s release tag vX.Y.Z[-pre]+k3sN", c.SRC_K3S_RELEASES),
    "k3s_arch": ("amd64, arm64 or arm (the release's file names)", c.SRC_K3S_RELEASES),
    "k3s_source": ("empty, bundle, artifacts or release", c.SRC_ROLE.format(role="k3s")),
    "k3s_artifacts_dir": ("not empty when the source in effect is artifacts", c.SRC_ROLE.format(role="k3s")),
    "k3s_release_url": ("http(s)://host[:port]/path, an IPv6 host in brackets", SRC_URL_RELEASES),
    "k3s_airgap_images": ("a boolean (strict)", c.SRC_ANSIBLE_BOOL),
    "k3s_start": ("a boolean (strict)", c.SRC_ANSIBLE_BOOL),
    "k3s_cluster_config": ("a mapping of the cluster-wide server flags only, equal on every server; cluster-cidr, "
                           "service-cidr and node addresses do not overlap", c.SRC_K3S_SERVER),
    "k3s_token": ("empty or at least 16 printable characters without spaces (only the length is printed)",
                  "k3s token format (docs.k3s.io/cli/token)"),
    "k3s_agent_token": ("as k3s_token", "k3s token format (docs.k3s.io/cli/token)"),
    "k3s_api_port": ("a TCP port 1-65535 (https-listen-port), not a boolean; preflight: free on servers and not "
                     "another service's port on the host", c.SRC_K3S_SERVER),
    "k3s_server_url": ("https://host[:port][/]: DNS name, IPv4 or [IPv6] host (a bare IPv6 address is named), port "
                       "1-65535, no path; a server to join exists", c.SRC_K3S_AGENT + "; " + net.SRC_URL),
    "k3s_api_endpoint": ("a DNS name or IP address written bare (no scheme, port or brackets)", net.SRC_URL),
    "k3s_tls_san": ("a list of DNS names (a leading *. allowed) or IP addresses, bare", c.SRC_K3S_SERVER),
    "k3s_node_ip": ("an IP address, or an IPv4 and an IPv6 address comma-separated (dual-stack node-ip)",
                    c.SRC_K3S_AGENT),
    "k3s_node_labels": ("key=value: qualified-name key, label value (63 characters), no kubernetes.io/k8s.io key "
                        "but the kubelet's own", kube.SRC_KUBELET_LABELS),
    "k3s_node_taints": ("key[=value]:Effect: qualified-name key, label value, NoSchedule|PreferNoSchedule|NoExecute",
                        c.SRC_K8S_TAINTS),
    "k3s_gpu_node_labels": ("as k3s_node_labels", kube.SRC_KUBELET_LABELS),
    "k3s_gpu_node_taints": ("as k3s_node_taints, not empty (nvidia_node_taints: [] turns GPU taints off)",
                            c.SRC_K8S_TAINTS),
    "k3s_kubelet_args": ("[--]name[+|-][=value] per item (k3s passes --name=value), name lower-case letters, digits, "
                         "'-', '.'", kube.SRC_K3S_ARGS),
    "k3s_extra_config": ("flags of this node's k3s command (server or agent), none the role writes; *-arg items as "
                         "k3s_kubelet_args", c.SRC_K3S_SERVER + "; " + c.SRC_K3S_AGENT + "; " + kube.SRC_K3S_ARGS),
    "k3s_registry_address": ("host[:port] (an IPv6 host in brackets)", c.SRC_K3S_REGISTRIES),
    "k3s_registry_mirrored": ("a list of registry host[:port] names", c.SRC_K3S_REGISTRIES),
    "k3s_registry_user": ("one of registry_users of the registry host when k3s_registry_password is empty",
                          c.SRC_ROLE.format(role="registry")),
    "k3s_registry_password": ("a str (argument spec); when empty, the registry role's password of k3s_registry_user",
                              c.SRC_ROLE.format(role="registry")),
    "k3s_disable_default_registry_endpoint": ("a boolean (strict)", c.SRC_ANSIBLE_BOOL),
    "k3s_allow_even_servers": ("a boolean (strict); without it an even server count is refused", c.SRC_K3S_HA),
    "k3s_proxy": ("{http_proxy, https_proxy: http|https|socks5|socks5h://[user:password@]host[:port], no_proxy: list "
                  "of hosts, .domains, IPs, CIDRs, *}; the password is never printed", proxy.SRC_PROXY),
    "k3s_ready_timeout": ("seconds > 0", c.SRC_ROLE.format(role="k3s")),
    "k3s_kubeconfig_dest": ("a str (argument spec): any control-node path", c.SRC_ROLE.format(role="k3s")),
}

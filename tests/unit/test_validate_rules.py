"""Each rule of the role validators (plugins/module_utils/_validate/<role>.py) and each
shared parser (_common.py), called directly: a role's defaults give no problem, and one
bad value per rule gives a problem naming the variable and the value (never a secret).

The bad-input cases of tests/functional/bad_input run against the same validators in
test_validate_cases.py; this file covers every rule, also those no case reaches.
"""
import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.stack.plugins.filter.role_problems import VALIDATORS, role_problems
from ansible_collections.onprem.stack.plugins.module_utils._validate import _common as c
from ansible_collections.onprem.stack.plugins.module_utils._validate import _kube as kube
from ansible_collections.onprem.stack.plugins.module_utils._validate import _net as net
from ansible_collections.onprem.stack.plugins.module_utils._validate import redis

REPO = Path(__file__).resolve().parents[2]


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _defaults(role: str) -> dict:
    """A role's defaults, without the few that are templates (no rule reads those)."""
    return {k: v for k, v in _defaults_raw(role).items() if not (isinstance(v, str) and "{{" in v)}


def _defaults_raw(role: str) -> dict:
    return _yaml(REPO / "roles" / role / "defaults" / "main.yml")


K3S_VARS = _yaml(REPO / "roles" / "k3s" / "vars" / "main.yml")
CONTEXT = {
    "postgresql": {"facts": {"distribution": "Debian", "distribution_major_version": "13"}, "stack_airgap": False,
                   "version": 17, "source": "distro", "distro_version": 17, "distro_has_pgvector": True,
                   "vars_dir": str(REPO / "roles" / "postgresql" / "vars")},
    "redis": {"facts": {"distribution": "Debian", "distribution_major_version": "13", "distribution_version": "13.1"}},
    "registry": {"bundle_dir": "/nonexistent/bundle"},
    "preflight": {"host": "db1", "groups": ["postgres", "redis", "registry"]},
    "k3s": {"host": "s1", "groups": ["k3s_server"], "servers": ["s1"], "first_server": "s1", "is_first": True,
            "source": "release", "url": "https://10.0.0.1:6443", "registry": "", "server_configs": {},
            "cluster_keys": K3S_VARS["_k3s_cluster_keys"], "managed_keys": K3S_VARS["_k3s_managed_keys"],
            "server_flags": K3S_VARS["_k3s_server_flags"], "agent_flags": K3S_VARS["_k3s_agent_flags"]},
    "nvidia": {"toolkit_source": "repo", "stack_airgap": False},
    "bundle": {},
    "airgap": {"bundle_dir": str(REPO), "os_id": "."},  # REPO/repos/./Packages: stands in below
    "platform": {"base_dir": str(REPO), "stack_airgap": False,
                 "reference_kinds": ["credential", "database_url", "database_password", "redis_url", "redis_password",
                                     "site_ca", "file"],
                 "pg_host": "db1", "pg_users": [{"name": "app"}], "pg_databases": [{"name": "appdb", "owner": "app"}],
                 "pg_backup_enabled": True, "redis_host": "cache1", "redis_users": [{"name": "app"}]},
}
EXTRA_PARAMS = {  # what the defaults leave to the inventory
    "postgresql": {"postgresql_users": [{"name": "app", "password": "s3cret-pw"}],
                   "postgresql_databases": [{"name": "appdb", "owner": "app"}]},
    "preflight": {"postgresql_port": 5432, "redis_port": 6379, "registry_port": 5000},
    "bundle": {"bundle_k3s_version": "v1.37.2+k3s1", "bundle_helm_version": "v4.3.0"},
}


def run(role: str, params: dict | None = None, context: dict | None = None, tmp: Path | None = None) -> list[str]:
    base = dict(_defaults(role), **EXTRA_PARAMS.get(role, {}))
    ctx = copy.deepcopy(CONTEXT[role])
    if role == "airgap":
        assert tmp is not None
        (tmp / "repos" / "debian-13").mkdir(parents=True)
        (tmp / "repos" / "debian-13" / "Packages").write_text("")
        ctx.update(bundle_dir=str(tmp), os_id="debian-13")
    base.update(params or {})
    ctx.update(context or {})
    return role_problems(base, role, ctx)


@pytest.mark.parametrize("role", sorted(VALIDATORS))
def test_defaults_give_no_problem(role: str, tmp_path: Path) -> None:
    assert run(role, tmp=tmp_path) == []


# (role, params, context, substrings of one problem): one row per rule at least.
RULES = [
    # postgresql
    ("postgresql", {"postgresql_version": 14}, {"version": 14}, ["postgresql_version", "15 or newer", "'14'"]),
    ("postgresql", {"postgresql_version": "17x"}, {}, ["postgresql_version", "'17x'"]),
    ("postgresql", {"postgresql_package_source": "distro"}, {"distro_has_pgvector": False},
     ["postgresql_package_source is 'distro'", "without pgvector"]),
    ("postgresql", {"postgresql_hba_rules": [{"contype": "host", "address": "10.0.0.0/8", "method": "md5"}]}, {},
     ["postgresql_hba_rules[0]", "md5", "scram-sha-256"]),
    ("postgresql", {"postgresql_hba_rules": [{"contype": "hostssl", "method": "scram-sha-256"}]}, {},
     ["postgresql_hba_rules[0]", "<no address>"]),
    ("postgresql", {"postgresql_hba_rules": [{"contype": "hostssl", "address": "10.0.0.0/40", "method": "cert"}]}, {},
     ["postgresql_hba_rules[0]: address '10.0.0.0/40'", "samehost"]),
    ("postgresql", {"postgresql_client_cidrs": ["10.0.0.1"]}, {}, ["postgresql_client_cidrs: '10.0.0.1'", "CIDR"]),
    ("postgresql", {"postgresql_tls_cert": "/nonexistent/c.crt"}, {}, ["postgresql_tls_cert ('/nonexistent/c.crt')"]),
    ("postgresql", {"postgresql_databases": [{"name": "appdb", "owner": "bob"}]}, {}, ["owner 'bob'", "(app)"]),
    ("postgresql", {"postgresql_work_mem": "64mb"}, {}, ["postgresql_work_mem: '64mb'", "memory size"]),
    ("postgresql", {"postgresql_backup_retention": 0}, {}, ["postgresql_backup_retention", "found 0"]),
    ("postgresql", {"postgresql_port": 65536}, {}, ["postgresql_port", "'65536'", "1-65535"]),
    ("postgresql", {"postgresql_max_connections": "many"}, {}, ["postgresql_max_connections", "'many'"]),
    ("postgresql", {"postgresql_users": [{"name": "App"}]}, {}, ["postgresql_users: 'App' is not an identifier"]),
    ("postgresql", {"postgresql_users": [{"name": "app"}, {"name": "app"}]}, {}, ["'app' appears more than once"]),
    ("postgresql", {"postgresql_listen_addresses": ["*"]}, {}, ["postgresql_listen_addresses [\"*\"]", "hostssl"]),
    ("postgresql", {}, {"stack_airgap": True, "source": "pgdg"}, ["stack_airgap", "PGDG", "Debian 13 (PostgreSQL 17)"]),
    # redis
    ("redis", {}, {"facts": {"distribution": "CentOS", "distribution_version": "9"}}, ["this host runs CentOS 9"]),
    ("redis", {"redis_maxmemory": "2 GB"}, {}, ["redis_maxmemory", "'2 GB'"]),
    ("redis", {"redis_save": ["300"]}, {}, ["redis_save: '300'"]),
    ("redis", {"redis_acl_users": [{"name": "a b"}]}, {}, ["redis_acl_users[0] ('a b')", "[A-Za-z0-9_.@-]+"]),
    ("redis", {"redis_acl_users": [{"name": "default"}]}, {}, ["redis_acl_users[0] ('default')"]),
    ("redis", {"redis_acl_users": [{"name": "app", "keys": ["cache:*"]}]}, {}, ["keys cache:*", "~pattern"]),
    ("redis", {"redis_acl_users": [{"name": "app", "channels": ["news"]}]}, {}, ["channels news", "&pattern"]),
    ("redis", {"redis_acl_users": [{"name": "app", "commands": ["get"]}]}, {}, ["commands get", "+/- rules"]),
    ("redis", {"redis_acl_users": [{"name": "app"}, {"name": "app"}]}, {}, ["redis_acl_users: 'app' appears"]),
    ("redis", {"redis_tls_cert": "/nonexistent/r.crt"}, {}, ["redis_tls_cert ('/nonexistent/r.crt')"]),
    ("redis", {"redis_port": 0}, {}, ["redis_port", "'0'"]),
    ("redis", {"redis_bind": ["-10.0.0.300"], "redis_tls_enabled": True}, {}, ["redis_bind: '-10.0.0.300'"]),
    ("redis", {"redis_bind": ["10.0.0.5"]}, {}, ["redis_bind [\"10.0.0.5\"]", "redis_tls_enabled"]),
    # registry
    ("registry", {"registry_port": "http"}, {}, ["registry_port must be 1-65535 (is http)"]),
    ("registry", {"registry_users": []}, {}, ["registry_users must be a non-empty list"]),
    ("registry", {"registry_users": [{"name": "-ci"}]}, {}, ["registry_users[0]: name '-ci'"]),
    ("registry", {"registry_users": [{"name": "ci"}, {"name": "ci"}]}, {}, ["registry_users: 'ci' appears"]),
    ("registry", {"registry_tls_key": "/k.pem"}, {}, ["registry_tls_cert ('') and registry_tls_key ('/k.pem')"]),
    ("registry", {"registry_load_bundle": True}, {}, ["/nonexistent/bundle/bundle.json does not exist"]),
    # preflight
    ("preflight", {"stack_credentials_dir": "creds"}, {}, ["stack_credentials_dir", "'creds'", "mode absent"]),
    ("preflight", {"stack_credentials_dir": "/tmp"}, {}, ["stack_credentials_dir", "'/tmp'", "1777"]),
    ("preflight", {"registry_port": 5432}, {}, ["db1: postgresql_port, registry_port name the same port (5432)"]),
    # k3s
    ("k3s", {}, {"groups": ["k3s_server", "k3s_agent"]}, ["exactly one of k3s_server and k3s_agent"]),
    ("k3s", {"k3s_version": "v1.37.2"}, {}, ["k3s_version must be a k3s release tag", "'v1.37.2'", "v1.37.2+k3s1"]),
    ("k3s", {"k3s_arch": "x86_64"}, {}, ["k3s_arch must be one of amd64, arm64, arm", "'x86_64'"]),
    ("k3s", {"k3s_source": "git"}, {}, ["k3s_source must be empty, bundle, artifacts or release", "'git'"]),
    ("k3s", {}, {"source": "artifacts"}, ["k3s_artifacts_dir is empty"]),
    ("k3s", {"k3s_ready_timeout": 0}, {}, ["k3s_ready_timeout must be seconds > 0", "'0'"]),
    ("k3s", {}, {"servers": ["s1", "s2"]}, ["Group k3s_server has 2 hosts (s1, s2)", "k3s_allow_even_servers"]),
    ("k3s", {"k3s_token": "has a space in it, long"}, {}, ["k3s_token has 23 characters"]),
    ("k3s", {"k3s_agent_token": "short"}, {}, ["k3s_agent_token 5"]),
    ("k3s", {}, {"is_first": False, "url": "https://10.0.0.1:6443/path"},
     ["would join the k3s cluster at 'https://10.0.0.1:6443/path'", "has a path"]),
    ("k3s", {}, {"is_first": False, "url": "https://fd00::1:6443"},
     ["'https://fd00::1:6443'", "an IPv6 address without brackets", "https://[fd00::1:6443]:port"]),
    ("k3s", {}, {"is_first": False, "url": "https://[fd00::zz]:6443"}, ["host '[fd00::zz]'", "not an IPv6 address"]),
    ("k3s", {}, {"is_first": False, "url": "https://[fd00::1]:70000"}, ["has port '70000', expected 1-65535"]),
    ("k3s", {}, {"is_first": False, "url": "https://api_site:6443"}, ["host 'api_site'", "not a host name or IP"]),
    ("k3s", {}, {"is_first": False, "first_server": "", "servers": []}, ["group k3s_server has 0 hosts"]),
    ("k3s", {"k3s_cluster_config": ["cluster-cidr"]}, {}, ["k3s_cluster_config must be a mapping", "list"]),
    ("k3s", {"k3s_cluster_config": {"node-ip": "10.0.0.5"}}, {}, ["keys node-ip are not cluster-wide"]),
    ("k3s", {"k3s_cluster_config": {"service-cidr": "10.42.0.0/24"}}, {},
     ["CIDR conflict", "cluster-cidr 10.42.0.0/16 overlaps service-cidr 10.42.0.0/24"]),
    ("k3s", {"k3s_cluster_config": {"cluster-cidr": "10.42.0.0/33"}}, {}, ["CIDR conflict", "10.42.0.0/33"]),
    ("k3s", {"k3s_node_ip": "10.43.0.9"}, {}, ["k3s_node_ip of s1 10.43.0.9"]),
    ("k3s", {}, {"servers": ["s1", "s2", "s3"], "server_configs": {"s2": {"cluster-cidr": "10.50.0.0/16"}}},
     ["k3s_cluster_config differs between servers: s2"]),
    ("k3s", {"k3s_extra_config": {"kube-apiserver-arg": ["x=y"]}}, {"groups": ["k3s_agent"], "is_first": False},
     ["unknown k3s agent flags: kube-apiserver-arg"]),
    ("k3s", {"k3s_extra_config": {"node-label": ["a=b"]}}, {}, ["keys set by the role itself: node-label"]),
    ("k3s", {"k3s_extra_config": "debug"}, {}, ["k3s_extra_config of s1 must be a mapping"]),
    ("k3s", {"k3s_node_labels": ["gpu"]}, {}, ["k3s_node_labels of s1: gpu must be key=value"]),
    ("k3s", {"k3s_gpu_node_labels": ["a b=c"]}, {}, ["k3s_gpu_node_labels of s1: a b=c"]),
    ("k3s", {"k3s_node_taints": ["a=b:Never"]}, {}, ["k3s_node_taints of s1: a=b:Never", "NoExecute"]),
    ("k3s", {"k3s_gpu_node_taints": []}, {}, ["k3s_gpu_node_taints must not be empty"]),
    ("k3s", {"k3s_kubelet_args": ["max-pods 200"]}, {}, ["k3s_kubelet_args of s1: max-pods 200", "[--]name=value"]),
    ("k3s", {"k3s_kubelet_args": ["-v=2"]}, {}, ["k3s_kubelet_args of s1: -v=2", "is not [--]name[=value]"]),
    ("k3s", {"k3s_kubelet_args": ["Max-Pods=1"]}, {}, ["k3s_kubelet_args of s1: Max-Pods=1"]),
    ("k3s", {"k3s_kubelet_args": [{"max-pods": 200}]}, {}, ["k3s_kubelet_args of s1", "is a dict"]),
    ("k3s", {"k3s_extra_config": {"kube-apiserver-arg": ["audit-log-maxage 30"]}}, {},
     ["k3s_extra_config of s1: kube-apiserver-arg: 'audit-log-maxage 30' is not [--]name[=value]"]),
    ("k3s", {"k3s_extra_config": {"etcd-arg": "quota-backend-bytes=\n8589934592"}}, {}, ["etcd-arg", "has a line break"]),
    ("k3s", {"k3s_tls_san": ["https://api"]}, {}, ["k3s_tls_san of s1: https://api"]),
    ("k3s", {"k3s_tls_san": ["[fd00::1]"]}, {}, ["k3s_tls_san of s1: [fd00::1]", "no scheme, port or brackets"]),
    ("k3s", {"k3s_node_labels": ["node-role.kubernetes.io/worker=true"]}, {},
     ["k3s_node_labels of s1: node-role.kubernetes.io/worker=true", "the kubelet refuses in --node-labels"]),
    ("k3s", {"k3s_node_labels": ["example.k8s.io/x=y"]}, {}, ["'example.k8s.io/x'", "kubelet refuses"]),
    ("k3s", {"k3s_node_labels": ["team=" + "a" * 64]}, {}, ["which is not a label value"]),
    ("k3s", {"k3s_node_labels": ["team=-ai"]}, {}, ["has value '-ai'"]),
    ("k3s", {"k3s_node_labels": ["Example.com/team=ai"]}, {}, ["has key 'Example.com/team', which is not a qualified name"]),
    ("k3s", {"k3s_node_labels": ["a" * 64 + "=x"]}, {}, ["which is not a qualified name"]),
    ("k3s", {"k3s_node_taints": ["gpu=true:noschedule"]}, {}, ["has effect 'noschedule', expected one of NoSchedule"]),
    ("k3s", {"k3s_node_taints": ["gpu=a b:NoSchedule"]}, {}, ["has value 'a b'"]),
    ("k3s", {"k3s_gpu_node_taints": ["nvidia.com/gpu_=true:NoSchedule"]}, {}, ["key 'nvidia.com/gpu_'"]),
    ("k3s", {"k3s_registry_mirrored": ["docker.io/library"]}, {}, ["k3s_registry_mirrored of s1: docker.io/library"]),
    ("k3s", {"k3s_api_port": 0}, {}, ["k3s_api_port must be a TCP port 1-65535", "'0'"]),
    ("k3s", {"k3s_api_port": "6443/tcp"}, {}, ["k3s_api_port must be a TCP port 1-65535", "'6443/tcp'"]),
    ("k3s", {"k3s_api_port": True}, {}, ["k3s_api_port must be a TCP port 1-65535", "'True'"]),
    ("k3s", {"k3s_node_ip": "10.0.0.0/24"}, {}, ["k3s_node_ip of s1 must be an IP address", "'10.0.0.0/24'"]),
    ("k3s", {"k3s_node_ip": "10.0.0.1,10.0.0.2"}, {}, ["an IPv4 and an IPv6 address", "'10.0.0.1,10.0.0.2'"]),
    ("k3s", {"k3s_node_ip": "[fd00::5]"}, {}, ["k3s_node_ip of s1", "'[fd00::5]'"]),
    ("k3s", {"k3s_api_endpoint": "https://api.site"}, {}, ["k3s_api_endpoint 'https://api.site'", "host name or address alone"]),
    ("k3s", {"k3s_api_endpoint": "[fd00::1]"}, {}, ["k3s_api_endpoint '[fd00::1]' is a bracketed address"]),
    ("k3s", {"k3s_api_endpoint": "api.site:6443"}, {}, ["k3s_api_endpoint 'api.site:6443'", "not a host name"]),
    ("k3s", {"k3s_release_url": "ftp://mirror/k3s"}, {}, ["k3s_release_url 'ftp://mirror/k3s' has scheme ftp"]),
    ("k3s", {"k3s_release_url": "https://fd00::9/k3s"}, {}, ["k3s_release_url", "IPv6 address without brackets"]),
    ("k3s", {"k3s_start": "maybe"}, {}, ["k3s_start must be a boolean", "'maybe'"]),
    ("k3s", {"k3s_allow_even_servers": None}, {}, ["k3s_allow_even_servers must be a boolean"]),
    ("k3s", {"k3s_registry_user": "ci"},
     {"registry": "reg.site:5000", "registry_host": "reg1", "registry_users": [{"name": "onprem"}]},
     ["k3s_registry_user 'ci' is not in registry_users of reg1 (onprem)"]),
    ("k3s", {"k3s_proxy": {"http_proxy": "proxy.site:3128"}}, {}, ["k3s_proxy.http_proxy 'proxy.site:3128'", "no scheme"]),
    ("k3s", {"k3s_proxy": {"https_proxy": "http://fd00::1:3128"}}, {}, ["k3s_proxy.https_proxy", "an IPv6 address without brackets"]),
    ("k3s", {"k3s_proxy": {"no_proxy": ".corp,10.0.0.0/8"}}, {}, ["k3s_proxy.no_proxy must be a list"]),
    ("k3s", {"k3s_node_taints": "a:NoSchedule"}, {}, ["k3s_node_taints of s1 must be a list"]),
    ("k3s", {}, {"registry": "reg site:5000"}, ["k3s_registry_address must be host[:port]", "'reg site:5000'"]),
    # nvidia
    ("nvidia", {"nvidia_driver_branch": "55"}, {}, ["nvidia_driver_branch must be empty or a driver branch", "'55'"]),
    ("nvidia", {"nvidia_driver_flavour": "closed"}, {}, ["nvidia_driver_flavour proprietary or open (is 'closed')"]),
    ("nvidia", {"nvidia_kernel_release": "latest"}, {}, ["nvidia_kernel_release empty or a kernel release", "'latest'"]),
    ("nvidia", {"nvidia_kernel_headers_packages": ["Linux_Headers"]}, {}, ["nvidia_kernel_headers_packages", "Linux_Headers"]),
    ("nvidia", {"nvidia_driver_packages_extra": ["-x"]}, {}, ["nvidia_driver_packages_extra", "-x"]),
    ("nvidia", {"nvidia_reboot_timeout": -1}, {}, ["nvidia_reboot_timeout must be seconds > 0", "'-1'"]),
    ("nvidia", {"nvidia_k3s_ready_timeout": "soon"}, {}, ["nvidia_k3s_ready_timeout", "'soon'"]),
    ("nvidia", {"nvidia_device_plugin_version": "v0.20.1"}, {}, ["nvidia_device_plugin_version", "'v0.20.1'", "such as 0.20.1"]),
    ("nvidia", {"nvidia_device_plugin_namespace": "GPU"}, {}, ["nvidia_device_plugin_namespace", "'GPU'"]),
    ("nvidia", {"nvidia_device_plugin_values": "x"}, {}, ["nvidia_device_plugin_values a mapping", "str"]),
    ("nvidia", {"nvidia_model_dir": "models"}, {}, ["nvidia_model_dir must be an absolute path", "'models'"]),
    ("nvidia", {"nvidia_node_taints": ["nvidia.com/gpu=true"]}, {}, ["nvidia_node_taints entries", "has no effect"]),
    ("nvidia", {"nvidia_node_taints": ["gpu=yes:Never"]}, {}, ["'gpu=yes:Never' has effect 'Never'"]),
    ("nvidia", {"nvidia_node_taints": "nvidia.com/gpu=true:NoSchedule"}, {}, ["nvidia_node_taints must be null", "is a str"]),
    ("nvidia", {"nvidia_node_taints": ["kubernetes.io/" + "g" * 64 + ":NoSchedule"]}, {}, ["not a qualified name"]),
    ("nvidia", {"nvidia_reboot_allowed": "sometimes"}, {}, ["nvidia_reboot_allowed must be a boolean", "'sometimes'"]),
    ("nvidia", {"nvidia_toolkit": "enabled"}, {}, ["nvidia_toolkit must be a boolean", "'enabled'"]),
    ("nvidia", {"nvidia_toolkit_version": "latest"}, {}, ["nvidia_toolkit_version must be a Debian package version"]),
    ("nvidia", {"nvidia_device_plugin_image": "NVCR.io/Nvidia/plugin:v1"}, {}, ["nvidia_device_plugin_image must be an image"]),
    ("nvidia", {"nvidia_debian_mirror": "deb.debian.org/debian"}, {},
     ["nvidia_debian_mirror 'deb.debian.org/debian'", "no scheme"]),
    ("nvidia", {"nvidia_toolkit_repo_key_url": "http://nvidia.github.io/gpgkey"}, {},
     ["nvidia_toolkit_repo_key_url", "has scheme http, expected https://"]),
    ("nvidia", {"nvidia_mok_key": "mok.key", "nvidia_mok_cert": "mok.crt"}, {}, ["nvidia_mok_key ('mok.key')"]),
    ("nvidia", {"nvidia_toolkit_source": "ppa"}, {}, ["nvidia_toolkit_source must be empty, repo, debs or bundle", "'ppa'"]),
    ("nvidia", {}, {"toolkit_source": "debs"}, ["nvidia_toolkit_debs_dir, a directory on the control node (is '')"]),
    ("nvidia", {}, {"stack_airgap": True}, ["stack_airgap the repository is not reachable"]),
    ("nvidia", {"nvidia_model_files": ["x.bin"]}, {}, ["nvidia_model_files[0] is a str"]),
    ("nvidia", {"nvidia_model_files": [{"dest": "/abs", "bundle": "x"}]}, {}, ["(dest '/abs')", "without '..'"]),
    ("nvidia", {"nvidia_model_files": [{"dest": "m"}]}, {}, ["exactly one of bundle"]),
    ("nvidia", {"nvidia_model_files": [{"dest": "m", "url": "https://x/m", "sha256": "ABC"}]}, {},
     ["sha256 (64 lowercase hex digits; required with url), found 'ABC'"]),
    ("nvidia", {"nvidia_model_files": [{"dest": "m", "bundle": "m", "mode": "0644"}]}, {}, ["unknown keys mode"]),
    # bundle
    ("bundle", {"bundle_helm_version": "4.3.0"}, {}, ["bundle_helm_version is \"4.3.0\"", "v4.3.0"]),
    ("bundle", {"bundle_k3s_version": "latest"}, {}, ["bundle_k3s_version is \"latest\""]),
    ("bundle", {"bundle_os_targets": [{"name": "debian-13"}, {"name": "debian-13"}]}, {},
     ["bundle_os_targets has a target named \"debian-13\"", "unique"]),
    ("bundle", {"bundle_os_targets": [{"name": "debian-13", "packages": []}]}, {}, ["debian-13 has packages: []"]),
    ("bundle", {"bundle_files": [{"url": "https://x/a", "dest": "a", "sha256": "xyz"}]}, {}, ["sha256 \"xyz\""]),
    ("bundle", {"bundle_files": [{"url": "u1", "dest": "a"}, {"url": "u2", "dest": "a"}]}, {}, ["bundle_files entry u1"]),
    ("bundle", {"bundle_pack_part_size": "2GB"}, {}, ["bundle_pack_part_size is \"2GB\""]),
    # airgap
    ("airgap", {"airgap_host_bundle_dir": "/var/lib/bundle/"}, {}, ["airgap_host_bundle_dir", "\"/var/lib/bundle/\""]),
    ("airgap", {}, {"os_id": "ubuntu-24"}, ["has no apt repository for ubuntu-24", "bundle_os_targets"]),
    # platform: scalars and lists
    ("platform", {"platform_kubeconfig": "k3s.yaml"}, {}, ["platform_kubeconfig must be an absolute path", "'k3s.yaml'"]),
    ("platform", {"platform_work_dir": "/var/lib/my dir"}, {}, ["platform_work_dir", "without spaces"]),
    ("platform", {"platform_backup_timeout": 0}, {}, ["platform_backup_timeout must be seconds > 0"]),
    ("platform", {"platform_helm_url": "https://get.helm.sh/helm.zip"}, {}, ["platform_helm_url", "helm.zip"]),
    ("platform", {"platform_secrets": {"name": "x"}}, {}, ["platform_secrets must be a list", "found dict"]),
    ("platform", {"platform_namespaces": [{"name": "Apps"}]}, {}, ["platform_namespaces[0]", "found name 'Apps'"]),
    ("platform", {"platform_namespaces": [{"name": "ai", "labels": {"team": "a b"}}]}, {},
     ["platform_namespaces[0] ('ai') labels", "'team' has value 'a b'"]),
    ("platform", {"platform_namespaces": [{"name": "ai", "annotations": {"Bad Key": "x"}}]}, {},
     ["platform_namespaces[0] ('ai') annotations", "key 'Bad Key' is not a qualified name"]),
    ("platform", {"platform_database_host": "postgresql://db1"}, {}, ["platform_database_host 'postgresql://db1'"]),
    ("platform", {"platform_database_host": "[fd00::5]"}, {}, ["platform_database_host '[fd00::5]' is a bracketed"]),
    ("platform", {"platform_redis_host": "cache1:6379"}, {}, ["platform_redis_host 'cache1:6379'"]),
]
REL = {"name": "align", "namespace": "align", "chart": "oci://reg.site:5000/charts/align", "version": "1.4.0"}
SEC = {"name": "s", "namespace": "ns"}
RULES += [
    # platform releases
    ("platform", {"platform_releases": ["align"]}, {}, ["platform_releases[0]: is a str"]),
    ("platform", {"platform_releases": [dict(REL, foo=1)]}, {}, ["('align'): unknown keys foo"]),
    ("platform", {"platform_releases": [dict(REL, name="a" * 54)]}, {}, ["at most 53 characters"]),
    ("platform", {"platform_releases": [dict(REL, namespace="a_b")]}, {}, ["namespace 'a_b' is not a DNS-1123 label"]),
    ("platform", {"platform_releases": [dict(REL, version="one")]}, {}, ["version 'one' is not a chart version"]),
    ("platform", {"platform_releases": [dict(REL, chart="oci://reg/Charts/x")]}, {}, ["is not an OCI reference"]),
    ("platform", {"platform_releases": [dict(REL, version="")]}, {}, ["OCI reference without a version"]),
    ("platform", {"platform_releases": [dict(REL, chart="")]}, {}, ["chart is missing"]),
    ("platform", {"platform_releases": [dict(REL, chart="https://x/a.tgz")]}, {}, ["is a URL"]),
    ("platform", {"platform_releases": [dict(REL, chart="roles")]}, {}, ["has no Chart.yaml"]),
    ("platform", {"platform_releases": [dict(REL, chart="examples/charts/onprem-demo", version="9.9.9")]}, {},
     ["version '9.9.9' differs from the version of the chart in"]),
    ("platform", {"platform_releases": [dict(REL, chart="README.md")]}, {}, ["is a file but not a chart archive"]),
    ("platform", {"platform_releases": [dict(REL, chart="charts/none.tgz")]}, {}, ["does not exist on the control node"]),
    ("platform", {"platform_releases": [dict(REL, values=["a=1"])]}, {}, ["values is a list, expected a mapping"]),
    ("platform", {"platform_releases": [dict(REL, values_files="v.yml")]}, {}, ["values_files is a str"]),
    ("platform", {"platform_releases": [dict(REL, values_files=["v.yml"])]}, {}, ["values_files[0] 'v.yml' does not exist"]),
    ("platform", {"platform_releases": [dict(REL, set_values=[{"value": "a=1", "value_type": "yaml"}])]}, {},
     ["set_values[0] must be {value"]),
    ("platform", {"platform_releases": [dict(REL, timeout="1h")]}, {}, ["timeout '1h' must be seconds > 0"]),
    ("platform", {"platform_releases": [dict(REL, databases=["appdb"])]}, {"pg_host": ""}, ["group postgres is empty"]),
    ("platform", {"platform_releases": [dict(REL, databases=["other"])]}, {}, ["databases other are not in", "of db1 (appdb)"]),
    ("platform", {"platform_releases": [dict(REL, databases=["appdb"])]}, {"pg_backup_enabled": False},
     ["postgresql_backup_enabled is false on db1"]),
    ("platform", {"platform_releases": [REL, REL]}, {}, ["release align/align appears more than once"]),
    # platform Secrets and their items
    ("platform", {"platform_secrets": [7]}, {}, ["platform_secrets[0]: is a int"]),
    ("platform", {"platform_secrets": [dict(SEC, kind="x", data={"k": {"value": "v"}})]}, {}, ["('s'): unknown keys kind"]),
    ("platform", {"platform_secrets": [dict(SEC, name="S", data={"k": {"value": "v"}})]}, {}, ["name 'S' is not a Secret name"]),
    ("platform", {"platform_secrets": [dict(SEC, namespace="n.s", data={"k": {"value": "v"}})]}, {},
     ["namespace 'n.s' is not a DNS-1123 label"]),
    ("platform", {"platform_secrets": [dict(SEC, type="kubernetes.io/tls", data={"k": {"value": "v"}})]}, {},
     ["TLS Secrets go into platform_tls"]),
    ("platform", {"platform_secrets": [SEC]}, {}, ["data must be a non-empty mapping", "found nothing"]),
    ("platform", {"platform_secrets": [dict(SEC, labels={"app.kubernetes.io/name": "x" * 64}, data={"k": {"value": "v"}})]},
     {}, ["('s'): labels: 'app.kubernetes.io/name' has value"]),
    ("platform", {"platform_secrets": [dict(SEC, labels=["a=b"], data={"k": {"value": "v"}})]}, {},
     ["('s'): labels is a list, expected a mapping"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"a b": {"value": "v"}})]}, {}, ["data 'a b': the key is not"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": "top-secret"})]}, {}, ["data 'k': is a str, expected {value"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"value": "v", "from": {"site_ca": True}}})]}, {},
     ["given both inline (value) and by reference (from site_ca)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"val": "v"}})]}, {}, ["has neither value nor from (found keys val)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"value": "v", "note": 1}})]}, {}, ["unknown keys note"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"value": ["v"]}})]}, {}, ["value is a list, expected a string"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"vault": "x"}}})]}, {}, ["found vault"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"site_ca": True, "x": 1}}})]}, {},
     ["unknown keys x beside site_ca"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"credential": "a/../b"}}})]}, {},
     ["credential 'a/../b' must be <scope>/<service>/<name>"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"credential": "a/b/c", "length": 4}}})]}, {},
     ["length '4' must be 8 to 1024"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_url": {"user": "app"}}}})]}, {},
     ["database_url must be a mapping with database and user"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_password": {"user": "app", "db": 1}}}})]},
     {}, ["database_password: unknown keys db (allowed: user)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_password": {"user": "app"}}}})]},
     {"pg_host": ""}, ["database_password needs a PostgreSQL host"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_password": {"user": "bob"}}}})]}, {},
     ["database_password user 'bob' is not in postgresql_users of db1 (app)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_url": {"user": "app", "database": "x"}}}})]},
     {}, ["database_url database 'x' is not in postgresql_databases of db1 (appdb)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_url": {
        "user": "app", "database": "appdb", "sslmode": "prefer"}}}})]}, {}, ["sslmode 'prefer' must be require"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_url": {
        "user": "app", "database": "appdb", "scheme": "Postgres SQL"}}}})]}, {}, ["scheme 'Postgres SQL' is not a URL scheme"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"database_url": {
        "user": "app", "database": "appdb", "params": "a=b"}}}})]}, {}, ["params must be a mapping"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"redis_url": "app"}}})]}, {},
     ["redis_url must be a mapping with user"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"redis_password": {"user": "app", "db": 0}}}})]},
     {}, ["redis_password: unknown keys db"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"redis_url": {"user": "app"}}}})]},
     {"redis_host": ""}, ["redis_url needs a Redis host"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"redis_url": {"user": "bob"}}}})]}, {},
     ["redis_url user 'bob' is not in redis_acl_users of cache1 (app)"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"redis_url": {"user": "app", "db": "x"}}}})]}, {},
     ["redis_url db 'x' must be a database number"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"site_ca": "yes"}}})]}, {}, ["site_ca must be true"]),
    ("platform", {"platform_secrets": [dict(SEC, data={"k": {"from": {"file": "no/such.txt"}}})]}, {},
     ["file 'no/such.txt' does not exist on the control node"]),
    # platform TLS
    ("platform", {"platform_tls": ["x"]}, {}, ["platform_tls[0]: is a str, expected a mapping with secret and hosts"]),
    ("platform", {"platform_tls": [{"secret": "t", "namespace": "n", "hosts": ["a.b"], "ttl": 1}]}, {},
     ["platform_tls[0] ('t'): unknown keys ttl"]),
    ("platform", {"platform_tls": [{"secret": "T", "namespace": "n", "hosts": ["a.b"]}]}, {}, ["secret 'T' is not a Secret name"]),
    ("platform", {"platform_tls": [{"secret": "t", "hosts": ["a.b"]}]}, {}, ["namespace '' is not a DNS-1123 label"]),
    ("platform", {"platform_tls": [{"secret": "t", "namespace": "n", "hosts": "a.b"}]}, {}, ["hosts must be a non-empty list"]),
    ("platform", {"platform_tls": [{"secret": "t", "namespace": "n", "hosts": ["a..b"]}]}, {}, ["hosts a..b are not DNS names"]),
    ("platform", {"platform_tls": [{"secret": "t", "namespace": "n", "hosts": ["a.b"], "key": "k.pem"}]}, {},
     ["cert ('') and key ('k.pem') must be given together"]),
    ("platform", {"platform_tls": [{"secret": "t", "namespace": "n", "hosts": ["a.b"], "key": "k.pem", "cert": "c.pem"}]},
     {}, ["must be existing PEM files on the control node"]),
    ("platform", {"platform_releases": [dict(REL, tls=[{"secret": "t", "hosts": ["x_y"]}])]}, {},
     ["platform_releases[0].tls[0] ('t'): hosts x_y"]),
    ("platform", {"platform_secrets": [{"name": "t", "namespace": "n", "data": {"k": {"value": "v"}}}],
                  "platform_tls": [{"secret": "t", "namespace": "n", "hosts": ["a.b"]}]}, {},
     ["Secret n/t (namespace/name) is defined more than once"]),
    # platform: the site CA ConfigMap and Secret
    ("platform", {"platform_site_ca_name": "Site_CA"}, {}, ["platform_site_ca_name 'Site_CA' is not a ConfigMap"]),
    ("platform", {"platform_site_ca_name": "a" * 254}, {}, ["platform_site_ca_name 'aaa", "at most 253"]),
    ("platform", {"platform_site_ca_name": ["site-ca"]}, {}, ["platform_site_ca_name '['site-ca']' is not"]),
    ("platform", {"platform_site_ca_objects": "sometimes"}, {}, ["platform_site_ca_objects must be a boolean",
                                                                 "'sometimes'"]),
    ("platform", {"platform_secrets": [dict(SEC, name="site-ca", data={"k": {"value": "v"}})]}, {},
     ["platform_site_ca_name 'site-ca' is also the name of platform_secrets[0] (ns/site-ca)"]),
    ("platform", {"platform_site_ca_name": "trust", "platform_releases": [dict(REL, tls=[{"secret": "trust",
                                                                                         "hosts": ["a.b"]}])]}, {},
     ["'trust' is also the name of platform_releases[0].tls[0] (align/trust)"]),
]


@pytest.mark.parametrize("role,params,context,words", RULES,
                         ids=[f"{r[0]}-{i}-{r[3][0][:40]}" for i, r in enumerate(RULES)])
def test_rule(role: str, params: dict, context: dict, words: list, tmp_path: Path) -> None:
    found = run(role, params, context, tmp_path)
    assert any(all(w in p for w in words) for p in found), f"{words} not in one of {found}"


def test_problems_cite_a_source_and_hide_secrets(tmp_path: Path) -> None:
    found = run("k3s", {"k3s_token": "short-secret"}, {}, tmp_path)
    found += run("platform", {"platform_secrets": [dict(SEC, data={"k": {"value": "top-secret", "from": {}}})]},
                 {}, tmp_path)
    assert found and all("[rule: " in p for p in found)
    assert not [p for p in found if "short-secret" in p or "top-secret" in p]


def test_every_problem_names_its_variable() -> None:
    problems = redis.validate(dict(_defaults("redis"), redis_port=0, redis_save=["x"]), CONTEXT["redis"])
    assert [p.var for p in problems] == ["redis_save", "redis_port"]
    assert all(p.var in p.message and p.source for p in problems)


# Shared parsers.
@pytest.mark.parametrize("value,label,subdomain", [
    ("a", True, True), ("a-b", True, True), ("a.b", False, True), ("-a", False, False), ("A", False, False),
    ("a" * 63, True, True), ("a" * 64, False, True), (5, False, False), ("", False, False),
])
def test_dns1123(value, label, subdomain) -> None:
    assert c.is_dns1123_label(value) is label
    assert c.is_dns1123_subdomain(value) is subdomain


@pytest.mark.parametrize("value,want", [
    ("nvidia.com/gpu=true:NoSchedule", ("nvidia.com/gpu", "true", "NoSchedule")),
    ("dedicated:PreferNoSchedule", ("dedicated", "", "PreferNoSchedule")),
    ("gpu", None), ("a=b:Never", None), ("a=b c:NoExecute", None), (None, None),
    ("node-role.kubernetes.io/control-plane:NoSchedule", ("node-role.kubernetes.io/control-plane", "", "NoSchedule")),
    ("Example.com/a:NoSchedule", None), ("a=" + "v" * 64 + ":NoSchedule", None), (":NoSchedule", None),
])
def test_parse_taint(value, want) -> None:
    assert kube.parse_k8s_taint(value) == want


@pytest.mark.parametrize("value,want", [
    ("node-type=gpu", ("node-type", "gpu")), ("a=", ("a", "")), ("a", None), ("a=b=c", None),
    ("example.com/team=ai", ("example.com/team", "ai")), ("node.kubernetes.io/pool=gpu", ("node.kubernetes.io/pool", "gpu")),
    ("topology.kubernetes.io/zone=z1", ("topology.kubernetes.io/zone", "z1")),
    ("node-role.kubernetes.io/worker=", None), ("x.k8s.io/a=b", None), ("a=" + "b" * 63, ("a", "b" * 63)),
    ("a=" + "b" * 64, None), ("a_=b", None), ("=b", None), ("a=b.", None),
])
def test_parse_label(value, want) -> None:
    assert kube.parse_k8s_label(value) == want


@pytest.mark.parametrize("value,units,want", [
    ("512MB", ("kB", "MB"), True), (512, ("",), True), ("512mb", ("MB",), False), ("MB", ("MB",), False),
    (True, ("",), False), ("2G", ("", "K", "M", "G"), True),
])
def test_is_size(value, units, want) -> None:
    assert c.is_size(value, units) is want


@pytest.mark.parametrize("value,cidr,address", [
    ("10.0.0.0/8", True, False), ("10.0.0.1", False, True), ("fd00::/8", True, False), ("::1", False, True),
    ("10.0.256.0/24", False, False), ("10.0.0.0/33", False, False), (None, False, False),
])
def test_networks(value, cidr, address) -> None:
    assert net.is_cidr(value) is cidr
    assert net.is_ip_address(value) is address


@pytest.mark.parametrize("value,want", [(1, True), ("65535", True), (0, False), (65536, False), ("80a", False),
                                        (True, False), (-1, False)])
def test_is_port(value, want) -> None:
    assert c.is_port(value) is want


@pytest.mark.parametrize("value,host_port,server_url", [
    ("reg.site:5000", True, False), ("reg.site", True, False), ("[fd00::1]:5000", True, False),
    ("reg site", False, False), ("https://10.0.0.1:6443", False, True), ("https://a/", False, True),
    ("http://a:6443", False, False), ("https://[fd00::1]:6443", False, True), ("https://[fd00::1]", False, True),
    ("https://fd00::1:6443", False, False), ("https://fd00::1", False, False), ("https://[10.0.0.1]:6443", False, False),
    ("https://a:0", False, False), ("https://a:6443/x", False, False),
])
def test_addresses(value, host_port, server_url) -> None:
    assert net.is_host_port(value) is host_port
    assert net.is_https_server_url(value) is server_url


def test_helpers() -> None:
    assert c.duplicates(["a", "b", "a", "a", "b"]) == ["a", "b"]
    assert c.unknown_keys({"a": 1, "z": 2}, ["a"]) == ["z"]
    assert c.escapes("a/../b") and not c.escapes("a/..b")
    assert c.control_path("x.yml", "/inv") == "/inv/x.yml" and c.control_path("/x", "/inv") == "/x"
    assert [c.type_name(v) for v in ("s", 1, True, None, {}, [])] == ["str", "int", "bool", "null", "dict", "list"]
    assert c.as_bool("yes") is True and c.as_bool("maybe", default=False) is False
    assert c.uint("12") == 12 and c.uint("-1") is None and c.to_int("x") == 0
    assert c.CHART_VERSION_RE.match("1.4.0") and c.CHART_VERSION_RE.match("v1.2.3-rc.1")
    assert c.OCI_CHART_RE.match("oci://reg.site:5000/charts/align") and not c.OCI_CHART_RE.match("oci://r/a:1")


@pytest.mark.parametrize("value,words", [
    ("https://fd00::1:6443", ["host 'fd00::1:6443', an IPv6 address without brackets", "https://[fd00::1:6443]:port"]),
    ("https://fd00::1", ["an IPv6 address without brackets"]),
    ("fd00::1", ["is not scheme://host"]),
    ("https://[fd00::1]:6443/", []), ("https://10.0.0.1:6443", []), ("https://api.site", []),
])
def test_server_url_messages(value, words) -> None:
    """An IPv6 server URL passes bracketed and is refused bare, with a message that says so."""
    problem = net.https_server_url_problem(value)
    assert (problem == "") is (not words)
    assert all(w in problem for w in words), problem


@pytest.mark.parametrize("value,brackets,want", [
    ("fd00::1", False, ""), ("fd00::1", True, "is an IPv6 address without brackets; write [fd00::1]"),
    ("[fd00::1]", True, ""), ("[fd00::1]", False, "is a bracketed address"), ("db.site", False, ""),
    ("10.0.0.1", True, ""), ("db_1", False, "is not a host name or IP address"), ("", False, "is empty"),
])
def test_host_problem(value, brackets, want) -> None:
    assert net.host_problem(value, brackets) == want or (want and net.host_problem(value, brackets).startswith(want))


@pytest.mark.parametrize("value,ok", [
    ("max-pods=200", True), ("--max-pods=200", True), ("eviction-hard=memory.available<5%", True),
    ("feature-gates+=A=true", True), ("tls-cipher-suites-=X", True), ("rotate-server-certificates", True),
    ("--v=2", True), ("-v=2", False), ("max pods=1", False), ("Max-Pods=1", False), ("=1", False), ("", False),
    ("a=b\nc=d", False), (5, False),
])
def test_component_arg(value, ok) -> None:
    """k3s passes [--]name[+|-][=value] on as --name=value (k3s-io/k3s pkg/util/args.go GetArgs)."""
    assert (kube.component_arg_problem(value) == "") is ok


def test_booleans_and_good_addresses() -> None:
    """Strict Ansible booleans; dual-stack node-ip, a bracketed IPv6 server URL and bare IPv6 hosts are accepted."""
    assert c.bool_problems({"a": "yes", "b": 0, "c": "maybe", "d": None, "e": "True"}, ["a", "b", "c", "d", "e", "z"]) \
        == ["c", "d"]
    assert run("k3s", {"k3s_node_ip": "10.0.0.5,fd00::5", "k3s_api_endpoint": "fd00::1",
                       "k3s_kubelet_args": ["--max-pods=200", "eviction-hard=memory.available<5%"],
                       "k3s_node_labels": ["node.kubernetes.io/pool=gpu", "example.com/team=ai"],
                       "k3s_extra_config": {"kube-apiserver-arg": ["--audit-log-maxage=30"]}},
               {"is_first": False, "url": "https://[fd00::1]:6443"}) == []
    assert run("k3s", {"k3s_registry_user": "onprem"},
               {"registry": "reg.site:5000", "registry_host": "reg1", "registry_users": [{"name": "onprem"}]}) == []
    assert run("k3s", {"k3s_registry_user": "ci", "k3s_registry_password": "given-password"},
               {"registry": "reg.site:5000", "registry_host": "reg1", "registry_users": [{"name": "onprem"}]}) == []
    assert run("platform", {"platform_database_host": "fd00::5", "platform_redis_host": "cache.site",
                            "platform_namespaces": [{"name": "ai", "labels": {"team": "ai", "n": 1},
                                                     "annotations": {"example.com/note": "any text"}}]}) == []
    assert run("platform", {"platform_site_ca_objects": False,
                            "platform_secrets": [dict(SEC, name="site-ca", data={"k": {"value": "v"}})]}) == []
    assert run("platform", {"platform_site_ca_name": "trust.example.com", "platform_site_ca_objects": "yes"}) == []
    assert run("nvidia", {"nvidia_node_taints": [], "nvidia_toolkit_version": "1:1.17.8-1~deb13"}) == []


@pytest.mark.parametrize("role", ["k3s", "nvidia", "platform"])
def test_every_variable_names_its_rule_and_source(role) -> None:
    """docs/inventory.md's "Input checks" table (VARIABLE_RULES) has exactly the role's public variables,
    each with a rule and an upstream or contract source."""
    module = __import__("ansible_collections.onprem.stack.plugins.module_utils._validate." + role, fromlist=["x"])
    assert sorted(module.VARIABLE_RULES) == sorted(_defaults_raw(role))
    assert all(rule and source for rule, source in module.VARIABLE_RULES.values())

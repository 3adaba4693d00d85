"""What the k3s role leaves on a first server, a joining server and an agent (k3s not started).

The scenario installs a stand-in release (prepare.yml: files with the real names and a
sha256 list in the release's format) because the real k3s cannot run on the CI host; so
these tests read files, modes and unit state, and check the units with systemd-analyze.
"""
import hashlib
import os
import pathlib

import pytest
import yaml

import onprem_verify

testinfra_hosts = onprem_verify.hosts("k3s_server") + onprem_verify.hosts("k3s_agent")

CONF = "/etc/rancher/k3s"
FIRST = "k3s-s1-d12"
AGENT = "k3s-a1-d13"
MIRRORED = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "nvcr.io"]


def _name(host):
    return onprem_verify.inventory_name(host)


def _server(host):
    return _name(host) != AGENT


def _config(host):
    return yaml.safe_load(host.file(CONF + "/config.yaml").content_string)


def test_modes(host):
    """config.yaml, token files and registries.yaml are root 0600; units 0644; the binary 0755."""
    secret = [CONF + "/config.yaml", CONF + "/token", CONF + "/registries.yaml"]
    if _server(host):
        secret.append(CONF + "/agent-token")
    for path in secret:
        assert onprem_verify.owner_mode(host, path) == ("root", "root", "0600"), path
    unit = "/etc/systemd/system/" + ("k3s.service" if _server(host) else "k3s-agent.service")
    assert onprem_verify.owner_mode(host, unit) == ("root", "root", "0644")
    assert onprem_verify.owner_mode(host, "/usr/local/bin/k3s") == ("root", "root", "0755")
    assert onprem_verify.owner_mode(host, "/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst") \
        == ("root", "root", "0644")


def test_binary_is_the_checked_release_file(host):
    """The installed binary is the release file whose sha256 the list gives."""
    release = pathlib.Path(os.environ.get("K3S_ARTIFACTS_DIR") or pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "k3s-release")
    listed = dict(line.split()[::-1] for line in (release / "sha256sum-amd64.txt").read_text().splitlines())
    assert host.file("/usr/local/bin/k3s").sha256sum == listed["k3s"]


def test_tokens(host):
    """Servers hold the server token and the agent token, agents only the agent token (as their token)."""
    server_token = onprem_verify.credential("site", "k3s", "token")
    agent_token = onprem_verify.credential("site", "k3s", "agent-token")
    assert len(server_token) >= 32 and len(agent_token) >= 32 and server_token != agent_token
    token = host.file(CONF + "/token").content_string.strip()
    if _server(host):
        assert token == server_token
        assert host.file(CONF + "/agent-token").content_string.strip() == agent_token
    else:
        assert token == agent_token
        assert not host.file(CONF + "/agent-token").exists


def test_config(host):
    """First server: cluster-init; joining server and agent: server URL of the first; token by file, never inline."""
    config = _config(host)
    assert config["token-file"] == CONF + "/token"
    assert "token" not in config and "agent-token" not in config
    assert config["disable-default-registry-endpoint"] is True
    if _name(host) == FIRST:
        assert config["cluster-init"] is True and "server" not in config
    else:
        assert config["server"] == "https://%s:6443" % FIRST and "cluster-init" not in config
    if _server(host):
        assert config["agent-token-file"] == CONF + "/agent-token"
        assert config["disable"] == ["traefik"] and config["secrets-encryption"] is True
        assert config["cluster-cidr"] == "10.42.0.0/16" and config["service-cidr"] == "10.43.0.0/16"
        assert "k3s-api.site.test" in config["tls-san"]
    else:
        assert config["node-label"] == ["node-type=gpu"]
        assert config["node-taint"] == ["nvidia.com/gpu=true:NoSchedule"]
        assert config["kubelet-arg"] == ["max-pods=150"]
        assert "cluster-cidr" not in config and "agent-token-file" not in config


def test_registries(host):
    """Every public registry mirrors to the site registry, which has the site CA and the generated pull user."""
    registries = yaml.safe_load(host.file(CONF + "/registries.yaml").content_string)
    for name in MIRRORED:
        assert registries["mirrors"][name]["endpoint"] == ["https://registry.site.test:5000"], name
    site = registries["configs"]["registry.site.test:5000"]
    assert site["tls"]["ca_file"] == CONF + "/site-ca.crt"
    assert site["auth"] == {"username": "onprem", "password": onprem_verify.credential("site", "registry", "onprem")}
    ca = host.file(CONF + "/site-ca.crt").content_string
    assert hashlib.sha256(ca.encode()).hexdigest() == hashlib.sha256(onprem_verify.site_ca().read_bytes()).hexdigest()


def test_units_verify_and_stay_stopped(host):
    """systemd-analyze verify accepts the unit; with k3s_start false (no K3S_ARTIFACTS_DIR) it is neither
    enabled nor running, with a real release it is both."""
    unit = "k3s.service" if _server(host) else "k3s-agent.service"
    result = host.run("systemd-analyze verify /etc/systemd/system/%s", unit)
    assert result.rc == 0, result.stderr
    assert "ExecStart=/usr/local/bin/k3s %s" % ("server" if _server(host) else "agent") \
        in host.file("/etc/systemd/system/" + unit).content_string
    started = bool(os.environ.get("K3S_ARTIFACTS_DIR"))
    assert host.service(unit).is_enabled == started
    assert host.service(unit).is_running == started


def test_proxy_environment(host):
    """The agent (k3s_proxy set) has its unit's environment file 0600 with the proxy and a NO_PROXY that keeps
    cluster, servers and registry off the proxy; the unit reads it; the servers (no proxy) have none."""
    unit = "k3s.service" if _server(host) else "k3s-agent.service"
    env_file = "/etc/systemd/system/%s.env" % unit
    assert "EnvironmentFile=-%s" % env_file in host.file("/etc/systemd/system/" + unit).content_string
    if _server(host):
        assert not host.file(env_file).exists
        return
    assert onprem_verify.owner_mode(host, env_file) == ("root", "root", "0600")
    values = dict(line.split("=", 1) for line in host.file(env_file).content_string.splitlines()
                  if line and not line.startswith("#"))
    assert values["HTTPS_PROXY"] == "http://k3s:proxy-pw@proxy.site.test:3128"
    no_proxy = values["NO_PROXY"].split(",")
    for entry in ["localhost", "127.0.0.0/8", "10.42.0.0/16", "10.43.0.0/16", ".svc", ".cluster.local",
                  FIRST, "k3s-api.site.test", "registry.site.test", ".site.test"]:
        assert entry in no_proxy, (entry, no_proxy)


@pytest.mark.parametrize("path", ["/etc/sysctl.d/90-k3s.conf", "/etc/modules-load.d/k3s.conf"])
def test_kernel_settings(host, path):
    """Sysctls and modules k3s needs are configured (modules built into the kernel are tolerated)."""
    assert host.file(path).exists
    assert host.sysctl("net.ipv4.ip_forward") == 1

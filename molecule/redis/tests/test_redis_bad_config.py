"""A redis.conf value that redis-server refuses is caught before Redis is restarted.

The scenario's converge playbook runs again with ``redis_settings: {not-a-redis-directive: "yes"}``: it must fail
naming the directive, leave redis.conf as it was and Redis serving the ACL user.
"""

import json

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("redis")


@pytest.fixture(scope="module")
def attempt():
    """Checksums of redis.conf on every redis host, then the failing converge.

    Returns ``{"before": {host name: sha256 of redis.conf}, "result": subprocess.CompletedProcess}``.
    """
    names = onprem_verify.host_names("redis")
    before = {name: onprem_verify.get_host(name).file("/etc/redis/redis.conf").sha256sum for name in names}
    result = onprem_verify.ansible_playbook("converge.yml", "-e", json.dumps({"redis_settings": {"not-a-redis-directive": "yes"}}))
    return {"before": before, "result": result}


def test_converge_fails_naming_the_directive(attempt):
    """ansible-playbook fails and its output names the refused directive."""
    result = attempt["result"]
    assert result.returncode != 0, result.stdout[-3000:]
    assert "not-a-redis-directive" in result.stdout, result.stdout[-3000:]


def test_redis_conf_unchanged(host, client, attempt):
    """The installed redis.conf is the one from before the attempt."""
    assert host.file("/etc/redis/redis.conf").sha256sum == attempt["before"][client.name]


def test_still_serving_the_acl_user(host, client, attempt):
    """Redis still runs and answers app (AUTH, then PING)."""
    assert host.service("redis-server.service").is_running
    result = client.redis_cli(client.name, "PING")
    assert result.stdout.strip() == "PONG", result.stderr

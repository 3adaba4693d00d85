"""Redis on Debian 12 and 13 (group ``redis``): host state, and the ACL user ``app`` over the network.

Each host is its own client: ``redis-cli`` to the host's network address (``redis_bind: [0.0.0.0]``) with the
password generated on the control node, given to redis-cli through ``REDISCLI_AUTH`` (never on its command line).
Expected values follow molecule/redis/molecule.yml.
"""

import hashlib

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("redis")


@pytest.fixture(scope="module")
def cli(client):
    """``cli(*words, user="app")``: ``Client.redis_cli`` against the host itself."""
    return lambda *words, user="app": client.redis_cli(client.name, *words, user=user)


@pytest.mark.parametrize("name", onprem_verify.REDIS_PACKAGES)
def test_package_installed(host, name):
    """The server and redis-cli are installed."""
    assert host.package(name).is_installed


def test_service_enabled_and_running(host):
    """redis-server.service is enabled and active."""
    service = host.service("redis-server.service")
    assert service.is_enabled
    assert service.is_running


@pytest.mark.parametrize("path, user, group, mode", onprem_verify.REDIS_FILES)
def test_file_owner_and_mode(host, path, user, group, mode):
    """Configuration and ACL files (password hashes) exist with their owner, group and mode."""
    assert onprem_verify.owner_mode(host, path) == (user, group, mode)


def test_redis_conf_from_the_inventory(host):
    """redis.conf carries the scenario's bind, protected mode, ACL file, persistence and memory settings."""
    lines = set(host.file("/etc/redis/redis.conf").content_string.splitlines())
    expected = {"bind 0.0.0.0", "protected-mode yes", "port 6379", "aclfile /etc/redis/users.acl", "appendonly yes",
                "maxmemory 128mb", "maxmemory-policy noeviction"}
    assert expected <= lines, sorted(expected - lines)


def test_acl_file_holds_only_hashes(client):
    """users.acl has app's password as its sha256 only, and the default user is off."""
    content = client.host.file("/etc/redis/users.acl").content_string
    secret = onprem_verify.credential(client.name, "redis", "app")
    plaintext = secret in content
    assert not plaintext, "users.acl holds app's password in plain text"
    hashed = ("#" + hashlib.sha256(secret.encode()).hexdigest()) in content
    assert hashed, "users.acl has no sha256 of app's password from the control node"
    assert "user default off" in content


def test_listening_socket(host):
    """Redis listens on every IPv4 address, port 6379, and not on IPv6 (redis_bind: [0.0.0.0])."""
    assert host.socket("tcp://0.0.0.0:6379").is_listening
    assert not host.socket("tcp://:::6379").is_listening


def test_set_and_get_as_the_acl_user(cli):
    """AUTH as app, SET then GET a key in its pattern."""
    assert cli("SET", "app:greeting", "hello").stdout.strip() == "OK"
    assert cli("GET", "app:greeting").stdout.strip() == "hello"


def test_dangerous_command_is_refused(cli):
    """FLUSHALL (@dangerous) is outside app's rules."""
    result = cli("FLUSHALL")
    assert "NOPERM" in result.stdout + result.stderr


def test_key_outside_the_pattern_is_refused(cli):
    """A key outside ~app:* is refused."""
    result = cli("SET", "other:key", "x")
    assert "NOPERM" in result.stdout + result.stderr


def test_no_password_is_refused(cli):
    """Without AUTH the (disabled) default user cannot act."""
    result = cli("SET", "app:anon", "x", user=None)
    assert "NOAUTH" in result.stdout + result.stderr


def test_default_user_is_refused_with_any_password(cli):
    """The default user is off: any password is wrong."""
    result = cli("PING", user="default")
    assert "WRONGPASS" in result.stdout + result.stderr


def test_key_survives_a_restart(host, cli):
    """With rdb and aof persistence, the key is still there after redis-server restarts."""
    assert cli("SET", "app:persisted", "kept").stdout.strip() == "OK"
    host.check_output("systemctl restart redis-server.service")
    host.check_output("for i in $(seq 60); do redis-cli -p 6379 PING 2>&1 | grep -q NOAUTH && exit 0; sleep 0.5; done; exit 1")
    assert cli("GET", "app:persisted").stdout.strip() == "kept"

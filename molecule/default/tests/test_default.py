"""site.yml on one Debian 13 host (groups ``postgres`` and ``redis``): the data layer, seen from the host itself.

Host state (packages, units, files, sockets) from the roles' documented values; the client checks go to the
host's network address like a remote client: psql over TLS (verify-full, site CA) with a pgvector distance,
Redis AUTH as the ACL user ``app``. Expected values follow molecule/default/molecule.yml.
"""

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("all")


@pytest.mark.parametrize("name", onprem_verify.POSTGRESQL_PACKAGES + onprem_verify.REDIS_PACKAGES)
def test_package_installed(host, name):
    """PostgreSQL 17 with pgvector, the PostgreSQL client, Redis and redis-cli are installed."""
    assert host.package(name).is_installed


@pytest.mark.parametrize("unit", onprem_verify.POSTGRESQL_UNITS + ["redis-server.service"])
def test_unit_enabled_and_running(host, unit):
    """PostgreSQL, its backup timer and Redis are enabled and active."""
    service = host.service(unit)
    assert service.is_enabled
    assert service.is_running


@pytest.mark.parametrize("path, user, group, mode", onprem_verify.POSTGRESQL_FILES + onprem_verify.REDIS_FILES)
def test_file_owner_and_mode(host, path, user, group, mode):
    """Configuration, TLS, ACL and backup files exist with their owner, group and mode."""
    assert onprem_verify.owner_mode(host, path) == (user, group, mode)


@pytest.mark.parametrize("spec", ["tcp://0.0.0.0:5432", "tcp://0.0.0.0:6379", "unix:///var/run/postgresql/.s.PGSQL.5432"])
def test_listening_socket(host, spec):
    """PostgreSQL (client CIDRs set) and Redis (redis_bind 0.0.0.0) listen on every IPv4 address."""
    assert host.socket(spec).is_listening


def test_postgresql_client_network_is_hostssl_scram(host):
    """pg_hba.conf admits postgresql_client_cidrs (10.88.0.0/16) over TLS with scram-sha-256 only."""
    rules = [line.split() for line in host.file(onprem_verify.POSTGRESQL_CONF + "/pg_hba.conf").content_string.splitlines()]
    assert ["hostssl", "all", "all", "10.88.0.0/16", "scram-sha-256"] in rules


def test_pgvector_distance_over_tls(client):
    """psql as app over TLS (verify-full against the site CA): the L2 distance of two vectors."""
    result = client.psql(client.name, "SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_plain_tcp_is_refused(client):
    """Without TLS the network address matches no pg_hba.conf rule."""
    result = client.psql(client.name, "SELECT 1", sslmode="disable")
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr


def test_redis_auth_as_the_acl_user(client):
    """redis-cli AUTH as app (password from the control node), PING answers PONG."""
    result = client.redis_cli(client.name, "PING")
    assert result.stdout.strip() == "PONG", result.stderr


def test_redis_without_auth_is_refused(client):
    """The default user is off: without AUTH nothing is allowed."""
    result = client.redis_cli(client.name, "PING", user=None)
    assert "NOAUTH" in result.stdout + result.stderr

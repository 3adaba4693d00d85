"""PostgreSQL 17 + pgvector on the server (group ``postgres``): packages, units, files, sockets, backups.

Expected values follow the scenario's inventory (molecule/postgresql/molecule.yml) and the role's
documented defaults (roles/postgresql/defaults/main.yml).
"""

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("postgres")

CONF = onprem_verify.POSTGRESQL_CONF
BACKUPS = "/var/backups/postgresql/appdb"


def sql(host, query, database="appdb"):
    """Run ``query`` as the postgres superuser over the local socket (root maps to it); return stdout (str)."""
    return host.check_output("psql -U postgres -d %s -v ON_ERROR_STOP=1 -Atc %s", database, query)


@pytest.mark.parametrize("name", onprem_verify.POSTGRESQL_PACKAGES)
def test_package_installed(host, name):
    """The server, pgvector for it, the client and the driver Ansible's modules use are installed."""
    assert host.package(name).is_installed


def test_server_package_is_17(host):
    """The distribution's PostgreSQL 17 (Debian 13 ships pgvector for it)."""
    assert host.package("postgresql-17").version.startswith("17.")


@pytest.mark.parametrize("unit", onprem_verify.POSTGRESQL_UNITS)
def test_unit_enabled_and_running(host, unit):
    """The cluster's unit and the backup timer are enabled and active."""
    service = host.service(unit)
    assert service.is_enabled
    assert service.is_running


@pytest.mark.parametrize("path, user, group, mode", onprem_verify.POSTGRESQL_FILES)
def test_file_owner_and_mode(host, path, user, group, mode):
    """Configuration, TLS and backup files exist with their owner, group and mode."""
    assert onprem_verify.owner_mode(host, path) == (user, group, mode)


def test_pg_hba_rules(host):
    """Clients of 10.89.0.0/16 only over TLS with scram-sha-256; no network rule trusts or uses md5/password."""
    rules = [line.split() for line in host.file(CONF + "/pg_hba.conf").content_string.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert ["hostssl", "all", "all", "10.89.0.0/16", "scram-sha-256"] in rules
    network = [rule for rule in rules if rule[0] != "local"]
    assert network, "pg_hba.conf has no network rule"
    assert all(rule[4] == "scram-sha-256" for rule in network), network
    assert not [rule for rule in network if rule[0] == "host" and rule[3] not in ("127.0.0.1/32", "::1/128")], network


def test_listening_sockets(host):
    """PostgreSQL listens on every address (client CIDRs set) and on its local socket."""
    assert host.socket("tcp://0.0.0.0:5432").is_listening
    assert host.socket("unix:///var/run/postgresql/.s.PGSQL.5432").is_listening


def test_settings_from_the_inventory(host):
    """TLS on, scram-sha-256, and the tuning computed from postgresql_memory_mb 1024 (25% and 75%)."""
    values = sql(host, "SELECT current_setting('ssl'), current_setting('password_encryption'),"
                       " current_setting('shared_buffers'), current_setting('effective_cache_size')")
    assert values.split("|") == ["on", "scram-sha-256", "256MB", "768MB"]


def test_stored_passwords_are_scram(host):
    """Every stored password hash, app's included, is a SCRAM-SHA-256 verifier."""
    rows = sql(host, "SELECT rolname, left(rolpassword, 14) FROM pg_authid WHERE rolpassword IS NOT NULL ORDER BY rolname")
    hashes = dict(line.split("|") for line in rows.splitlines())
    assert "app" in hashes
    assert set(hashes.values()) == {"SCRAM-SHA-256$"}


def test_vector_extension_in_appdb(host):
    """appdb (owner app) has the vector extension."""
    assert sql(host, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'") == "app"
    assert sql(host, "SELECT extname FROM pg_extension WHERE extname = 'vector'") == "vector"


def test_backup_retention_and_restore(host):
    """Three runs of the backup service keep two dumps (retention 2); the newest restores with its vectors."""
    sql(host, "DROP TABLE IF EXISTS backupcheck; CREATE TABLE backupcheck (name text, embedding vector(3));"
              " INSERT INTO backupcheck VALUES ('near', '[1,1,1]'), ('far', '[9,9,9]')")
    host.check_output("for run in 1 2 3; do systemctl restart onprem-postgresql-backup.service || exit 1; done")
    dumps = sorted(host.check_output("find %s -maxdepth 1 -name 'appdb-*.dump' -printf '%%T@ %%p\\n'", BACKUPS).splitlines())
    assert len(dumps) == 2, dumps
    newest = dumps[-1].split(" ", 1)[1]
    assert onprem_verify.owner_mode(host, newest) == ("postgres", "postgres", "0600")
    host.check_output("dropdb -U postgres --if-exists restorecheck && createdb -U postgres restorecheck")
    try:
        host.check_output("pg_restore -U postgres --no-owner -d restorecheck %s", newest)
        assert sql(host, "SELECT name FROM backupcheck ORDER BY embedding <-> '[9,9,8]' LIMIT 1", database="restorecheck") == "far"
    finally:
        host.run("dropdb -U postgres --if-exists restorecheck")
        sql(host, "DROP TABLE IF EXISTS backupcheck")

"""The moved passwords and the supplied ones are the ones in effect, from a client's side."""
import base64
import ssl
import urllib.error
import urllib.request

import pytest

import onprem_verify

PG_SUPPLIED = "Supplied-PG-passw0rd"
REDIS_SUPPLIED = "Supplied-Redis-passw0rd"
REGISTRY_SUPPLIED = "Supplied-Registry-passw0rd"
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def _read(creds, rel):
    return (creds / rel).read_text(encoding="utf-8").rstrip("\n")


@pytest.fixture(scope="module")
def client(host_name):
    """The host itself as the client (``onprem_verify.Client``): generated passwords reach the programs from files
    copied to it, never on a command line; its staged files are removed afterwards."""
    staged = onprem_verify.Client(onprem_verify.get_host(host_name))
    yield staged
    staged.cleanup()


def _psql_supplied(client, host_name, password):
    """psql over TLS as ``vaulted`` with ``password`` (the scenario's supplied value, not a generated secret),
    staged in a file and given in PGPASSWORD (``Client.put_value``): never on a command line."""
    dsn = "host=%s dbname=appdb user=vaulted sslmode=verify-full sslrootcert=%s" % (
        onprem_verify.address(host_name), client.site_ca())
    return client.run("psql %s -Atc %s", dsn, SSL_QUERY, env_files={"PGPASSWORD": client.put_value(password, "pg-vaulted")})


def test_postgresql_generated_password_over_tls(client, host_name):
    res = client.psql(host_name, SSL_QUERY, user="app")
    assert res.rc == 0 and res.stdout.strip() == "t", res.stderr


def test_postgresql_supplied_password_over_tls(client, host_name):
    res = _psql_supplied(client, host_name, PG_SUPPLIED)
    assert res.rc == 0 and res.stdout.strip() == "t", res.stderr


def test_postgresql_refuses_a_wrong_password(client, host_name):
    res = _psql_supplied(client, host_name, "not-the-password")
    assert res.rc != 0 and "password authentication failed" in res.stderr


def _redis_ping(client, host_name, user, password=None):
    """PING as ``user``: with the generated password (from its staged file) when ``password`` is None, else with
    ``password`` staged in a file (``Client.put_value``); REDISCLI_AUTH either way, never a command line."""
    base = "redis-cli -h %s --no-auth-warning --user %s PING"
    staged = client.secret(host_name, "redis", user) if password is None else client.put_value(password, "redis-" + user)
    return client.run(base, onprem_verify.address(host_name), user, env_files={"REDISCLI_AUTH": staged})


def test_redis_moved_passwords(client, host_name):
    for user in ("app", "default"):
        res = _redis_ping(client, host_name, user)
        assert res.stdout.strip() == "PONG", f"{user}: {res.stdout} {res.stderr}"


def test_redis_supplied_password(client, host_name):
    assert _redis_ping(client, host_name, "vaulted", REDIS_SUPPLIED).stdout.strip() == "PONG"


def test_redis_refuses_a_wrong_password(client, host_name):
    res = _redis_ping(client, host_name, "vaulted", "not-the-password")
    assert "WRONGPASS" in res.stdout + res.stderr


def test_registry_htpasswd(client):
    htpasswd = "/etc/onprem-registry/htpasswd"
    res = client.run("htpasswd -v -i %s onprem < %s", htpasswd, client.secret("site", "registry", "onprem"))
    assert res.rc == 0, res.stderr
    assert client.run("htpasswd -v -i %s vaulted < %s", htpasswd, client.put_value(REGISTRY_SUPPLIED, "registry-vaulted")).rc == 0
    assert client.run("htpasswd -v -i %s vaulted < %s", htpasswd, client.put_value("not-the-password", "registry-wrong")).rc != 0


def _v2(ip, creds, user=None, password=None):
    """GET https://<ip>:5000/v2/ from the control node, trusting only the site CA."""
    context = ssl.create_default_context(cafile=str(creds / "pki" / "ca.crt"))
    request = urllib.request.Request(f"https://{ip}:5000/v2/")
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_registry_https_with_the_site_ca(ip, creds):
    assert _v2(ip, creds, "onprem", _read(creds, "site/registry/onprem")) == 200
    assert _v2(ip, creds, "vaulted", REGISTRY_SUPPLIED) == 200
    assert _v2(ip, creds, "vaulted", "not-the-password") == 401
    assert _v2(ip, creds) == 401

"""The moved passwords and the supplied ones are the ones in effect, from a client's side."""
import base64
import ssl
import urllib.error
import urllib.request

PG_SUPPLIED = "Supplied-PG-passw0rd"
REDIS_SUPPLIED = "Supplied-Redis-passw0rd"
REGISTRY_SUPPLIED = "Supplied-Registry-passw0rd"


def _read(creds, rel):
    return (creds / rel).read_text(encoding="utf-8").rstrip("\n")


def _psql(node, ip, ca, user, password):
    return node.run(
        "PGPASSWORD=%s psql %s -Atc %s", password,
        f"host={ip} dbname=appdb user={user} sslmode=verify-full sslrootcert={ca}",
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")


def test_postgresql_generated_password_over_tls(node, ip, site_ca, creds, host_name):
    res = _psql(node, ip, site_ca, "app", _read(creds, f"{host_name}/postgresql/app"))
    assert res.rc == 0 and res.stdout.strip() == "t", res.stderr


def test_postgresql_supplied_password_over_tls(node, ip, site_ca):
    res = _psql(node, ip, site_ca, "vaulted", PG_SUPPLIED)
    assert res.rc == 0 and res.stdout.strip() == "t", res.stderr


def test_postgresql_refuses_a_wrong_password(node, ip, site_ca):
    res = _psql(node, ip, site_ca, "vaulted", "not-the-password")
    assert res.rc != 0 and "password authentication failed" in res.stderr


def _redis(node, ip, user, password):
    return node.run("REDISCLI_AUTH=%s redis-cli -h %s --user %s PING", password, ip, user)


def test_redis_moved_passwords(node, ip, creds, host_name):
    for user in ("app", "default"):
        res = _redis(node, ip, user, _read(creds, f"{host_name}/redis/{user}"))
        assert res.stdout.strip() == "PONG", f"{user}: {res.stdout} {res.stderr}"


def test_redis_supplied_password(node, ip):
    assert _redis(node, ip, "vaulted", REDIS_SUPPLIED).stdout.strip() == "PONG"


def test_redis_refuses_a_wrong_password(node, ip):
    res = _redis(node, ip, "vaulted", "not-the-password")
    assert "WRONGPASS" in res.stdout + res.stderr


def test_registry_htpasswd(node, creds):
    for user, password in (("onprem", _read(creds, "site/registry/onprem")), ("vaulted", REGISTRY_SUPPLIED)):
        res = node.run("htpasswd -vb /etc/onprem-registry/htpasswd %s %s", user, password)
        assert res.rc == 0, f"{user}: {res.stderr}"
    assert node.run("htpasswd -vb /etc/onprem-registry/htpasswd %s %s", "vaulted", "not-the-password").rc != 0


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

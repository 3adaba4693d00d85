"""The data host (group ``postgres``, also ``redis``) as a client of the air-gapped site.

It pulls from the site registry with skopeo (installed from the bundle repository) over TLS with the site CA and
the registry password, and is refused without either; PostgreSQL with pgvector and Redis ACL, both installed
from the bundle, answer over the network.
"""

import json

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("postgres")

REGISTRY = "%s:5000" % onprem_verify.address(onprem_verify.host_names("registry")[0])  # no DNS on the internal network
BUNDLE = json.loads((onprem_verify.bundle_dir() / "bundle.json").read_text(encoding="utf-8"))
ONE = [image for image in BUNDLE["images"] if image["ref"] == "docker.io/app/one:1.0"]


@pytest.fixture(scope="module")
def skopeo(client):
    """skopeo on the client (from the bundle repository), the site CA in a cert dir and a login.

    Returns the paths on the client: ``{"cert_dir": directory holding the site CA, "auth": skopeo auth file}``.
    """
    client.host.check_output("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo")
    ca = client.put(onprem_verify.site_ca(), "certs/ca.crt", mode="0644")
    cert_dir = ca.rsplit("/", 1)[0]
    auth = onprem_verify.CLIENT_DIR + "/auth.json"
    result = client.run("skopeo login --authfile %s --cert-dir %s --username onprem --password-stdin %s < %s",
                        auth, cert_dir, REGISTRY, client.secret("site", "registry", "onprem"))
    assert result.rc == 0, result.stderr
    return {"cert_dir": cert_dir, "auth": auth}


@pytest.mark.parametrize("path, user, group, mode", onprem_verify.POSTGRESQL_FILES + onprem_verify.REDIS_FILES)
def test_file_owner_and_mode(host, path, user, group, mode):
    """PostgreSQL and Redis configuration, TLS, ACL and backup files with their owner, group and mode."""
    assert onprem_verify.owner_mode(host, path) == (user, group, mode)


@pytest.mark.parametrize("unit", onprem_verify.POSTGRESQL_UNITS + ["redis-server.service"])
def test_unit_enabled_and_running(host, unit):
    """PostgreSQL, its backup timer and Redis are enabled and active."""
    service = host.service(unit)
    assert service.is_enabled
    assert service.is_running


@pytest.mark.parametrize("spec", ["tcp://0.0.0.0:5432", "tcp://0.0.0.0:6379"])
def test_listening_socket(host, spec):
    """PostgreSQL and Redis listen on every IPv4 address."""
    assert host.socket(spec).is_listening


def test_pull_with_ca_and_credentials(client, skopeo):
    """app/one:1.0 is pulled over TLS with auth, at the digest bundle.json records."""
    cert_dir, auth = skopeo["cert_dir"], skopeo["auth"]
    assert len(ONE) == 1, [image["ref"] for image in BUNDLE["images"]]
    inspected = json.loads(client.host.check_output("skopeo inspect --cert-dir %s --authfile %s docker://%s/app/one:1.0", cert_dir, auth, REGISTRY))
    assert inspected["Digest"] == ONE[0]["digest"]
    client.host.check_output("skopeo copy --src-cert-dir %s --authfile %s docker://%s/app/one:1.0 oci:%s/pulled:one",
                             cert_dir, auth, REGISTRY, onprem_verify.CLIENT_DIR)
    index = json.loads(client.host.file(onprem_verify.CLIENT_DIR + "/pulled/index.json").content_string)
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == ["one"]


def test_without_credentials_the_registry_refuses(client, skopeo):
    """An anonymous request is refused by the registry (htpasswd)."""
    cert_dir = skopeo["cert_dir"]
    result = client.host.run("skopeo inspect --raw --cert-dir %s docker://%s/app/one:1.0", cert_dir, REGISTRY)
    assert result.rc != 0
    assert "authentication required" in result.stderr.lower() or "unauthorized" in result.stderr.lower(), result.stderr


def test_without_the_site_ca_tls_fails(client, skopeo):
    """Without the site CA the client refuses the registry's certificate."""
    auth = skopeo["auth"]
    result = client.host.run("skopeo inspect --raw --authfile %s docker://%s/app/one:1.0", auth, REGISTRY)
    assert result.rc != 0
    assert "x509" in result.stderr or "certificate" in result.stderr, result.stderr


def test_pgvector_knn_over_tls(client):
    """psql as app over TLS (verify-full, site CA): a KNN query with pgvector from the bundle."""
    result = client.psql(client.name, "CREATE TABLE IF NOT EXISTS v (id int, e vector(3)); TRUNCATE v;"
                                      " INSERT INTO v VALUES (1, '[1,2,3]'), (2, '[9,9,9]');"
                                      " SELECT id FROM v ORDER BY e <-> '[1,2,4]' LIMIT 1")
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines()[-1:] == ["1"]


def test_redis_acl_allowed_key(client):
    """As the ACL user app, a key in ~app:* is written."""
    assert client.redis_cli(client.name, "SET", "app:k", "v").stdout.strip() == "OK"


def test_redis_acl_other_key_refused(client):
    """A key outside app's pattern is refused."""
    result = client.redis_cli(client.name, "SET", "other:k", "v")
    assert "NOPERM" in result.stdout + result.stderr

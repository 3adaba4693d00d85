"""PostgreSQL + pgvector as the client host (group ``clients``) sees it over the network.

TLS with ``sslmode=verify-full`` against the site CA, the ``app`` user's generated password, a pgvector
HNSW KNN query; plain TCP, a wrong password and a CA other than the site's are refused.
"""

import pytest

import onprem_verify

testinfra_hosts = onprem_verify.hosts("clients")

SERVER = onprem_verify.host_names("postgres")[0]


@pytest.fixture(scope="module")
def psql(client):
    """``psql(sql, **options)``: ``Client.psql`` against the server, with psql installed on the client first."""
    client.host.check_output("command -v psql || { DEBIAN_FRONTEND=noninteractive apt-get update -qq"
                             " && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client; }")
    return lambda sql, **options: client.psql(SERVER, sql, **options)


def test_pgvector_knn_over_tls_verify_full(psql):
    """As ``app`` over TLS (verify-full): the vector extension, an HNSW index and the nearest row."""
    result = psql("DROP TABLE IF EXISTS items;"
                  " CREATE TABLE items (id int PRIMARY KEY, name text, embedding vector(3));"
                  " INSERT INTO items VALUES (1, 'near', '[1,1,1]'), (2, 'far', '[9,9,9]'), (3, 'middle', '[4,4,4]');"
                  " CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);"
                  " SELECT extname FROM pg_extension WHERE extname = 'vector';"
                  " SELECT name FROM items ORDER BY embedding <-> '[1.2,0.9,1.1]' LIMIT 1;"
                  " SHOW ssl;")
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines() == ["vector", "near", "on"]


def test_session_is_tls(psql):
    """The session itself is encrypted (pg_stat_ssl), with TLS 1.2 or newer."""
    result = psql("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert result.rc == 0, result.stderr
    ssl, version = result.stdout.strip().split("|")
    assert ssl == "t"
    assert version in ("TLSv1.2", "TLSv1.3")


def test_password_encryption_is_scram(psql):
    """The server hashes passwords with scram-sha-256."""
    result = psql("SELECT current_setting('password_encryption')")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "scram-sha-256"


def test_plain_tcp_is_refused(psql):
    """A connection without TLS from the network matches no pg_hba.conf rule."""
    result = psql("SELECT 1", sslmode="disable")
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr


def test_wrong_password_is_refused(psql):
    """A wrong password is refused (scram-sha-256 over TLS)."""
    result = psql("SELECT 1", wrong_password=True)
    assert result.rc != 0
    assert "password authentication failed" in result.stderr


def test_certificate_not_from_the_site_ca_is_refused(psql):
    """verify-full against the system CAs instead of the site CA fails: the certificate check is real."""
    result = psql("SELECT 1", rootcert="/etc/ssl/certs/ca-certificates.crt")
    assert result.rc != 0
    assert "certificate verify failed" in result.stderr

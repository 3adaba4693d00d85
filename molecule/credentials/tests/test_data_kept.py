"""Data written under the previous release survive the upgrade and its credential-layout move (issue 8 §5):
prepare.yml wrote 1000 rows with pgvector embeddings and 100 Redis keys with the previous release; after this
checkout converged, the table's count and checksum equal those of the same rows computed afresh, and every key
is there, read with the moved password of ``app``.
"""

import onprem_verify

HOST = onprem_verify.host_names("postgres")[0]

EXPECTED = ("SELECT count(*) = 1000 AND md5(string_agg(id || ':' || embedding::text, ',' ORDER BY id)) = "
            "(SELECT md5(string_agg(i || ':' || format('[%s,%s,%s]', i, i * 2, i % 7)::vector::text, ',' ORDER BY i)) "
            "FROM generate_series(1, 1000) i) FROM items")


def test_rows_and_vectors_kept():
    """count(*) and an md5 over every row in id order match the rows the previous release stored."""
    host = onprem_verify.get_host(HOST)
    out = host.check_output("runuser -u postgres -- psql -d appdb -v ON_ERROR_STOP=1 -Atc %s", EXPECTED)
    assert out == "t"


def test_redis_keys_kept():
    """MGET of app:k1..app:k100 as app (its moved password) returns v1..v100."""
    client = onprem_verify.Client(onprem_verify.get_host(HOST))
    res = client.redis_cli(HOST, "MGET", *["app:k%d" % i for i in range(1, 101)])
    assert res.rc == 0, res.stderr
    assert res.stdout.split() == ["v%d" % i for i in range(1, 101)]

"""The platform role's Secrets and ingress TLS, built for real on this host (no cluster).

Runs the real ``playbooks/platform.yml`` (role ``onprem.stack.platform``) with
``platform_apply: false``: validation, the credential lookups, the data-layer URLs and
the certificates from the site CA run exactly as on a site; only the steps that need a
cluster (install, apply, releases) are off. A second play of the test's own playbook
writes the role's fact ``__platform_secret_objects`` (the v1 Secret definitions it
would apply) into the test's temporary directory, and the test checks them:

- database URL: ``sslmode=require`` (and ``verify-full`` with ``sslrootcert``), the
  password the postgresql role uses (generated file, or the supplied one, percent-encoded);
- Redis URL: ``rediss://`` when ``redis_tls_enabled`` on the redis host, ``redis://`` otherwise;
- the site CA, inline values, files; generated secrets 0600 under ``stack_credentials_dir``;
- TLS Secrets: SANs equal to the hosts, signed by the site CA (``openssl verify``),
  key matching the certificate; a user-supplied certificate used as is;
- the site CA in every namespace the role manages, once each: a ConfigMap and an Opaque
  Secret (fact ``__platform_site_ca_objects``) with ``ca.crt`` equal to the CA file, under
  ``platform_site_ca_name``; none with ``platform_site_ca_objects: false``;
- nothing secret in the output (``-v``), and a rerun changes nothing.

Tests that check the same input share its run (module fixtures ``built`` and ``plain``).

Every host uses the local connection (the CI host stands in for each of them).
"""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from skips import skip_missing_tool, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUPPLIED_PG_PASSWORD = "S3cret/with:odd@chars?&"


def _inventory(tmp: Path, redis_tls: bool) -> Path:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inv = {"all": {"hosts": {
        "k3s-1": dict(local),
        "db-1": dict(local, ansible_host="10.20.0.41",
                     postgresql_users=[{"name": "app"}, {"name": "given", "password": SUPPLIED_PG_PASSWORD}],
                     postgresql_databases=[{"name": "appdb", "owner": "app"}, {"name": "other", "owner": "given"}]),
        "cache-1": dict(local, ansible_host="10.20.0.42", redis_tls_enabled=redis_tls, redis_port=6380,
                        redis_acl_users=[{"name": "app"}]),
    }, "children": {"k3s_server": {"hosts": {"k3s-1": {}}}, "postgres": {"hosts": {"db-1": {}}},
                    "redis": {"hosts": {"cache-1": {}}}}}}
    path = tmp / "inventory" / "hosts.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inv), encoding="utf-8")
    return path


PLATFORM_VARS = {
    "platform_apply": False,
    "platform_namespaces": [{"name": "app", "labels": {"team": "ai"}}],
    "platform_secrets": [
        {"name": "app-db", "namespace": "app", "data": {
            "url": {"from": {"database_url": {"database": "appdb", "user": "app"}}},
            "url-verify": {"from": {"database_url": {"database": "appdb", "user": "app", "sslmode": "verify-full",
                                                     "sslrootcert": "/etc/ssl/db-ca/ca.crt"}}},
            "given-url": {"from": {"database_url": {"database": "other", "user": "given", "scheme": "postgres"}}},
            "password": {"from": {"database_password": {"user": "app"}}},
            "ca.crt": {"from": {"site_ca": True}},
        }},
        {"name": "app-redis", "namespace": "app", "data": {
            "url": {"from": {"redis_url": {"user": "app", "db": 0}}},
            "url-ca": {"from": {"redis_url": {"user": "app", "db": 0, "params": {
                "ssl_cert_reqs": "required", "ssl_ca_certs": "/etc/ssl/site/ca.crt"}}}},
            "password": {"from": {"redis_password": {"user": "app"}}},
        }},
        {"name": "app-auth", "namespace": "app", "data": {
            "jwt-secret": {"from": {"credential": "site/platform/app-jwt", "length": 64}},
            "admin-password": {"from": {"credential": "site/platform/app-admin"}},
            "oidc-client-secret": {"value": "inline-oidc-secret-value"},
            "motd": {"from": {"file": "files/motd.txt"}},
        }},
    ],
    "platform_releases": [{
        "name": "demo", "namespace": "demo", "chart": str(REPO / "examples" / "charts" / "onprem-demo"),
        "tls": [{"secret": "demo-tls", "hosts": ["demo.example.internal", "*.apps.example.internal"]}],
    }],
}


def _run(tmp: Path, redis_tls: bool = True, extra: dict | None = None, *args: str):
    """Run playbooks/platform.yml (apply off), then dump the objects; return (proc, objects by ns/name)."""
    inventory = _inventory(tmp, redis_tls)
    (inventory.parent / "files").mkdir(exist_ok=True)
    (inventory.parent / "files" / "motd.txt").write_text("welcome\n", encoding="utf-8")
    out = tmp / "objects.json"
    play = tmp / "play.yml"
    play.write_text(yaml.safe_dump([
        {"ansible.builtin.import_playbook": str(REPO / "playbooks" / "platform.yml")},
        {"name": "Test | the Secret objects the role built", "hosts": "k3s_server[0]", "gather_facts": False,
         "tasks": [
             {"name": "Test | write them for the assertions", "no_log": True, "ansible.builtin.copy": {
                 "dest": str(out), "mode": "0600", "content": "{{ __platform_secret_objects | to_json }}"}},
             {"name": "Test | write the site CA objects for the assertions", "no_log": True,
              "ansible.builtin.copy": {"dest": str(tmp / "site-ca.json"), "mode": "0600",
                                       "content": "{{ __platform_site_ca_objects | to_json }}"}}]},
    ]), encoding="utf-8")
    variables = dict(PLATFORM_VARS, stack_credentials_dir=str(tmp / "credentials"), ansible_become=False,
                     **(extra or {}))
    (tmp / "vars.json").write_text(json.dumps(variables), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(play), "-e", f"@{tmp / 'vars.json'}",
                           "-v", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    objects = {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o for o in json.loads(out.read_text())}
    return proc, objects


def _data(obj: dict) -> dict:
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def _credential(tmp: Path, *parts: str) -> str:
    return (tmp / "credentials" / Path(*parts)).read_text(encoding="utf-8").rstrip("\n")


def _recap_changed(stdout: str) -> dict:
    recap = stdout.split("PLAY RECAP", 1)[1]
    return {line.split()[0]: int(line.split("changed=")[1].split()[0]) for line in recap.splitlines() if "changed=" in line}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real run with Redis TLS on, then a rerun; (tmp, first proc, objects, rerun proc, rerun objects)."""
    if not tool_path("openssl"):
        skip_missing_tool("openssl", "apt-get install openssl")
    tmp = tmp_path_factory.mktemp("platform")
    first, objects = _run(tmp)
    again, objects_again = _run(tmp)
    return tmp, first, objects, again, objects_again


def test_database_url_has_sslmode_require_and_the_postgresql_password(built):
    tmp, objects = built[0], built[2]
    data = _data(objects["app/app-db"])
    password = _credential(tmp, "db-1", "postgresql", "app")
    assert data["url"] == f"postgresql://app:{password}@10.20.0.41:5432/appdb?sslmode=require"
    assert data["password"] == password
    verify = urlsplit(data["url-verify"])
    assert parse_qs(verify.query) == {"sslmode": ["verify-full"], "sslrootcert": ["/etc/ssl/db-ca/ca.crt"]}
    # A supplied password is used as given (percent-encoded in the URL) and writes no file.
    given = urlsplit(data["given-url"])
    assert given.scheme == "postgres" and given.hostname == "10.20.0.41" and given.port == 5432
    assert unquote(given.password) == SUPPLIED_PG_PASSWORD and given.path == "/other"
    assert not (tmp / "credentials" / "db-1" / "postgresql" / "given").exists()


def test_secret_carries_the_site_ca(built):
    tmp, objects = built[0], built[2]
    ca = (tmp / "credentials" / "pki" / "ca.crt").read_text(encoding="utf-8")
    assert _data(objects["app/app-db"])["ca.crt"] == ca
    assert ca.startswith("-----BEGIN CERTIFICATE-----")


def _site_ca_objects(tmp: Path) -> dict:
    """The site CA objects of the last run, by (kind, namespace, name)."""
    return {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o
            for o in json.loads((tmp / "site-ca.json").read_text(encoding="utf-8"))}


def test_site_ca_configmap_and_secret_in_every_managed_namespace(built):
    """app (platform_namespaces and platform_secrets: once) and demo (the release and its tls)."""
    tmp = built[0]
    ca = (tmp / "credentials" / "pki" / "ca.crt").read_text(encoding="utf-8")
    objects = _site_ca_objects(tmp)
    assert sorted(objects) == [("ConfigMap", "app", "site-ca"), ("ConfigMap", "demo", "site-ca"),
                               ("Secret", "app", "site-ca"), ("Secret", "demo", "site-ca")]
    for (kind, _ns, _name), obj in objects.items():
        assert obj["apiVersion"] == "v1"
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "onprem-stack",
                                             "app.kubernetes.io/component": "site-ca"}
        if kind == "ConfigMap":
            assert obj["data"] == {"ca.crt": ca}
        else:
            assert obj["type"] == "Opaque" and _data(obj) == {"ca.crt": ca}
    # The file holds the CA certificate the TLS Secrets verify against.
    assert ca.startswith("-----BEGIN CERTIFICATE-----") and _data(built[2]["demo/demo-tls"])["ca.crt"] == ca
    # The Secret applies with the others' no_log: its data stays out of the output.
    for proc in (built[1], built[3]):
        assert objects[("Secret", "app", "site-ca")]["data"]["ca.crt"] not in proc.stdout + proc.stderr


def test_site_ca_objects_named_and_switched_off(tmp_path):
    """A namespace alone is enough for the CA and its objects, under platform_site_ca_name;
    platform_site_ca_objects: false makes none (and no CA, when nothing else needs it)."""
    only = {"platform_secrets": [], "platform_releases": [], "platform_tls": [],
            "platform_namespaces": [{"name": "only"}]}
    _run(tmp_path, extra=dict(only, platform_site_ca_name="trust.example.com"))
    ca = (tmp_path / "credentials" / "pki" / "ca.crt").read_text(encoding="utf-8")
    objects = _site_ca_objects(tmp_path)
    assert sorted(objects) == [("ConfigMap", "only", "trust.example.com"), ("Secret", "only", "trust.example.com")]
    assert objects[("ConfigMap", "only", "trust.example.com")]["data"]["ca.crt"] == ca
    off = tmp_path / "off"
    off.mkdir()
    _run(off, extra=dict(only, platform_site_ca_objects=False))
    assert _site_ca_objects(off) == {}
    assert not (off / "credentials" / "pki" / "ca.crt").exists()


def test_redis_url_is_rediss_with_tls(built):
    tmp, objects = built[0], built[2]
    data = _data(objects["app/app-redis"])
    password = _credential(tmp, "cache-1", "redis", "app")
    assert data["url"] == f"rediss://app:{password}@10.20.0.42:6380/0"
    assert data["url-ca"] == (f"rediss://app:{password}@10.20.0.42:6380/0"
                              "?ssl_cert_reqs=required&ssl_ca_certs=%2Fetc%2Fssl%2Fsite%2Fca.crt")
    assert data["password"] == password


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """One real run with Redis TLS off, the app-redis Secret alone and, in namespace web, a TLS
    Secret from the user's own certificate and key (platform_tls with cert/key);
    (tmp, objects, the directory of the user's certificate)."""
    if not tool_path("openssl"):
        skip_missing_tool("openssl", "apt-get install openssl")
    tmp = tmp_path_factory.mktemp("plain")
    own = tmp / "inventory" / "certs"
    own.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=own.example.com", "-addext", "subjectAltName=DNS:own.example.com", "-days", "2",
                    "-keyout", str(own / "own.key"), "-out", str(own / "own.crt")], capture_output=True, check=True)
    objects = _run(tmp, redis_tls=False, extra={
        "platform_secrets": [s for s in PLATFORM_VARS["platform_secrets"] if s["name"] == "app-redis"],
        "platform_releases": [],
        "platform_tls": [{"secret": "own-tls", "namespace": "web", "hosts": ["own.example.com"],
                          "cert": "certs/own.crt", "key": "certs/own.key"}]})[1]
    return tmp, objects, own


def test_redis_url_is_plain_without_tls(plain):
    """redis_tls_enabled false on the redis host: the Redis URL is redis://."""
    tmp, objects = plain[0], plain[1]
    password = _credential(tmp, "cache-1", "redis", "app")
    assert _data(objects["app/app-redis"])["url"] == f"redis://app:{password}@10.20.0.42:6380/0"


def test_generated_and_inline_secrets(built):
    tmp, objects = built[0], built[2]
    data = _data(objects["app/app-auth"])
    assert data["jwt-secret"] == _credential(tmp, "site", "platform", "app-jwt") and len(data["jwt-secret"]) == 64
    assert data["admin-password"] == _credential(tmp, "site", "platform", "app-admin")
    assert len(data["admin-password"]) == 32 and data["admin-password"].isalnum()
    assert data["oidc-client-secret"] == "inline-oidc-secret-value"
    assert data["motd"] == "welcome\n"
    assert objects["app/app-auth"]["type"] == "Opaque"


def test_credentials_are_private(built):
    tmp = built[0]
    creds = tmp / "credentials"
    files = [p for p in creds.rglob("*") if p.is_file()]
    secrets = [p for p in files if p.suffix not in (".crt",)]
    assert {p.relative_to(creds).as_posix() for p in secrets} >= {
        "db-1/postgresql/app", "cache-1/redis/app", "site/platform/app-jwt", "site/platform/app-admin",
        "pki/ca.key", "pki/platform/demo/demo-tls.key"}
    for path in secrets:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    for path in [p for p in creds.rglob("*") if p.is_dir()] + [creds]:
        assert oct(path.stat().st_mode & 0o777) == "0o700", path


def test_tls_secret_is_signed_by_the_site_ca_for_exactly_its_hosts(built):
    tmp, objects = built[0], built[2]
    secret = objects["demo/demo-tls"]
    assert secret["type"] == "kubernetes.io/tls"
    data = _data(secret)
    cert, key, ca = tmp / "tls.crt", tmp / "tls.key", tmp / "ca.crt"
    cert.write_text(data["tls.crt"])
    key.write_text(data["tls.key"])
    ca.write_text(data["ca.crt"])
    assert data["ca.crt"] == (tmp / "credentials" / "pki" / "ca.crt").read_text()
    san = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    names = sorted(n.strip().removeprefix("DNS:") for n in san.splitlines()[1].split(","))
    assert names == sorted(["demo.example.internal", "*.apps.example.internal"])
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(cert)], capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0 and verify.stdout.strip().endswith(": OK"), verify.stdout + verify.stderr
    pub_cert = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"], capture_output=True,
                              text=True, check=True).stdout
    pub_key = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], capture_output=True, text=True,
                             check=True).stdout
    assert pub_cert == pub_key, "tls.key does not belong to tls.crt"
    purpose = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-ext", "extendedKeyUsage"],
                             capture_output=True, text=True, check=True).stdout
    assert "TLS Web Server Authentication" in purpose


def test_nothing_secret_in_the_output(built):
    tmp, first, objects, again = built[:4]
    secrets = [_credential(tmp, "db-1", "postgresql", "app"), _credential(tmp, "cache-1", "redis", "app"),
               _credential(tmp, "site", "platform", "app-jwt"), _credential(tmp, "site", "platform", "app-admin"),
               "inline-oidc-secret-value", SUPPLIED_PG_PASSWORD]
    key_body = _data(objects["demo/demo-tls"])["tls.key"].splitlines()[1]
    for proc in (first, again):
        text = proc.stdout + proc.stderr
        for value in secrets + [key_body] + [v for o in objects.values() for v in o["data"].values()]:
            assert value not in text, "a secret value reached the ansible output"
    assert "censored due to no_log" in first.stdout


def test_rerun_changes_nothing_and_keeps_the_values(built):
    first, objects, again, objects_again = built[1:5]
    assert _recap_changed(first.stdout)["k3s-1"] >= 1
    # The test's own dump task writes the same file again: no change either.
    assert _recap_changed(again.stdout) == {"k3s-1": 0}, again.stdout[-3000:]
    assert objects_again == objects


def test_own_certificate_is_used_as_is(plain):
    """platform_tls with cert/key: the files go into the Secret unchanged, without the site CA
    (no ca.crt, no certificate issued for it)."""
    tmp, objects, own = plain
    data = _data(objects["web/own-tls"])
    assert data == {"tls.crt": (own / "own.crt").read_text(), "tls.key": (own / "own.key").read_text()}
    assert not (tmp / "credentials" / "pki" / "platform" / "web").exists()
